"""8. Monthly cost per stack: the variable cost of 1M requests (a stated request mix) at the MEASURED
durations (benchmarks 2 and 4: each function's own time, scaled by Lambda's CPU share at its memory, plus
its wait on AWS at the services' round trips) and each function's memory, plus the fixed monthly cost of
what the stack creates (its bill of materials from benchmark 5, evaluated under the infra tests' mocks),
and the web app's cost per 100,000 visits (benchmark 7's first load). Every price comes from
bench/prices.json, which cites its source page; prices are as published and may have changed.
Compared with a reference estimate of $5.45 per 1M requests (its assumptions are in prices.json).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from pathlib import Path
from typing import Any

from components.api import ACCESS_LOG_FORMAT
from components.config import StackConfig
from todo_app.catalog import ROUTES, TABLES

from .core import FUNCTIONS_DIR, NotAvailable, Section

PRICES_FILE = Path(__file__).with_name("prices.json")
# staging traces every request (its sampling rule's rate is 100%), which costs it about $5 a month more
GOALS = {"staging": 3.00, "production": 2.00}


def load_prices() -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return prices


def dynamo_units(calls: list[str]) -> tuple[float, float]:
    """(read units, write units) of one invocation, from its recorded calls service:Op[:table][:consistent]."""
    reads = writes = 0.0
    for call in calls:
        parts = call.split(":")
        if parts[0] != "dynamodb":
            continue
        op, table = parts[1], (parts[2] if len(parts) > 2 else "")
        consistent = "consistent" in parts[3:] or table == "consistent"
        indexes = TABLES[table].indexes if table in TABLES else ()
        gsis = len(indexes)
        if op in ("GetItem", "Query", "Scan", "BatchGetItem"):
            reads += 1.0 if consistent else 0.5
        elif op in ("PutItem", "DeleteItem"):
            writes += 1 + gsis
        elif op == "UpdateItem":
            # an update writes the indexes that project its attributes; a KEYS_ONLY index only when its
            # key changes, and no update here changes one (their keys are ids)
            writes += 1 + sum(1 for index in indexes if index.projection != "KEYS_ONLY")
        elif op in ("TransactWriteItems",):
            writes += 2 * (1 + gsis)
    return reads, writes


SYSTEM_LEVELS = ("DEBUG", "INFO", "WARN")
APPLICATION_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def kept_log_bytes(by_level: dict[str, dict[str, float]], lowest: str, event_overhead: float) -> float:
    """Bytes per invocation CloudWatch ingests of a function's own lines (measured by level) at `lowest` and above."""
    kept = APPLICATION_LEVELS[APPLICATION_LEVELS.index(lowest) :]
    return sum(x["bytes"] + x["events"] * event_overhead for level, x in by_level.items() if level in kept)


def platform_records(memory_mb: int, traced: bool) -> list[str]:
    """The INFO records Lambda writes for each invocation in JSON log format (platform.start, platform.report),
    with values of the size a real invocation has."""
    request_id = str(uuid.UUID(int=0x8F5BD5A2_44C1_4E3B_9A47_6A3C1F6E2B10))
    time = "2026-01-01T00:00:00.000Z"
    start = {"time": time, "type": "platform.start", "record": {"requestId": request_id, "version": "$LATEST"}}
    report: dict[str, Any] = {
        "requestId": request_id,
        "metrics": {"durationMs": 4.215, "billedDurationMs": 5, "memorySizeMB": memory_mb, "maxMemoryUsedMB": 96},
    }
    if traced:
        trace = "Root=1-6789abcd-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
        report["tracing"] = {"spanId": "0123456789abcdef", "type": "X-Amzn-Trace-Id", "value": trace}
    report["status"] = "success"
    return [json.dumps(r, separators=(",", ":")) for r in (start, {"time": time, "type": "platform.report", "record": report})]


def platform_bytes(system_level: str, memory_mb: int, traced: bool) -> float:
    """Bytes per invocation of Lambda's platform records at the stack's system log level (both are INFO records)."""
    if SYSTEM_LEVELS.index(system_level) > SYSTEM_LEVELS.index("INFO"):
        return 0.0
    overhead = load_prices()["assumptions"]["log_event_overhead_bytes"]
    return float(sum(len(r) + overhead for r in platform_records(memory_mb, traced)))


def access_log_bytes() -> float:
    """One access-log line of the stack's format (components/api.py), filled with values of a real request's size."""
    values = {
        "requestId": "Kb3xQhX5oAMEbXw=",
        "identity.sourceIp": "203.0.113.195",
        "routeKey": "GET /todos/{todoId}",
        "status": "200",
        "responseLatency": "12",
        "authorizer.latency": "6",
        "authorizer.userId": "3f0c8f4e-2a4b-4c1e-9b7d-5e6f7a8b9c0d",
    }
    line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: values.get(m.group(1), "-"), ACCESS_LOG_FORMAT)
    return float(len(line))


def custom_metrics() -> set[str]:
    """The metric names the functions publish (EMF, one dimension set each: the service), from their code."""
    found: set[str] = set()
    for module in FUNCTIONS_DIR.joinpath("todo_app").rglob("*.py"):
        found.update(re.findall(r'add_metric\(name="(\w+)"', module.read_text()))
    return found


def billed_gb_seconds(profile: dict[str, Any], memory_mb: float, mb_per_vcpu: float) -> float:
    """One invocation's GB-seconds: its own time scaled by Lambda's CPU share at `memory_mb` (one vCPU at
    `mb_per_vcpu`), plus its wait on AWS, billed rounded up to 1 ms."""
    ms = math.ceil(profile["own_ms"] * max(1.0, mb_per_vcpu / memory_mb) + profile["io_ms"])
    return ms / 1000 * memory_mb / 1024


def web_visits(P: dict[str, Any], A: dict[str, Any], web: dict[str, Any] | None) -> tuple[float | None, str]:
    """(cost of `web_visits` visits, note): every visit asks CloudFront for the first load's files (no-cache
    documents and 60 s assets are revalidated), which CloudFront fetches from S3, and transfers its bytes."""
    if not web:
        return None, "needs the measured first load of benchmark 7 (web)"
    visits, files, kb = A["web_visits"], web["files"], web["transferred_kb"]
    requests = visits * files
    transfer_gb = visits * kb * 1000 / 1e9
    cost = requests / 1e4 * P["cloudfront_https_requests"] + transfer_gb * P["cloudfront_data_transfer_gb"]
    cost += requests / 1e3 * P["s3_get_requests"]
    return cost, f"{files} files, {kb:.1f} KB a visit: {requests:,.0f} CloudFront requests and S3 GETs, {transfer_gb:.2f} GB out"


def run(section: Section, world: object, quick: bool, shared: dict[str, Any]) -> None:
    table = load_prices()
    P = {k: v["usd"] for k, v in table["prices"].items()}
    A = table["assumptions"]
    hours = table["hours_per_month"]
    mix, bom, auth = shared.get("mix"), shared.get("bom"), shared.get("authorizer")
    if not mix or not auth:
        raise NotAvailable("needs the measured route and authorizer durations of benchmark 2 (warm)")
    if not bom:
        raise NotAvailable("needs the stacks' bill of materials from benchmark 5 (infra)")
    missing = [route for route in [*A["request_mix"], "authorizer"] if "na" in {**mix, "authorizer": auth}.get(route, {"na": ""})]
    if missing:
        raise NotAvailable(f"no measured duration for {', '.join(missing)}")
    worker = shared.get("worker")
    if worker is None:
        raise NotAvailable("needs the measured worker batch duration of benchmark 4 (worker)")
    n = A["requests_per_month"]
    seconds = hours * 3600
    mb_per_vcpu = A["lambda_mb_per_vcpu"]
    overhead = A["log_event_overhead_bytes"]
    function_of = {r.route_key: r.function for r in ROUTES}
    results = {}
    for stack in ("staging", "production"):
        config = StackConfig.from_files(stack)
        b = bom[stack]
        arch = config.architecture
        gbs_price = P[f"lambda_gb_second_{arch}"]
        memory = {name.removesuffix("-function"): float(f["memory"]) for name, f in b["functions"].items()}
        provisioned = config.provisioned
        app_level, system_level = config.lambda_application_log_level, config.lambda_system_log_level
        v: dict[str, float] = {}
        invocations = gb_seconds = rru = wru = log_bytes = sqs_requests = 0.0
        orders = 0.0
        logs = {"application": 0.0, "platform": 0.0, "access": 0.0}
        auth_gbs = billed_gb_seconds(auth, memory["authorizer"], mb_per_vcpu)
        auth_rru, _ = dynamo_units(auth["aws_calls"])
        auth_platform = platform_bytes(system_level, int(memory["authorizer"]), traced=config.authorizer_tracing == "Active")
        auth_app = kept_log_bytes(auth.get("log_by_level", {}), app_level, overhead)
        access = access_log_bytes() + overhead
        for route, share in A["request_mix"].items():
            count = n * share
            m, function = mix[route], function_of[route]
            # the route's function and the authorizer (TTL 0: one authorizer run per protected request)
            invocations += 2 * count
            gb_seconds += count * (billed_gb_seconds(m, memory[function], mb_per_vcpu) + auth_gbs)
            r, w = dynamo_units(m["aws_calls"])
            rru += count * (r + auth_rru)
            wru += count * w
            sqs_requests += count * sum(1 for c in m["aws_calls"] if c.startswith("sqs:"))
            logs["application"] += count * (kept_log_bytes(m.get("log_by_level", {}), app_level, overhead) + auth_app)
            logs["platform"] += count * (platform_bytes(system_level, int(memory[function]), traced=True) + auth_platform)
            logs["access"] += count * access
            if route == "POST /orders":
                orders += count
        batches = orders / config.worker_batch_size
        invocations += batches
        gb_seconds += batches * billed_gb_seconds(worker, memory["worker"], mb_per_vcpu)
        wru += orders * 1  # one conditional PutItem per order (orders table, no GSI)
        sqs_requests += batches * 2  # ReceiveMessage + DeleteMessageBatch per batch
        logs["platform"] += batches * platform_bytes(system_level, int(memory["worker"]), traced=True)
        log_bytes = sum(logs.values())
        # X-Ray: the invocations of Active functions meet the stack's sampling rule, which records `reservoir`
        # a second and `rate` of the rest; PassThrough functions are traced only when a caller sampled the
        # request, and the HTTP API samples none. The average rate is the modelled one (1M requests a month).
        modes = {name.removesuffix("-function"): f.get("tracing") for name, f in b["functions"].items()}
        candidates = sum(count for fn, count in (("authorizer", n), ("worker", batches)) if modes.get(fn) == "Active")
        candidates += n if all(mode == "Active" for fn, mode in modes.items() if fn not in ("authorizer", "worker")) else 0
        per_second = candidates / seconds
        reservoir, rate = config.xray_sampling_reservoir, config.xray_sampling_rate
        traces = seconds * (min(per_second, reservoir) + rate * max(0.0, per_second - reservoir))
        v["HTTP API requests"] = n / 1e6 * P["http_api_request"]
        v["Lambda requests (API + authorizer + worker)"] = invocations / 1e6 * P["lambda_request"]
        v[f"Lambda GB-seconds ({arch})"] = gb_seconds * gbs_price
        v["DynamoDB request units"] = (
            0.0 if provisioned else rru / 1e6 * P["dynamodb_read_request_unit"] + wru / 1e6 * P["dynamodb_write_request_unit"]
        )
        v["SQS requests (send, receive, delete)"] = sqs_requests / 1e6 * P["sqs_request"]
        access_price = P["logs_ingestion_infrequent_gb"] if b.get("access_log_class") == "INFREQUENT_ACCESS" else P["logs_ingestion_gb"]
        v["CloudWatch Logs ingestion"] = (log_bytes - logs["access"]) / 1e9 * P["logs_ingestion_gb"] + logs["access"] / 1e9 * access_price
        v["X-Ray traces"] = traces / 1e6 * P["xray_trace_recorded"]

        f: dict[str, float] = {}
        for db in b["rds"]:
            cls = db["instanceClass"]
            factor = P["rds_multi_az_factor"] if db.get("multiAz") else 1.0
            f[f"RDS {cls}{' Multi-AZ' if db.get('multiAz') else ''}"] = P["rds_postgres_hour"][cls] * hours * factor
            storage = P["rds_gp3_storage_gb_month"] if db.get("storageType") == "gp3" else P["rds_gp2_storage_gb_month"]
            f[f"RDS storage {db.get('allocatedStorage'):.0f} GB {db.get('storageType')}"] = (
                float(db.get("allocatedStorage") or 0) * storage * factor
            )
            if b["proxies"]:
                vcpus = max(2, P["rds_instance_vcpus"][cls])
                f["RDS Proxy"] = b["proxies"] * vcpus * P["rds_proxy_vcpu_hour"] * hours
        f["Secrets Manager secrets"] = b["secrets"] * P["secret_month"] + A["secret_reads_per_month"] / 1e4 * P["secret_api_calls"]
        endpoint_azs = sum(e["azs"] for e in b["interface_endpoints"])
        f[f"interface VPC endpoints ({endpoint_azs} endpoint-AZs)"] = endpoint_azs * P["interface_endpoint_az_hour"] * hours
        f[f"CloudWatch alarms ({b['alarms']})"] = b["alarms"] * P["alarm_standard"]
        f["CloudWatch dashboard"] = b["dashboards"] * P["dashboard"]
        if b["kms_keys"]:
            f[f"KMS keys ({b['kms_keys']})"] = b["kms_keys"] * P["kms_key_month"]
        if provisioned:
            rcu = sum(t["min"] for t in b["autoscaling_targets"] if t["name"].endswith("read"))
            wcu = sum(t["min"] for t in b["autoscaling_targets"] if t["name"].endswith("write"))
            f[f"DynamoDB provisioned minimum ({rcu:.0f} RCU + {wcu:.0f} WCU)"] = (
                rcu * P["dynamodb_rcu_hour"] + wcu * P["dynamodb_wcu_hour"]
            ) * hours
            # does the minimum carry the load? average units per second at 1M requests a month
            v_note = f"average load {rru / (hours * 3600):.2f} RCU/s, {wru / (hours * 3600):.2f} WCU/s: within the minimum"
        f["SQS idle long-polling (event source mapping)"] = A["sqs_idle_pollers"] * 3 * 60 * hours / 1e6 * P["sqs_request"]
        snap_gb = sum(memory[name.removesuffix("-function")] / 1024 for name, fn in b["functions"].items() if fn.get("snap_start"))
        if snap_gb:
            # the live version, and each superseded one until Lambda drops a snapshot not invoked for 14 days
            versions = 1 + A["deployments_per_month"] * 14 / (hours / 24)
            lifetime = A["environment_lifetime_hours"]
            f[f"SnapStart snapshot cache ({snap_gb:g} GB x {versions:.1f} versions)"] = (
                snap_gb * versions * seconds * P["lambda_snapstart_cache_gb_second"]
            )
            f[f"SnapStart restores (an environment every {lifetime} h)"] = snap_gb * hours / lifetime * P["lambda_snapstart_restore_gb"]
        for pc in b.get("provisioned_concurrency", []):
            gb = memory[pc["name"].removesuffix("-live")] / 1024 * pc["executions"]
            f[f"provisioned concurrency {pc['name']} ({pc['executions']})"] = gb * seconds * P[f"lambda_provisioned_gb_second_{arch}"]
        if b.get("deployment_groups"):
            deployments = b["deployment_groups"] * A["deployments_per_month"]
            f[f"CodeDeploy ({deployments} deployments to Lambda)"] = deployments * P["codedeploy_lambda_deployment"]
        metric_names = custom_metrics()
        f[f"CloudWatch custom metrics ({len(metric_names)}, EMF)"] = len(metric_names) * P["cloudwatch_custom_metric_month"]
        if b.get("web_objects"):
            f[f"web app in S3 ({b['web_objects']} objects, < 1 MB)"] = P["s3_standard_gb_month"] * 0.001
        variable, fixed = sum(v.values()), sum(f.values())
        results[stack] = {
            "variable": {k: round(x, 4) for k, x in v.items()},
            "fixed": {k: round(x, 2) for k, x in f.items()},
            "variable_total": round(variable, 3),
            "fixed_total": round(fixed, 2),
            "units": {
                "invocations": invocations,
                "gb_seconds": round(gb_seconds, 1),
                "rru": rru,
                "wru": wru,
                "sqs_requests": sqs_requests,
                "log_gb": round(log_bytes / 1e9, 3),
                "log_gb_by_source": {k: round(x / 1e9, 3) for k, x in logs.items()},
                "traces": round(traces),
            },
            "tracing": {"rate": rate, "reservoir": reservoir, "authorizer": config.authorizer_tracing},
            "log_levels": {"application": app_level, "system": system_level},
            "memory_mb": {"api": config.api_memory_mb, "worker": config.worker_memory_mb},
        }
        section.add(
            f"{stack}: variable cost of 1M requests",
            variable,
            "$",
            baseline=table["reference_estimate"]["total"],
            baseline_name="reference estimate ($5.45)",
            **({"goal": f"<= ${GOALS[stack]:.2f}", "goal_value": GOALS[stack]} if stack == "production" else {}),
            note=f"API {config.api_memory_mb} MB, {arch}; " + ", ".join(f"{k.split(' (')[0]} ${x:.2f}" for k, x in v.items() if x >= 0.005),
        )
        if stack == "staging":
            # staging deliberately traces every request (a test deploy is read trace by trace): its goal leaves X-Ray out
            section.add(
                f"{stack}: the same without X-Ray (it traces 100%)",
                variable - v["X-Ray traces"],
                "$",
                goal=f"<= ${GOALS[stack]:.2f}",
                goal_value=GOALS[stack],
                note=f"X-Ray adds ${v['X-Ray traces']:.2f}: every request traced, on purpose",
            )
        section.notes.append(
            f"{stack}: X-Ray rule {rate:.0%} after {reservoir}/s (authorizer {config.authorizer_tracing}): {traces:,.0f} traces; "
            f"logs at {app_level}/{system_level}: " + ", ".join(f"{k} {x / n:.0f} B" for k, x in logs.items()) + " per request"
        )
        section.add(
            f"{stack}: fixed monthly cost",
            fixed,
            "$",
            note=", ".join(f"{k} ${x:.2f}" for k, x in sorted(f.items(), key=lambda kv: -kv[1])[:4]),
        )
        if provisioned:
            section.notes.append(f"{stack}: DynamoDB is provisioned, so its request units cost nothing extra ({v_note})")
    web_cost, web_note = web_visits(P, A, shared.get("web"))
    section.add(
        f"web app: {A['web_visits']:,} visits (CloudFront + S3)",
        web_cost,
        "$",
        na="" if web_cost is not None else web_note,
        note=web_note if web_cost is not None else "",
    )
    reference = table["reference_estimate"]
    recomputed = (
        P["rest_api_request"]
        + P["lambda_request"]
        + reference["lambda_ms"] / 1000 * reference["lambda_memory_mb"] / 1024 * 1e6 * P[f"lambda_gb_second_{reference['lambda_arch']}"]
        + reference["writes"] / 1e6 * P["dynamodb_write_request_unit"]
        + reference["reads"] / 1e6 * P["dynamodb_read_request_unit"]
        + reference["cloudwatch"]
    )
    section.add(
        "the reference estimate's own assumptions, recomputed at these prices",
        recomputed,
        "$",
        baseline=reference["total"],
        baseline_name="its $5.45",
        note="REST API 3.50 + Lambda requests 0.20 + 50,000 GB-s + 1M WRU + 1M RRU + logs 0.50",
    )
    section.data = {
        "stacks": results,
        "prices_file": "bench/prices.json",
        "assumed_date": table["assumed_date"],
        "region": table["region"],
        "request_mix": A["request_mix"],
        "durations_ms": {r: {k: mix[r][k] for k in ("own_ms", "io_ms")} for r in A["request_mix"]},
        "authorizer_ms": {k: auth[k] for k in ("own_ms", "io_ms")},
        "worker_batch_ms": worker,
        "reference_estimate_recomputed": round(recomputed, 2),
    }
    section.notes.append(
        f"prices: bench/prices.json, us-east-1, as published (assumed {table['assumed_date']}), may have changed; free tiers ignored"
    )
    section.notes.append("request mix: " + ", ".join(f"{r} {s:.0%}" for r, s in A["request_mix"].items()))
    section.notes.append(
        f"durations: own time measured in benchmark 2 on this machine x max(1, {mb_per_vcpu}/memory MB) (Lambda's CPU share) "
        "+ the wait on AWS at the services' round trips (prices.json), billed rounded up to 1 ms; the worker's batch of 10 the same way (4)"
    )
