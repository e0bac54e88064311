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
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.api import ACCESS_LOG_FORMAT
from components.config import COLD_START_KINDS, StackConfig
from todo_app.catalog import FUNCTIONS, ROUTES, TABLES

from .core import FUNCTIONS_DIR, NotAvailable, Section

PRICES_FILE = Path(__file__).with_name("prices.json")
RESULTS_FILE = Path(__file__).with_name("results.json")
# staging traces every request (its sampling rule's rate is 100%), which costs it about $5 a month more
GOALS = {"staging": 3.00, "production": 2.00}
# issue 17: the fixed monthly cost of each stack
FIXED_GOALS = {"staging": 1.00, "production": 150.00}
PRODUCTION_AIM = 120.00
# the monthly totals printed per stack: requests a month at today's request mix
SCALES = (0, 1_000_000, 10_000_000, 100_000_000)
# the design before issue 17 (an RDS instance, RDS Proxy in production, a Secrets Manager interface endpoint,
# alarms without a subscriber, a staging KMS key, SnapStart everywhere): bench/results.json of its last full
# run (2026-12-03), as issue 17 quotes it
OLD_DESIGN: dict[str, dict[str, float]] = {
    "staging": {"fixed": 39.89, "variable": 13.04},
    "production": {"fixed": 393.82, "variable": 1.94},
}
OLD_SECRET_READERS = 5  # the SQL functions behind the API that read the master secret


def load_prices() -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return prices


def dynamo_units_by_target(calls: list[str]) -> dict[str, list[float]]:
    """[read units, write units] of one invocation per table or index ("table" or "table/index"), from its
    recorded calls service:Op[:table][:consistent]. Reads are counted on the table (a Query's label does not
    say which index it reads); a write is counted on the table and on each index it writes."""
    units: dict[str, list[float]] = {}

    def add(target: str, read: float = 0.0, write: float = 0.0) -> None:
        u = units.setdefault(target, [0.0, 0.0])
        u[0] += read
        u[1] += write

    for call in calls:
        parts = call.split(":")
        if parts[0] != "dynamodb":
            continue
        op, table = parts[1], (parts[2] if len(parts) > 2 else "")
        consistent = "consistent" in parts[3:] or table == "consistent"
        indexes = TABLES[table].indexes if table in TABLES else ()
        if op in ("GetItem", "Query", "Scan", "BatchGetItem"):
            add(table, read=1.0 if consistent else 0.5)
        elif op in ("PutItem", "DeleteItem"):
            add(table, write=1)
            for index in indexes:
                add(f"{table}/{index.name}", write=1)
        elif op == "UpdateItem":
            # an update writes the indexes that project its attributes; a KEYS_ONLY index only when its
            # key changes, and no update here changes one (their keys are ids)
            add(table, write=1)
            for index in indexes:
                if index.projection != "KEYS_ONLY":
                    add(f"{table}/{index.name}", write=1)
        elif op in ("TransactWriteItems",):
            add(table, write=2)
            for index in indexes:
                add(f"{table}/{index.name}", write=2)
    return units


def dynamo_units(calls: list[str]) -> tuple[float, float]:
    """(read units, write units) of one invocation, from its recorded calls service:Op[:table][:consistent]."""
    units = dynamo_units_by_target(calls).values()
    return sum(u[0] for u in units), sum(u[1] for u in units)


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


def hour_fraction(per_hour: float) -> float:
    """The fraction of a month's hours with at least one event, for events as a Poisson stream of `per_hour`
    an hour: what a metric published only when something happens is billed for (prorated by hour)."""
    return 1 - math.exp(-per_hour) if per_hour > 0 else 0.0


LABELS = {
    "mix": "warm route durations (2)",
    "authorizer": "authorizer (2)",
    "worker": "worker batch (4)",
    "web": "web first load (7)",
    "cold_init_ms": "cold init (1)",
}


def measured_inputs(shared: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The measured figures the model needs (warm routes, authorizer, worker batch, web first load) and where
    each was measured: from this run's benchmarks, else from bench/results.json (its warm and web sections, or
    the inputs a previous cost section saved, with their origin), so that `--only infra,cost` runs without
    re-measuring everything."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    inputs: dict[str, Any] = {k: shared.get(k) for k in LABELS}
    origin = {k: f"{now} (this run)" for k, v in inputs.items() if v is not None}
    missing = [k for k, v in inputs.items() if v is None]
    if not missing:
        return inputs, origin, []
    try:
        previous = json.loads(RESULTS_FILE.read_text())
    except (OSError, ValueError):
        return inputs, origin, []
    sections = previous.get("sections", {})
    where = f"{previous.get('generated')} ({previous.get('mode')} run)"
    saved = sections.get("cost", {}).get("data", {})
    found: dict[str, Any] = dict(saved.get("inputs") or {})
    found_origin: dict[str, str] = {k: (saved.get("inputs_measured") or {}).get(k, where) for k in found}
    if "worker" not in found and saved.get("worker_batch_ms"):
        found["worker"], found_origin["worker"] = saved["worker_batch_ms"], where
    warm = sections.get("warm", {}).get("data", {}).get("cost_mix")
    if warm:
        found["mix"] = {k: v for k, v in warm.items() if k != "authorizer"}
        found["authorizer"] = warm.get("authorizer")
        found_origin["mix"] = found_origin["authorizer"] = where
    web = sections.get("web", {})
    runs = web.get("data", {}).get("runs")
    load = next((r["value"] for r in web.get("rows", []) if r["name"].startswith("first load")), None)
    if runs and load is not None:
        found["web"] = {"files": sorted(r["web_requests"] for r in runs)[len(runs) // 2], "transferred_kb": load}
        found_origin["web"] = where
    cold = sections.get("cold", {}).get("data", {}).get("net_median_ms")
    if cold:
        found["cold_init_ms"] = {k.removeprefix("handler:"): v for k, v in cold.items() if k.startswith("handler:")}
        found_origin["cold_init_ms"] = where
    taken = [k for k in missing if found.get(k) is not None]
    for k in taken:
        inputs[k], origin[k] = found[k], found_origin[k].replace(" (this run)", "")
    notes = [
        f"not measured in this run, taken from bench/results.json: {', '.join(LABELS[k] for k in taken if origin[k] == when)}, measured {when}"
        for when in dict.fromkeys(origin[k] for k in taken)
    ]
    return inputs, origin, notes


def first_crossing(cheaper: Any, start: float = 1e3, stop: float = 1e11) -> float | None:
    """The smallest requests a month on a 1% grid from `start` to `stop` where cheaper(n) holds, or None."""
    n = start
    while n <= stop:
        if cheaper(n):
            return n
        n *= 1.01
    return None


def requests_label(n: float) -> str:
    if n == 0:
        return "0"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:.0f}"


def run(section: Section, world: object, quick: bool, shared: dict[str, Any]) -> None:  # noqa: C901, PLR0915  # not split yet: bench/ is outside issue 18's scope
    table = load_prices()
    P = {k: v["usd"] for k, v in table["prices"].items()}
    A = table["assumptions"]
    hours = table["hours_per_month"]
    inputs, measured, input_notes = measured_inputs(shared)
    mix, auth, worker, bom = inputs["mix"], inputs["authorizer"], inputs["worker"], shared.get("bom")
    if not mix or not auth:
        raise NotAvailable("needs the measured route and authorizer durations of benchmark 2 (warm), or a results.json that has them")
    if not bom:
        # benchmark 5 did not run: evaluate the program for its bill of materials (never a stale one)
        from .infra import STACKS, evaluate_in_child

        evaluated = evaluate_in_child(0)
        bom = {s: evaluated[s]["bom"] for s in STACKS}
        input_notes.append("bill of materials: the program evaluated under the infra mocks by this section (benchmark 5 not run)")
    missing = [route for route in [*A["request_mix"], "authorizer"] if "na" in {**mix, "authorizer": auth}.get(route, {"na": ""})]
    if missing:
        raise NotAvailable(f"no measured duration for {', '.join(missing)}")
    if worker is None:
        raise NotAvailable("needs the measured worker batch duration of benchmark 4 (worker)")
    seconds = hours * 3600
    mb_per_vcpu = A["lambda_mb_per_vcpu"]
    overhead = A["log_event_overhead_bytes"]
    function_of = {r.route_key: r.function for r in ROUTES}
    mix_shares: dict[str, float] = A["request_mix"]
    # the database: its share of the requests, the statements and the database time (vCPU-seconds) of one request
    sql_share = sum(share for route, share in mix_shares.items() if route in A["sql_statements"])
    sql_statements = sum(share * A["sql_statements"].get(route, 0) for route, share in mix_shares.items())
    io_per_request = sum(share * A["aurora_io"].get(route, 0) for route, share in mix_shares.items())
    db_seconds = sum(share * mix[route]["own_ms"] / 1000 for route, share in mix_shares.items() if route in A["sql_statements"])
    # DynamoDB per table and index: average units of one request (the mix, its authorizer, the worker's write)
    per_target: dict[str, list[float]] = {}
    for route, share in mix_shares.items():
        for calls in (mix[route]["aws_calls"], auth["aws_calls"]):
            for target, (r, w) in dynamo_units_by_target(calls).items():
                u = per_target.setdefault(target, [0.0, 0.0])
                u[0] += share * r
                u[1] += share * w
    orders_share = mix_shares.get("POST /orders", 0.0)
    per_target.setdefault("orders", [0.0, 0.0])[1] += orders_share  # the worker's conditional PutItem per order
    metric_names = custom_metrics()
    results: dict[str, Any] = {}
    crossovers: dict[str, Any] = {}
    dynamodb_load: dict[str, Any] = {}

    def one_stack(stack: str) -> None:  # noqa: C901, PLR0912, PLR0915  # not split yet: bench/ is outside issue 18's scope
        """Model one stack: its rows and notes, and its entries of results, crossovers and dynamodb_load."""
        config = StackConfig.from_files(stack)
        b = bom[stack]
        arch = config.architecture
        gbs_price = P[f"lambda_gb_second_{arch}"]
        memory = {name.removesuffix("-function"): float(f["memory"]) for name, f in b["functions"].items()}
        provisioned = config.provisioned
        app_level, system_level = config.lambda_application_log_level, config.lambda_system_log_level
        auth_gbs = billed_gb_seconds(auth, memory["authorizer"], mb_per_vcpu)
        auth_rru, _ = dynamo_units(auth["aws_calls"])
        auth_platform = platform_bytes(system_level, int(memory["authorizer"]), traced=config.authorizer_tracing == "Active")
        auth_untraced = platform_bytes(system_level, int(memory["authorizer"]), traced=False)
        auth_app = kept_log_bytes(auth.get("log_by_level", {}), app_level, overhead)
        access = access_log_bytes() + overhead
        modes = {name.removesuffix("-function"): f.get("tracing") for name, f in b["functions"].items()}
        reservoir, rate = config.xray_sampling_reservoir, config.xray_sampling_rate
        access_price = P["logs_ingestion_infrequent_gb"] if b.get("access_log_class") == "INFREQUENT_ACCESS" else P["logs_ingestion_gb"]

        def variable_at(n: float, traced: bool = True) -> tuple[dict[str, float], dict[str, Any]]:
            """The costs that grow with the requests (linear, but for X-Ray's reservoir), and their units.

            `traced` False: the same stack with X-Ray off, which also drops the `tracing` field from every
            platform.report record Lambda writes for a traced invocation."""
            invocations = gb_seconds = rru = wru = sqs_requests = orders = 0.0
            logs = {"application": 0.0, "platform": 0.0, "access": 0.0}
            for route, share in mix_shares.items():
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
                logs["platform"] += count * (
                    platform_bytes(system_level, int(memory[function]), traced=traced) + (auth_platform if traced else auth_untraced)
                )
                logs["access"] += count * access
                if route == "POST /orders":
                    orders += count
            batches = orders / config.worker_batch_size
            invocations += batches
            gb_seconds += batches * billed_gb_seconds(worker, memory["worker"], mb_per_vcpu)
            wru += orders * 1  # one conditional PutItem per order (orders table, no GSI)
            sqs_requests += batches * 2  # ReceiveMessage + DeleteMessageBatch per batch
            logs["platform"] += batches * platform_bytes(system_level, int(memory["worker"]), traced=traced)
            log_bytes = sum(logs.values())
            # X-Ray: the invocations of Active functions meet the stack's sampling rule, which records `reservoir`
            # a second and `rate` of the rest; PassThrough functions are traced only when a caller sampled the
            # request, and the HTTP API samples none. The average rate is the modelled one.
            candidates = sum(count for fn, count in (("authorizer", n), ("worker", batches)) if modes.get(fn) == "Active")
            candidates += n if all(mode == "Active" for fn, mode in modes.items() if fn not in ("authorizer", "worker", "migrate")) else 0
            per_second = candidates / seconds
            traces = seconds * (min(per_second, reservoir) + rate * max(0.0, per_second - reservoir)) if traced else 0.0
            v: dict[str, float] = {}
            v["HTTP API requests"] = n / 1e6 * P["http_api_request"]
            v["Lambda requests (API + authorizer + worker)"] = invocations / 1e6 * P["lambda_request"]
            v[f"Lambda GB-seconds ({arch})"] = gb_seconds * gbs_price
            v["DynamoDB request units"] = (
                0.0 if provisioned else rru / 1e6 * P["dynamodb_read_request_unit"] + wru / 1e6 * P["dynamodb_write_request_unit"]
            )
            v["SQS requests (send, receive, delete)"] = sqs_requests / 1e6 * P["sqs_request"]
            v["CloudWatch Logs ingestion"] = (log_bytes - logs["access"]) / 1e9 * P["logs_ingestion_gb"] + logs[
                "access"
            ] / 1e9 * access_price
            v["X-Ray traces"] = traces / 1e6 * P["xray_trace_recorded"]
            if b["aurora"]:
                v["Aurora I/O (row locks and writes)"] = n * io_per_request / 1e6 * P["aurora_io_requests"]
            units = {
                "invocations": invocations,
                "gb_seconds": round(gb_seconds, 1),
                "rru": rru,
                "wru": wru,
                "sqs_requests": sqs_requests,
                "log_gb": round(log_bytes / 1e9, 3),
                "log_gb_by_source": {k: round(x / 1e9, 3) for k, x in logs.items()},
                "log_bytes_per_request": {k: round(x / n) for k, x in logs.items()} if n else {},
                "traces": round(traces),
            }
            return v, units

        # -- Aurora Serverless v2: the minimum's ACU-hours are fixed; what a load adds (or, where it pauses, the
        # hours it is awake) is by the hour
        def aurora_at(n: float) -> tuple[float, float, dict[str, Any]]:
            """(fixed ACU cost, ACU cost the load adds, detail) of the stack's clusters at n requests a month."""
            fixed_acu = load_acu_cost = 0.0
            detail: dict[str, Any] = {}
            for c in b["aurora"]:
                instances = max(1, c["instances"])
                load_acu = n * db_seconds / seconds / P["aurora_acu_vcpus"]  # the average ACUs the load needs
                price = P["aurora_serverless_v2_acu_hour"] * hours * instances  # readers (tier 0-1) follow the writer
                if c["min_acu"] > 0:
                    fixed_acu += c["min_acu"] * price
                    load_acu_cost += max(0.0, load_acu - c["min_acu"]) * price
                    awake = 1.0
                else:
                    pause = float(c["seconds_until_auto_pause"] or 300)
                    awake = 1 - math.exp(-n * sql_share / seconds * pause)
                    load_acu_cost += max(A["aurora_awake_min_acu"] * awake, load_acu) * price
                detail = {"load_acu": load_acu, "awake_fraction": awake, "over_max": load_acu > c["max_acu"]}
            return fixed_acu, load_acu_cost, detail

        def hourly_at(n: float) -> dict[str, float]:
            """Costs billed by the hour something is used: metrics only in the hours they are published, and
            Aurora's ACUs above its minimum (or while awake, where it pauses)."""
            h: dict[str, float] = {}
            h[f"CloudWatch custom metrics ({len(metric_names)}, EMF, in the hours published)"] = (
                len(metric_names) * P["cloudwatch_custom_metric_month"] * hour_fraction(n / hours)
            )
            if b["detailed_metric_routes"]:
                per_route = P["api_gateway_detailed_metrics_per_route"]
                h[f"API Gateway detailed metrics ({len(b['detailed_metric_routes'])} routes x {per_route:g})"] = sum(
                    per_route * P["cloudwatch_custom_metric_month"] * hour_fraction(n * mix_shares.get(route, 0.0) / hours)
                    for route in b["detailed_metric_routes"]
                )
            if b["aurora"]:
                pauses = any(c["min_acu"] == 0 for c in b["aurora"])
                h["Aurora ACUs while awake (paused otherwise)" if pauses else "Aurora ACUs above the minimum"] = aurora_at(n)[1]
            return h

        v, units = variable_at(A["requests_per_month"])
        n = A["requests_per_month"]

        f: dict[str, float] = {}
        for db in b["rds"]:  # the old design's instance, if a BOM still has one
            cls = db["instanceClass"]
            factor = P["rds_multi_az_factor"] if db.get("multiAz") else 1.0
            f[f"RDS {cls}{' Multi-AZ' if db.get('multiAz') else ''}"] = P["rds_postgres_hour"][cls] * hours * factor
            storage = P["rds_gp3_storage_gb_month"] if db.get("storageType") == "gp3" else P["rds_gp2_storage_gb_month"]
            f[f"RDS storage {db.get('allocatedStorage'):.0f} GB {db.get('storageType')}"] = (
                float(db.get("allocatedStorage") or 0) * storage * factor
            )
            if b["proxies"]:
                f["RDS Proxy"] = b["proxies"] * max(2, P["rds_instance_vcpus"][cls]) * P["rds_proxy_vcpu_hour"] * hours
        data_api_requests = 0.0
        for c in b["aurora"]:
            instances = max(1, c["instances"])
            shape = f"{instances} x db.serverless" + (f" ({c['readers']} reader)" if c["readers"] else "")
            if c["min_acu"] > 0:
                f[f"Aurora {shape} at the minimum {c['min_acu']:g} ACU"] = aurora_at(0)[0]
            else:
                f[f"Aurora {shape} at 0 ACU (paused when idle)"] = 0.0
                # each deployment's migration wakes it: the migration and the pause delay at the awake minimum
                awake_h = A["migrations_per_month"] * (float(c["seconds_until_auto_pause"] or 300) + 60) / 3600
                f[f"Aurora awake for migrations ({A['migrations_per_month']} a month)"] = (
                    awake_h * A["aurora_awake_min_acu"] * instances * P["aurora_serverless_v2_acu_hour"]
                )
            f[f"Aurora storage ({A['aurora_storage_gb']:g} GB used)"] = A["aurora_storage_gb"] * P["aurora_storage_gb_month"]
            # backups of the retention period up to the cluster's size are free; a database this small, changing
            # little, stays within it
            f["Aurora backups (within the free 100% of the cluster's storage)"] = 0.0
            if c["data_api"]:
                data_api_requests += A["migrations_per_month"] * A["data_api_requests_per_migration"]
        if data_api_requests:
            f["RDS Data API (migrations)"] = data_api_requests / 1e6 * P["rds_data_api_requests"]
        f[f"Secrets Manager secrets ({b['secrets']})"] = (
            b["secrets"] * P["secret_month"] + data_api_requests / 1e4 * P["secret_api_calls"] if b["secrets"] else 0.0
        )
        endpoint_azs = sum(e["azs"] for e in b["interface_endpoints"])
        if endpoint_azs:
            f[f"interface VPC endpoints ({endpoint_azs} endpoint-AZs)"] = endpoint_azs * P["interface_endpoint_az_hour"] * hours
        f[f"CloudWatch alarms ({b['alarms']}, {b['alarm_metrics']} metrics)"] = b["alarm_metrics"] * P["alarm_standard"]
        if b["autoscaling_policies"]:
            per_policy = P["dynamodb_autoscaling_alarms_per_policy"]
            f[f"DynamoDB autoscaling's own alarms ({per_policy:g} x {b['autoscaling_policies']} policies)"] = (
                per_policy * b["autoscaling_policies"] * P["alarm_standard"]
            )
        if b["dashboards"]:
            f[f"CloudWatch dashboards ({b['dashboards']}, {'+'.join(map(str, b['dashboard_metrics']))} metrics)"] = (
                b["dashboards"] * P["dashboard"]
            )
        if b["kms_keys"]:
            rotations = 2 * b["kms_rotating_keys"]
            f[f"KMS keys ({b['kms_keys']}, + {rotations} rotations)"] = (
                b["kms_keys"] * P["kms_key_month"] + rotations * P["kms_key_rotation_month"]
            )
        min_rcu = min_wcu = 0.0
        if provisioned:
            min_rcu = sum(t["min"] for t in b["autoscaling_targets"] if t["name"].endswith("read"))
            min_wcu = sum(t["min"] for t in b["autoscaling_targets"] if t["name"].endswith("write"))
            f[f"DynamoDB provisioned minimum ({min_rcu:.0f} RCU + {min_wcu:.0f} WCU)"] = (
                min_rcu * P["dynamodb_rcu_hour"] + min_wcu * P["dynamodb_wcu_hour"]
            ) * hours
        f["SQS idle long-polling (event source mapping)"] = A["sqs_idle_pollers"] * 3 * 60 * hours / 1e6 * P["sqs_request"]
        mails = A["reset_mails_per_month"]
        f[f"Password-reset mail ({mails:,} a month: SES, the outbox writes, the mailer)"] = mails * (
            P["ses_email"]
            + (P["dynamodb_write_request_unit"] + P["lambda_request"]) / 1e6
            + 0.1 * memory.get("mailer", 256) / 1024 * P["lambda_gb_second_arm64"]
        )
        snap = [fn for fn in b["snap_start_functions"] if fn in memory]
        snap_gb = sum(memory[fn] / 1024 for fn in snap)
        # kept versions: the live one and the previous one where the deployment trigger deletes superseded
        # versions; otherwise each superseded one until Lambda drops a snapshot not invoked for 14 days
        unpruned_versions = 1 + A["deployments_per_month"] * 14 / (hours / 24)
        kept = {fn: A["snapstart_versions_pruned"] if fn in b.get("pruned_functions", []) else unpruned_versions for fn in snap}
        versions = sum(memory[fn] / 1024 * kept[fn] for fn in snap) / snap_gb if snap_gb else 0.0
        if snap_gb:
            lifetime = A["environment_lifetime_hours"]
            f[f"SnapStart snapshot cache ({len(snap)} functions, {snap_gb:g} GB x {versions:.1f} versions)"] = (
                snap_gb * versions * seconds * P["lambda_snapstart_cache_gb_second"]
            )
            f[f"SnapStart restores (an environment every {lifetime} h)"] = snap_gb * hours / lifetime * P["lambda_snapstart_restore_gb"]
        # SnapStart per function where the stack uses it: what its cache and restores cost a month (at 2 kept
        # versions) against the cold init it saves (measured, scaled by Lambda's CPU share at its memory)
        snapstart_choice: dict[str, Any] = {}
        if config.cold_start_mitigation == "snapstart":
            cold_ms = inputs.get("cold_init_ms") or {}
            environments = hours / A["environment_lifetime_hours"]
            for fn in sorted(x for x in memory if FUNCTIONS.get(x) and FUNCTIONS[x].kind in COLD_START_KINDS):
                gb = memory[fn] / 1024
                monthly = (
                    gb * A["snapstart_versions_pruned"] * seconds * P["lambda_snapstart_cache_gb_second"]
                    + gb * environments * P["lambda_snapstart_restore_gb"]
                )
                init = cold_ms.get(fn)
                scaled = init * max(1.0, mb_per_vcpu / memory[fn]) if init is not None else None
                snapstart_choice[fn] = {"on": fn in snap, "memory_mb": memory[fn], "monthly": round(monthly, 2), "init_ms": scaled}
                section.add(
                    f"{stack}: SnapStart on {fn} ({'on' if fn in snap else 'off'})",
                    monthly,
                    "$",
                    note=(f"saves up to ~{scaled:.0f} ms of init" if scaled is not None else "init not measured")
                    + f" on each of >= {environments:.0f} cold starts a month (an environment every {A['environment_lifetime_hours']} h)",
                )
        for pc in b.get("provisioned_concurrency", []):
            gb = memory[pc["name"].removesuffix("-live")] / 1024 * pc["executions"]
            f[f"provisioned concurrency {pc['name']} ({pc['executions']})"] = gb * seconds * P[f"lambda_provisioned_gb_second_{arch}"]
        if b.get("deployment_groups"):
            deployments = b["deployment_groups"] * A["deployments_per_month"]
            f[f"CodeDeploy ({deployments} deployments to Lambda)"] = deployments * P["codedeploy_lambda_deployment"]
        if b.get("web_objects"):
            f[f"web app in S3 ({b['web_objects']} objects, < 1 MB)"] = P["s3_standard_gb_month"] * 0.001
        variable, fixed = sum(v.values()), sum(f.values())
        totals: dict[str, float] = {}
        hourly: dict[str, dict[str, float]] = {}
        for scale in SCALES:
            hourly[str(scale)] = {k: round(x, 4) for k, x in hourly_at(scale).items()}
            totals[str(scale)] = round(fixed + sum(variable_at(scale)[0].values()) + sum(hourly_at(scale).values()), 2)
        readers = [fn for fn in b["secret_readers"] if fn != "migrate"]

        # -- DynamoDB: each provisioned table and index's average load at 1M requests a month against its minimum,
        # and where provisioned capacity (at this stack's minimum, and at 1 unit) beats on-demand
        util = config.dynamodb_target_utilization / 100
        targets = [t.key for t in TABLES.values() if not t.always_on_demand]
        targets += [f"{t.key}/{i.name}" for t in TABLES.values() if not t.always_on_demand for i in t.indexes]
        load = {
            t: {
                "rcu_per_s": round(n * per_target.get(t, [0.0, 0.0])[0] / seconds, 4),
                "wcu_per_s": round(n * per_target.get(t, [0.0, 0.0])[1] / seconds, 4),
            }
            for t in targets
        }
        needs = {t: max(1, math.ceil(max(x["rcu_per_s"], x["wcu_per_s"]) / util)) for t, x in load.items()}
        sized = max(needs.values())

        def on_demand(requests: float) -> float:
            return sum(
                requests * (u[0] * P["dynamodb_read_request_unit"] + u[1] * P["dynamodb_write_request_unit"]) / 1e6
                for t, u in per_target.items()
                if t in targets
            )

        def provisioned_cost(requests: float, minimum: float) -> float:
            cost = 4 * 2 * len(targets) * P["alarm_standard"]  # a read and a write policy per target, 4 alarms each
            for t in targets:
                r, w = per_target.get(t, [0.0, 0.0])
                rcu = max(minimum, math.ceil(requests * r / seconds / util))
                wcu = max(minimum, math.ceil(requests * w / seconds / util))
                cost += (rcu * P["dynamodb_rcu_hour"] + wcu * P["dynamodb_wcu_hour"]) * hours
            return cost

        configured_min = float(config.dynamodb_min_capacity)
        dyn_cross = {
            f"minimum {m:g}": first_crossing(lambda q, m=m: provisioned_cost(q, m) < on_demand(q)) for m in sorted({configured_min, 1.0})
        }
        dynamodb_load[stack] = {
            "per_target_at_1M": load,
            "minimum": configured_min if provisioned else None,
            "target_utilization": util,
            "needs_at_1M": needs,
            "busiest_needs": sized,
        }

        # -- an RDS instance instead of Serverless v2, for the measured load: its cost (Multi-AZ where the
        # stack has a reader) and the load its baseline CPU carries
        rds_cross: dict[str, Any] = {}
        if b["aurora"]:
            multi_az = any(c["readers"] for c in b["aurora"])
            factor = P["rds_multi_az_factor"] if multi_az else 1.0

            def serverless(requests: float) -> float:
                fixed_acu, load_acu, _ = aurora_at(requests)
                io = requests * io_per_request / 1e6 * P["aurora_io_requests"]
                return fixed_acu + load_acu + io + A["aurora_storage_gb"] * P["aurora_storage_gb_month"]

            for cls, baseline in P["rds_t4g_baseline_vcpus"].items():
                monthly = (P["rds_postgres_hour"][cls] * hours + 20 * P["rds_gp3_storage_gb_month"]) * factor
                capacity = baseline * seconds / db_seconds if db_seconds else math.inf
                cheaper_from = first_crossing(lambda q, m=monthly, cap=capacity: q <= cap and m < serverless(q), start=1.0)
                rds_cross[cls] = {
                    "monthly": round(monthly, 2),
                    "multi_az": multi_az,
                    "capacity_requests": capacity,
                    "cheaper_from": cheaper_from,
                    "cheaper_at_0": monthly < serverless(0),
                }
        crossovers[stack] = {"dynamodb_provisioned_beats_on_demand_from": dyn_cross, "rds_instance": rds_cross}
        aurora_detail = aurora_at(n)[2] if b["aurora"] else {}
        results[stack] = {
            "variable": {k: round(x, 4) for k, x in v.items()},
            "fixed": {k: round(x, 2) for k, x in f.items()},
            "hourly": hourly,
            "variable_total": round(variable, 3),
            "fixed_total": round(fixed, 2),
            "totals": totals,
            "units": units,
            "aurora_at_1M": aurora_detail,
            "secret_readers": readers,
            "snapstart": {"functions": snap, "gb": snap_gb, "versions": kept, "per_function": snapstart_choice},
            "tracing": {"rate": rate, "reservoir": reservoir, "authorizer": config.authorizer_tracing},
            "log_levels": {"application": app_level, "system": system_level},
            "memory_mb": {"api": config.api_memory_mb, "worker": config.worker_memory_mb},
        }
        hourly_1m = sum(hourly[str(n)].values()) if str(n) in hourly else sum(hourly_at(n).values())
        section.add(
            f"{stack}: variable cost of 1M requests",
            variable,
            "$",
            baseline=OLD_DESIGN[stack]["variable"],
            baseline_name=f"before issue 17 (${OLD_DESIGN[stack]['variable']:.2f})",
            **({"goal": f"<= ${GOALS[stack]:.2f}", "goal_value": GOALS[stack]} if stack == "production" else {}),
            note=f"API {config.api_memory_mb} MB, {arch}; "
            + ", ".join(f"{k.split(' (')[0]} ${x:.2f}" for k, x in v.items() if x >= 0.005)
            + f"; by the hour (metrics, Aurora) ${hourly_1m:.2f} more, in the totals",
        )
        if stack == "staging":
            # staging deliberately traces every request (a test deploy is read trace by trace): its goal leaves X-Ray out
            untraced = sum(variable_at(n, traced=False)[0].values())
            section.add(
                f"{stack}: the same without X-Ray (it traces 100%)",
                untraced,
                "$",
                goal=f"<= ${GOALS[stack]:.2f}",
                goal_value=GOALS[stack],
                note=f"X-Ray adds ${variable - untraced:.2f}: ${v['X-Ray traces']:.2f} of traces and the tracing field of each "
                "invocation's platform.report record; every request traced, on purpose",
            )
        section.notes.append(
            f"{stack}: X-Ray rule {rate:.0%} after {reservoir}/s (authorizer {config.authorizer_tracing}): {units['traces']:,.0f} traces; "
            f"logs at {app_level}/{system_level}: "
            + ", ".join(f"{k} {x} B" for k, x in units["log_bytes_per_request"].items())
            + " per request"
        )
        section.add(
            f"{stack}: fixed monthly cost",
            fixed,
            "$",
            baseline=OLD_DESIGN[stack]["fixed"],
            baseline_name=f"before issue 17 (${OLD_DESIGN[stack]['fixed']:.2f})",
            goal=f"<= ${FIXED_GOALS[stack]:.2f}",
            goal_value=FIXED_GOALS[stack],
            note=", ".join(f"{k} ${x:.2f}" for k, x in sorted(f.items(), key=lambda kv: -kv[1])[:4]),
        )
        for scale in SCALES:
            section.add(
                f"{stack}: monthly total at {requests_label(scale)} requests",
                totals[str(scale)],
                "$",
                note="fixed + variable + by the hour" if scale else "fixed only: nothing is used",
            )
        savings: list[tuple[str, float]] = []
        if provisioned:
            dyn_fixed = sum(x for k, x in f.items() if k.startswith("DynamoDB"))
            savings.append(
                (
                    f"on-demand DynamoDB (its minimum and autoscaling alarms; +${on_demand(n):.2f} of request units at 1M)",
                    dyn_fixed - on_demand(n),
                )
            )
        if snap_gb and versions > A["snapstart_versions_pruned"]:
            cache = next(x for k, x in f.items() if k.startswith("SnapStart snapshot cache"))
            savings.append(
                (
                    f"pruning superseded versions (SnapStart cache of {A['snapstart_versions_pruned']} versions, not {versions:.1f})",
                    cache * (1 - A["snapstart_versions_pruned"] / versions),
                )
            )
        if b["dashboards"]:
            savings.append(("no dashboard", b["dashboards"] * P["dashboard"]))
        if stack == "production":
            aurora_fixed = sum(x for k, x in f.items() if k.startswith("Aurora") and "at the minimum" in k)
            rest = fixed - aurora_fixed
            section.notes.append(
                f"production: the aim of ${PRODUCTION_AIM:.0f} fixed: the writer and the reader at the minimum are ${aurora_fixed:.2f} of "
                f"${fixed:.2f}; the other ${rest:.2f} is "
                + ", ".join(
                    f"{k.split(' (')[0]} ${x:.2f}"
                    for k, x in sorted(f.items(), key=lambda kv: -kv[1])
                    if not k.startswith("Aurora") and x >= 0.5
                )
                + ". What $120 would take: "
                + "; ".join(f"{what} -${saves:.2f}" for what, saves in savings)
                + f" (all of them: ${fixed - sum(x for _, x in savings):.2f})"
            )
        section.notes.append(
            f"{stack}: DynamoDB average load at 1M requests a month, per table/index (RCU/s, WCU/s) at {util:.0%} target utilization: "
            + ", ".join(f"{t} {x['rcu_per_s']:.3f}/{x['wcu_per_s']:.3f}" for t, x in load.items())
            + (f"; the minimum is {configured_min:g}" if provisioned else "; on-demand")
            + f"; at that utilization they need {', '.join(f'{t} {k}' for t, k in needs.items() if k > 1) or 'nothing above 1'}, the others 1"
        )
        busiest = max(load, key=lambda t: max(load[t]["rcu_per_s"], load[t]["wcu_per_s"]))
        section.add(
            f"{stack}: DynamoDB capacity the 1M load needs, busiest table/index",
            sized,
            "",
            note=f"{'minimum ' + format(configured_min, 'g') if provisioned else 'on-demand here'}; {busiest} "
            f"{load[busiest]['rcu_per_s']:.3f} RCU/s, {load[busiest]['wcu_per_s']:.3f} WCU/s at {util:.0%} target; "
            f"{sum(1 for k in needs.values() if k <= 1)} of {len(needs)} need 1",
        )
        for label, q in dyn_cross.items():
            section.add(
                f"{stack}: provisioned DynamoDB ({label}) beats on-demand from",
                q,
                "requests/month",
                na="" if q is not None else "never below 100B requests a month",
                note="these tables and indexes, today's mix; with autoscaling's alarms",
            )
        for cls, x in rds_cross.items():
            where = (
                "at every load up to its capacity"
                if x["cheaper_at_0"]
                else (f"from {requests_label(x['cheaper_from'])} requests/month" if x["cheaper_from"] else "at no load")
            )
            section.add(
                f"{stack}: {cls}{' Multi-AZ' if x['multi_az'] else ''} (${x['monthly']:.2f}) cheaper than Serverless v2",
                x["cheaper_from"] if not x["cheaper_at_0"] else 0.0,
                "requests/month",
                na="" if x["cheaper_from"] is not None or x["cheaper_at_0"] else "never, for the measured load",
                note=f"{where}; its baseline CPU carries {requests_label(x['capacity_requests'])} requests/month",
            )

    for stack in ("staging", "production"):
        one_stack(stack)
    readers_total = sum(len(results[s]["secret_readers"]) for s in results)
    section.add(
        "functions behind the API or queue that can read a secret (both stacks)",
        readers_total,
        "",
        baseline=OLD_SECRET_READERS,
        baseline_name="before issue 17 (5)",
        goal="= 0",
        goal_value=0,
        note="from the BOM's IAM policies: secretsmanager:GetSecretValue, the migrator excepted; "
        + "; ".join(f"{s}: {', '.join(results[s]['secret_readers']) or 'none'}" for s in results),
    )
    web_cost, web_note = web_visits(P, A, inputs["web"])
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
        "scales": list(SCALES),
        "crossovers": crossovers,
        "dynamodb_load": dynamodb_load,
        "database": {
            "sql_share": sql_share,
            "sql_statements_per_request": sql_statements,
            "db_ms_per_request": round(db_seconds * 1000, 4),
            "io_per_request": io_per_request,
            "acu_vcpus": P["aurora_acu_vcpus"],
            "acu_memory_gib": P["aurora_acu_memory_gib"],
        },
        "old_design": {**OLD_DESIGN, "secret_readers": OLD_SECRET_READERS},
        "prices_file": "bench/prices.json",
        "assumed_date": table["assumed_date"],
        "region": table["region"],
        "request_mix": A["request_mix"],
        "durations_ms": {r: {k: mix[r][k] for k in ("own_ms", "io_ms")} for r in A["request_mix"]},
        "authorizer_ms": {k: auth[k] for k in ("own_ms", "io_ms")},
        "worker_batch_ms": worker,
        "inputs": inputs,
        "inputs_measured": measured,
        "reference_estimate_recomputed": round(recomputed, 2),
    }
    section.notes.extend(input_notes)
    section.notes.append(
        f"prices: bench/prices.json, us-east-1, as published (assumed {table['assumed_date']}), may have changed; free tiers ignored "
        "(the account's 3 free dashboards too: the allowance is the account's, and a dashboard over 50 metrics is never free)"
    )
    section.notes.append("request mix: " + ", ".join(f"{r} {s:.0%}" for r, s in A["request_mix"].items()))
    section.notes.append(
        f"durations: own time measured in benchmark 2 on this machine x max(1, {mb_per_vcpu}/memory MB) (Lambda's CPU share) "
        "+ the wait on AWS at the services' round trips (prices.json), billed rounded up to 1 ms; the worker's batch of 10 the same way (4)"
    )
    section.notes.append(
        f"database: {sql_share:.0%} of requests run SQL ({sql_statements:.2f} statements a request), {db_seconds * 1000:.3f} ms of database time "
        f"a request (the SQL routes' whole own time: an upper bound); 1 ACU ~ {P['aurora_acu_memory_gib']} GiB with ~{P['aurora_acu_vcpus']} vCPU "
        "(AWS: 'approximately 2 GiB of memory, corresponding CPU'; the vCPU share is the r-class ratio, an approximation); "
        "readers in failover tier 0-1 follow the writer's capacity; where the minimum is 0 ACU, the database is awake a fraction "
        "1 - exp(-r T) of the time (r SQL requests a second, T the pause delay), at 0.5 ACU or what the load needs"
    )
    section.notes.append(
        "metrics are billed by the hour they are published ($0.30 a metric-month, prorated): EMF metrics and API Gateway's detailed "
        "metrics (6 a route) cost $0 at 0 requests; a route outside the mix is counted as publishing none"
    )


def unknown_resource_types(types: Iterable[str], prices: dict[str, Any] | None = None) -> list[str]:
    """The resource types (type tokens) the price table does not know: neither priced nor listed as free or
    usage-only. tests/infra/test_cost_model.py asserts that none of either stack's are."""
    known = (prices or load_prices())["resource_types"]
    return sorted({t for t in types if t not in known})
