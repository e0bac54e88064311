"""7. Monthly cost per stack: the variable cost of 1M requests (a stated request mix) at the MEASURED
durations (benchmarks 2 and 4) and each stack's memory, plus the fixed monthly cost of what the stack
creates (its bill of materials from benchmark 5, evaluated under the infra tests' mocks). Every price
comes from bench/prices.json, which cites its source page; prices are as published and may have changed.
Compared with a reference estimate of $5.45 per 1M requests (its assumptions are in prices.json).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from components.config import StackConfig
from todo_app.catalog import TABLES

from .core import NotAvailable, Section

PRICES_FILE = Path(__file__).with_name("prices.json")


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
        gsis = len(TABLES[table].indexes) if table in TABLES else 0
        if op in ("GetItem", "Query", "Scan", "BatchGetItem"):
            reads += 1.0 if consistent else 0.5
        elif op in ("PutItem", "UpdateItem", "DeleteItem"):
            writes += 1 + gsis
        elif op in ("TransactWriteItems",):
            writes += 2 * (1 + gsis)
    return reads, writes


def run(section: Section, world: object, quick: bool, shared: dict[str, Any]) -> None:
    table = load_prices()
    P = {k: v["usd"] for k, v in table["prices"].items()}
    A = table["assumptions"]
    hours = table["hours_per_month"]
    mix, bom = shared.get("mix"), shared.get("bom")
    if not mix:
        raise NotAvailable("needs the measured route durations of benchmark 2 (warm)")
    if not bom:
        raise NotAvailable("needs the stacks' bill of materials from benchmark 5 (infra)")
    missing = [route for route in A["request_mix"] if route not in mix or "na" in mix[route]]
    if missing:
        raise NotAvailable(f"no measured duration for {', '.join(missing)}")
    auth_ms = shared["durations_ms"]["authorizer"]
    worker_ms = shared.get("worker_ms", {}).get("batch10")
    if worker_ms is None:
        raise NotAvailable("needs the measured worker batch duration of benchmark 4 (worker)")
    n = A["requests_per_month"]
    results = {}
    for stack in ("staging", "production"):
        config = StackConfig.from_files(stack)
        b = bom[stack]
        arch = config.architecture
        gbs_price = P[f"lambda_gb_second_{arch}"]
        api_gb, worker_gb = config.api_memory_mb / 1024, config.worker_memory_mb / 1024
        provisioned = config.provisioned
        v: dict[str, float] = {}
        invocations = gb_seconds = rru = wru = log_bytes = sqs_requests = 0.0
        orders = 0.0
        for route, share in A["request_mix"].items():
            count = n * share
            m = mix[route]
            # the route's function and the authorizer (TTL 0: one authorizer run per protected request)
            invocations += 2 * count
            gb_seconds += count * (math.ceil(m["median_ms"]) / 1000 * api_gb + math.ceil(auth_ms) / 1000 * api_gb)
            r, w = dynamo_units(m["aws_calls"])
            rru += count * (r + 1.0)  # + the authorizer's consistent GetItem on sessions
            wru += count * w
            sqs_requests += count * sum(1 for c in m["aws_calls"] if c.startswith("sqs:"))
            log_bytes += count * (
                m["log_bytes"]
                + 2 * (A["lambda_platform_log_bytes"] + 3 * A["log_event_overhead_bytes"])
                + A["access_log_bytes"]
                + A["log_event_overhead_bytes"]
            )
            if route == "POST /orders":
                orders += count
        batches = orders / config.worker_batch_size
        invocations += batches
        gb_seconds += batches * math.ceil(worker_ms) / 1000 * worker_gb
        wru += orders * 1  # one conditional PutItem per order (orders table, no GSI)
        sqs_requests += batches * 2  # ReceiveMessage + DeleteMessageBatch per batch
        log_bytes += batches * (A["lambda_platform_log_bytes"] + 3 * A["log_event_overhead_bytes"])
        traced = sum(1 for f in b["functions"].values() if f.get("tracing") == "Active") == len(b["functions"])
        v["HTTP API requests"] = n / 1e6 * P["http_api_request"]
        v["Lambda requests (API + authorizer + worker)"] = invocations / 1e6 * P["lambda_request"]
        v[f"Lambda GB-seconds ({arch})"] = gb_seconds * gbs_price
        v["DynamoDB request units"] = (
            0.0 if provisioned else rru / 1e6 * P["dynamodb_read_request_unit"] + wru / 1e6 * P["dynamodb_write_request_unit"]
        )
        v["SQS requests (send, receive, delete)"] = sqs_requests / 1e6 * P["sqs_request"]
        v["CloudWatch Logs ingestion"] = log_bytes / 1e9 * P["logs_ingestion_gb"]
        v["X-Ray traces"] = (invocations * A["xray_sampled_fraction"] / 1e6 * P["xray_trace_recorded"]) if traced else 0.0

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
            },
            "memory_mb": {"api": config.api_memory_mb, "worker": config.worker_memory_mb},
        }
        section.add(
            f"{stack}: variable cost of 1M requests",
            variable,
            "$",
            baseline=table["reference_estimate"]["total"],
            baseline_name="reference estimate ($5.45)",
            note=f"API {config.api_memory_mb} MB, {arch}; " + ", ".join(f"{k.split(' (')[0]} ${x:.2f}" for k, x in v.items() if x >= 0.005),
        )
        section.add(
            f"{stack}: fixed monthly cost",
            fixed,
            "$",
            note=", ".join(f"{k} ${x:.2f}" for k, x in sorted(f.items(), key=lambda kv: -kv[1])[:4]),
        )
        if provisioned:
            section.notes.append(f"{stack}: DynamoDB is provisioned, so its request units cost nothing extra ({v_note})")
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
        "durations_ms": {r: mix[r]["median_ms"] for r in A["request_mix"]},
        "authorizer_ms": auth_ms,
        "worker_batch_ms": worker_ms,
        "reference_estimate_recomputed": round(recomputed, 2),
    }
    section.notes.append(
        f"prices: bench/prices.json, us-east-1, as published (assumed {table['assumed_date']}), may have changed; free tiers ignored"
    )
    section.notes.append("request mix: " + ", ".join(f"{r} {s:.0%}" for r, s in A["request_mix"].items()))
    section.notes.append("durations: medians measured in benchmarks 2 and 4 on this machine, billed rounded up to 1 ms")
