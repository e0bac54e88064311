"""5. Infrastructure: wall time to evaluate each stack's Pulumi program under the infra tests' mocks
(tests/infra/mocks.py `evaluate(stack)`, reused as is), and its resource count.

Runs in a child interpreter (python -m bench.infra --child) so the first evaluation is a true first one:
it is reported apart ("first", includes pulumi_aws's lazy module loading), then staging and production
alternate for the repeated ("warm") median. The child also extracts each stack's bill of materials
(the Aurora cluster and its instances, alarms by metric, dashboards, keys, secrets and who may
read them, SnapStart, detailed metrics, tables, ...) for the cost model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .core import ROOT, Section, median

STACKS = ("staging", "production")


def evaluate_in_child(rounds: int) -> dict[str, Any]:
    """Evaluate both stacks in a child interpreter: the first evaluation, `rounds` repeated ones, each
    stack's bill of materials."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    try:
        # from the project's root, so that `tests.infra.mocks` imports (the installed project has the rest)
        proc = subprocess.run(
            [sys.executable, "-m", "bench.infra", "--child", str(rounds), out],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode:
            raise RuntimeError(f"mocks evaluation failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
        data: dict[str, Any] = json.loads(Path(out).read_text())
    finally:
        os.unlink(out)
    return data


def run(section: Section, world: object, quick: bool, shared: dict[str, Any]) -> None:
    data = evaluate_in_child(2 if quick else 7)
    section.data = data
    shared["bom"] = {s: data[s]["bom"] for s in STACKS}
    section.add("import pulumi + components + mocks (child interpreter)", data["import_s"], "s")
    for stack in STACKS:
        d = data[stack]
        section.add(f"{stack}: first evaluation", d["first_s"], "s", note=f"{d['resources']} resources")
        if d["samples_s"]:
            section.add(f"{stack}: repeated evaluation (median of {len(d['samples_s'])})", median(d["samples_s"]), "s")
        section.add(
            f"{stack}: resources (AWS + components)",
            d["resources"],
            "",
            note=f"{d['aws_resources']} AWS resources, {d['resources'] - d['aws_resources']} components",
        )
    section.notes.append("no baseline: the figure to watch is the repeated time (the infra tests evaluate each stack once)")


def _policy_actions(document: Any) -> set[str]:
    """The actions a policy document (JSON text or dict) allows."""
    doc = json.loads(document) if isinstance(document, str) else (document or {})
    statements = doc.get("Statement") or []
    actions: set[str] = set()
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect", "Allow") != "Allow":
            continue
        action = st.get("Action") or []
        actions.update([action] if isinstance(action, str) else action)
    return actions


def _dashboard_metrics(body: Any) -> int:
    """The metrics a dashboard's widgets draw (each row of a widget's `metrics`; a math expression row is not a metric)."""
    doc = json.loads(body) if isinstance(body, str) else (body or {})
    count = 0
    for widget in doc.get("widgets") or []:
        for row in (widget.get("properties") or {}).get("metrics") or []:
            if isinstance(row, list) and not (len(row) == 1 and isinstance(row[0], dict)):
                count += 1
    return count


def _alarm_metrics(alarm: dict[str, Any]) -> int:
    """Metrics an alarm is billed for: one, or each metric a metric-math alarm reads (expressions are not)."""
    queries = alarm.get("metricQueries") or []
    return sum(1 for q in queries if q.get("metric")) if queries else 1


ALIAS_DEPLOYMENT = "pulumi-python:dynamic/codedeploy:AliasDeployment"


def evaluation_functions(evaluation: Any) -> dict[str, Any]:
    """Each Lambda function's resource name and its function name."""
    return {f.name: f.inputs.get("name") for f in evaluation.of_type("aws:lambda/function:Function")}


def bill_of_materials(evaluation: Any) -> dict[str, Any]:
    res = evaluation.resources
    by_type = Counter(r.type for r in res)
    rds = [r.inputs for r in evaluation.of_type("aws:rds/instance:Instance")]
    clusters = [c.inputs for c in evaluation.of_type("aws:rds/cluster:Cluster")]
    cluster_instances = [i.inputs for i in evaluation.of_type("aws:rds/clusterInstance:ClusterInstance")]
    tables = []
    for t in evaluation.of_type("aws:dynamodb/table:Table"):
        i = t.inputs
        gsis = i.get("globalSecondaryIndexes") or []
        tables.append(
            {
                "name": t.name,
                "billing": i.get("billingMode"),
                "read": i.get("readCapacity"),
                "write": i.get("writeCapacity"),
                "gsis": len(gsis),
                "gsi_capacity": [(g.get("readCapacity"), g.get("writeCapacity")) for g in gsis],
                "pitr": bool((i.get("pointInTimeRecovery") or {}).get("enabled")),
            }
        )
    functions = {
        f.name: {
            "memory": f.inputs.get("memorySize"),
            "architectures": f.inputs.get("architectures"),
            "tracing": (f.inputs.get("tracingConfig") or {}).get("mode"),
            "snap_start": bool(f.inputs.get("snapStart")),
            "role": f.inputs.get("role"),
        }
        for f in evaluation.of_type("aws:lambda/function:Function")
    }
    # which functions may read a secret: their role's inline policies (role id -> role ARN -> function)
    role_arn = {r.outputs.get("id"): r.outputs.get("arn") for r in evaluation.of_type("aws:iam/role:Role")}
    function_of_role = {f["role"]: name.removesuffix("-function") for name, f in functions.items()}
    secret_readers = sorted(
        {
            function_of_role[role_arn.get(p.inputs.get("role"), "")]
            for p in evaluation.of_type("aws:iam/rolePolicy:RolePolicy")
            if role_arn.get(p.inputs.get("role"), "") in function_of_role
            and _policy_actions(p.inputs.get("policy")) & {"secretsmanager:GetSecretValue", "secretsmanager:*", "*"}
        }
    )
    endpoints = [
        {"service": e.inputs.get("serviceName"), "type": e.inputs.get("vpcEndpointType"), "azs": len(e.inputs.get("subnetIds") or [])}
        for e in evaluation.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    ]
    stage = [s.inputs for s in evaluation.of_type("aws:apigatewayv2/stage:Stage")]
    routes = sorted(r.inputs.get("routeKey") for r in evaluation.of_type("aws:apigatewayv2/route:Route"))
    detailed: list[str] = []
    for s in stage:
        default_on = bool((s.get("defaultRouteSettings") or {}).get("detailedMetricsEnabled"))
        per_route = {rs.get("routeKey"): bool(rs.get("detailedMetricsEnabled")) for rs in s.get("routeSettings") or []}
        detailed += [r for r in routes if per_route.get(r, default_on)]
    authorizers = [a.inputs for a in evaluation.of_type("aws:apigatewayv2/authorizer:Authorizer")]
    alarms = [a.inputs for a in evaluation.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    scaling_policies = [
        p.inputs
        for p in evaluation.of_type("aws:appautoscaling/policy:Policy")
        if p.inputs.get("policyType") == "TargetTrackingScaling" and p.inputs.get("serviceNamespace") == "dynamodb"
    ]
    dashboards = [
        {"name": d.inputs.get("dashboardName"), "metrics": _dashboard_metrics(d.inputs.get("dashboardBody"))}
        for d in evaluation.of_type("aws:cloudwatch/dashboard:Dashboard")
    ]
    keys = [{"rotation": bool(k.inputs.get("enableKeyRotation"))} for k in evaluation.of_type("aws:kms/key:Key")]
    managed_secrets = sum(1 for r in [*rds, *clusters] if r.get("manageMasterUserPassword"))
    return {
        "types": dict(by_type),
        "alarms": len(alarms),
        "alarm_metrics": sum(_alarm_metrics(a) for a in alarms),
        "autoscaling_policies": len(scaling_policies),
        "dashboards": len(dashboards),
        "dashboard_metrics": [d["metrics"] for d in dashboards],
        "kms_keys": len(keys),
        "kms_rotating_keys": sum(1 for k in keys if k["rotation"]),
        "secrets": by_type.get("aws:secretsmanager/secret:Secret", 0) + managed_secrets,
        "secret_readers": secret_readers,
        "aurora": [
            {
                "engine": c.get("engine"),
                "engine_version": c.get("engineVersion"),
                "min_acu": float((c.get("serverlessv2ScalingConfiguration") or {}).get("minCapacity") or 0),
                "max_acu": float((c.get("serverlessv2ScalingConfiguration") or {}).get("maxCapacity") or 0),
                "seconds_until_auto_pause": (c.get("serverlessv2ScalingConfiguration") or {}).get("secondsUntilAutoPause"),
                "backup_days": c.get("backupRetentionPeriod"),
                "data_api": bool(c.get("enableHttpEndpoint")),
                "managed_secret": bool(c.get("manageMasterUserPassword")),
                "storage_type": c.get("storageType") or "aurora",
                "instances": len(cluster_instances),
                "instance_classes": sorted({str(i.get("instanceClass")) for i in cluster_instances}),
                "readers": max(0, len(cluster_instances) - 1),
            }
            for c in clusters
        ],
        "rds": [
            {
                k: r.get(k)
                for k in (
                    "instanceClass",
                    "multiAz",
                    "storageType",
                    "allocatedStorage",
                    "iops",
                    "performanceInsightsEnabled",
                    "backupRetentionPeriod",
                )
            }
            for r in rds
        ],
        "proxies": by_type.get("aws:rds/proxy:Proxy", 0),
        "interface_endpoints": [e for e in endpoints if e["type"] == "Interface"],
        "gateway_endpoints": [e for e in endpoints if e["type"] == "Gateway"],
        "tables": tables,
        # on demand whatever the stack's billing mode (catalog: always_on_demand): no provisioned floor, no autoscaling
        "on_demand_tables": sorted(t["name"] for t in tables if t["billing"] == "PAY_PER_REQUEST"),
        "autoscaling_targets": [
            {"name": t.name, "min": t.inputs.get("minCapacity"), "max": t.inputs.get("maxCapacity"), "resource": t.inputs.get("resourceId")}
            for t in evaluation.of_type("aws:appautoscaling/target:Target")
        ],
        "functions": functions,
        "snap_start_functions": sorted(name.removesuffix("-function") for name, f in functions.items() if f["snap_start"]),
        # the functions whose superseded published versions are deleted after a successful deployment: those
        # the deployment trigger (AliasDeployment, components/deployment.py prune_versions) deploys
        "pruned_functions": sorted(
            name.removesuffix("-function")
            for name, f in evaluation_functions(evaluation).items()
            if f in {d.inputs.get("functionName") for d in evaluation.of_type(ALIAS_DEPLOYMENT)}
        ),
        "routes": len(routes),
        "detailed_metrics": bool(detailed),
        "detailed_metric_routes": detailed,
        "access_logs": any(s.get("accessLogSettings") for s in stage),
        "access_log_class": next(
            (
                g.inputs.get("logGroupClass")
                for g in evaluation.of_type("aws:cloudwatch/logGroup:LogGroup")
                if "apigateway" in g.inputs["name"]
            ),
            None,
        ),
        "authorizer_ttl": [a.get("authorizerResultTtlInSeconds") for a in authorizers],
        "log_groups": by_type.get("aws:cloudwatch/logGroup:LogGroup", 0),
        "provisioned_concurrency": [
            {"name": p.name, "executions": p.inputs.get("provisionedConcurrentExecutions")}
            for p in evaluation.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
        ],
        "deployment_groups": by_type.get("aws:codedeploy/deploymentGroup:DeploymentGroup", 0),
        "distributions": by_type.get("aws:cloudfront/distribution:Distribution", 0),
        "web_objects": by_type.get("aws:s3/bucketObjectv2:BucketObjectv2", 0),
    }


def child(rounds: int, out: str) -> None:
    t = time.perf_counter()
    from tests.infra.mocks import evaluate

    import_s = time.perf_counter() - t
    result: dict[str, Any] = {"import_s": import_s}
    for stack in STACKS:
        t = time.perf_counter()
        ev = evaluate(stack)
        result[stack] = {
            "first_s": time.perf_counter() - t,
            "samples_s": [],
            "resources": len(ev.resources),
            "aws_resources": sum(1 for r in ev.resources if r.type.startswith("aws:")),
            "bom": bill_of_materials(ev),
        }
    for r in range(rounds):
        for stack in STACKS if r % 2 == 0 else STACKS[::-1]:
            t = time.perf_counter()
            evaluate(stack)
            result[stack]["samples_s"].append(time.perf_counter() - t)
    with open(out, "w") as f:
        json.dump(result, f, default=str)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: python -m bench.infra --child ROUNDS OUT.json")
