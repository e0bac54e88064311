"""The configuration matrix, for both stacks: every per-stack setting, as the stack files and defaults set it.

The expected values are written out here from the design, not read from the YAML, so a stack file
that drifts from the design fails.
"""

from __future__ import annotations

import pytest

from todo_app import catalog

from .helpers import ALARM, FUNCTION, LOG_GROUP, TABLE, alias, function, functions, table

MATRIX = {
    "staging": dict(
        billing="PAY_PER_REQUEST",
        api_memory=512,
        authorizer_memory=512,
        reserved=-1,
        sql_reserved=5,
        worker_concurrency=2,
        db_min=0,
        db_max=1,
        db_auto_pause=600,
        readers=0,
        deletion_protection=False,
        backups=1,
        dynamodb_min=None,
        retention=14,
        rate=50,
        burst=100,
        sampling=(1.0, 1),
        authorizer_tracing="Active",
        log_levels=("INFO", "INFO"),
    ),
    "production": dict(
        billing="PROVISIONED",
        api_memory=1024,
        authorizer_memory=512,
        reserved=100,
        sql_reserved=100,
        worker_concurrency=20,
        db_min=0.5,
        db_max=4,
        db_auto_pause=None,
        readers=1,
        deletion_protection=True,
        backups=7,
        dynamodb_min=1,
        retention=90,
        rate=1000,
        burst=2000,
        sampling=(0.05, 0),
        authorizer_tracing="PassThrough",
        log_levels=("INFO", "WARN"),
    ),
}


def expect(stack):
    return MATRIX[stack.stack]


# --------------------------------------------------------------------------- DynamoDB capacity


def test_tables_come_from_the_catalog(stack):
    tables = stack.of_type(TABLE)
    assert sorted(t.name for t in tables) == sorted(catalog.TABLES)
    for key, spec in catalog.TABLES.items():
        inputs = table(stack, key).inputs
        assert inputs["hashKey"] == spec.hash_key
        assert inputs.get("rangeKey") == spec.range_key
        assert sorted(a["name"] for a in inputs["attributes"]) == sorted(spec.key_attributes)
        gsis = {g["name"]: g for g in inputs.get("globalSecondaryIndexes", [])}
        assert sorted(gsis) == sorted(i.name for i in spec.indexes)
        for index in spec.indexes:
            schema = {k["keyType"]: k["attributeName"] for k in gsis[index.name]["keySchemas"]}
            assert schema == {"HASH": index.hash_key, **({"RANGE": index.range_key} if index.range_key else {})}
            assert gsis[index.name]["projectionType"] == index.projection
        if spec.ttl_attribute:
            assert inputs["ttl"] == {"attributeName": spec.ttl_attribute, "enabled": True}
        else:
            assert "ttl" not in inputs


def test_dynamodb_billing_mode(stack):
    for t in stack.of_type(TABLE):
        on_demand = catalog.TABLES[t.name].always_on_demand
        assert t.inputs["billingMode"] == ("PAY_PER_REQUEST" if on_demand else expect(stack)["billing"]), t.name


def _provisioned_tables():
    return {key: spec for key, spec in catalog.TABLES.items() if not spec.always_on_demand}


def test_always_on_demand_tables_have_no_capacity_and_no_autoscaling(stack):
    on_demand = [key for key, spec in catalog.TABLES.items() if spec.always_on_demand]
    assert on_demand == ["dependencyStatus", "resetOutbox", "resetTokens"]
    targets = [t.inputs["resourceId"] for t in stack.of_type("aws:appautoscaling/target:Target")]
    for key in on_demand:
        t = table(stack, key)
        assert t.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert "readCapacity" not in t.inputs and "writeCapacity" not in t.inputs and t.ignore_changes == []
        assert not [r for r in targets if r.startswith(f"table/{t.outputs['name']}")]


def test_staging_is_on_demand_without_autoscaling(staging):
    assert not staging.of_type("aws:appautoscaling/target:Target")
    assert not staging.of_type("aws:appautoscaling/policy:Policy")
    for t in staging.of_type(TABLE):
        assert "readCapacity" not in t.inputs and "writeCapacity" not in t.inputs
        assert all("readCapacity" not in g for g in t.inputs.get("globalSecondaryIndexes", []))
        assert t.ignore_changes == []


def _scalable_units(key):
    units = [("table/{name}", "table")]
    units += [(f"table/{{name}}/index/{i.name}", "index") for i in catalog.TABLES[key].indexes]
    return units


def test_production_autoscales_every_table_and_gsi_for_reads_and_writes(production):
    config = production.program.config
    targets = production.of_type("aws:appautoscaling/target:Target")
    policies = production.of_type("aws:appautoscaling/policy:Policy")
    by_target = {(t.inputs["resourceId"], t.inputs["scalableDimension"]): t for t in targets}
    by_policy = {(p.inputs["resourceId"], p.inputs["scalableDimension"]): p for p in policies}
    expected = set()
    for key in _provisioned_tables():
        name = table(production, key).outputs["name"]
        for template, kind in _scalable_units(key):
            for unit, metric in (("Read", "DynamoDBReadCapacityUtilization"), ("Write", "DynamoDBWriteCapacityUtilization")):
                dim = (template.format(name=name), f"dynamodb:{kind}:{unit}CapacityUnits")
                expected.add(dim)
                target = by_target[dim]
                assert target.inputs["serviceNamespace"] == "dynamodb"
                assert target.inputs["minCapacity"] == config.dynamodb_min_capacity == expect(production)["dynamodb_min"]
                assert target.inputs["maxCapacity"] == config.dynamodb_max_capacity == 200
                policy = by_policy[dim]
                assert policy.inputs["policyType"] == "TargetTrackingScaling"
                tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
                assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == metric
                assert tracking["targetValue"] == config.dynamodb_target_utilization == 70
    assert set(by_target) == expected and set(by_policy) == expected
    # every provisioned table and GSI, reads and writes
    provisioned = _provisioned_tables()
    assert len(expected) == 2 * (len(provisioned) + sum(len(t.indexes) for t in provisioned.values()))


def test_production_tables_are_provisioned_and_ignore_capacity_drift(production):
    units = expect(production)["dynamodb_min"]
    for t in production.of_type(TABLE):
        if catalog.TABLES[t.name].always_on_demand:
            continue
        assert t.inputs["readCapacity"] == units and t.inputs["writeCapacity"] == units
        for gsi in t.inputs.get("globalSecondaryIndexes", []):
            assert gsi["readCapacity"] == units and gsi["writeCapacity"] == units
        # the Pulumi property paths the engine receives (camelCase; [*] covers every GSI)
        assert set(t.ignore_changes) == {
            "readCapacity",
            "writeCapacity",
            "globalSecondaryIndexes[*].readCapacity",
            "globalSecondaryIndexes[*].writeCapacity",
        }


# --------------------------------------------------------------------------- functions


def test_function_memory(stack):
    fns = functions(stack)
    for name, spec in catalog.FUNCTIONS.items():
        memory = fns[name].inputs["memorySize"]
        if spec.kind == "api":
            assert memory == expect(stack)["api_memory"], name
        elif spec.kind == "authorizer":
            assert memory == stack.program.config.authorizer_memory_mb == expect(stack)["authorizer_memory"]
        elif spec.kind == "worker":
            assert memory == stack.program.config.worker_memory_mb == 256
        else:
            assert memory == 256  # migration


def test_reserved_concurrency_sql_functions_by_the_connection_budget_other_api_functions_by_the_stack(stack):
    sql = 0
    for name, fn in functions(stack).items():
        spec = catalog.FUNCTIONS[name]
        if spec.database:
            sql += 1
            expected = expect(stack)["sql_reserved"]
        else:
            expected = expect(stack)["reserved"] if spec.kind == "api" else -1
        assert fn.inputs["reservedConcurrentExecutions"] == expected, name
    assert sql == 5  # health, users, sessions, todos, dashboard


def test_worker_event_source(stack):
    mapping = stack.named("aws:lambda/eventSourceMapping:EventSourceMapping", "queue-orders-worker")
    config = stack.program.config
    assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": expect(stack)["worker_concurrency"]}
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["batchSize"] == config.worker_batch_size == 10
    assert mapping.inputs["maximumBatchingWindowInSeconds"] == config.worker_batch_window_seconds == 1
    queue = stack.named("aws:sqs/queue:Queue", "queue-orders")
    assert mapping.inputs["eventSourceArn"] == queue.outputs["arn"]
    # the live alias, so that a new worker version gets messages only once the alias moves
    assert mapping.inputs["functionName"] == alias(stack, "worker").outputs["arn"] == function(stack, "worker").outputs["arn"] + ":live"


def test_architecture_and_runtime(stack):
    for fn in stack.of_type(FUNCTION):
        assert fn.inputs["architectures"] == ["arm64"]
        major, minor = fn.inputs["runtime"].removeprefix("python").split(".")
        assert (int(major), int(minor)) >= (3, 12)
    (layer,) = stack.of_type("aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["compatibleArchitectures"] == ["arm64"]
    assert layer.inputs["compatibleRuntimes"] == [stack.program.config.python_runtime]
    for fn in stack.of_type(FUNCTION):
        assert fn.inputs["layers"] == [layer.outputs["arn"]]


# --------------------------------------------------------------------------- logs, API


def test_log_retention_everywhere(stack):
    groups = stack.of_type(LOG_GROUP)
    assert groups
    for group in groups:
        assert group.inputs["retentionInDays"] == expect(stack)["retention"], group.name
    names = {g.inputs["name"] for g in groups}
    for fn in stack.of_type(FUNCTION):
        # each function logs (JSON) to its own log group, created by the program with retention
        application, system = expect(stack)["log_levels"]
        assert fn.inputs["loggingConfig"] == {
            "logFormat": "JSON",
            "logGroup": f"/aws/lambda/{fn.inputs['name']}",
            "applicationLogLevel": application,
            "systemLogLevel": system,
        }
        assert fn.inputs["loggingConfig"]["logGroup"] in names
    (stage,) = stack.of_type("aws:apigatewayv2/stage:Stage")
    access = [g for g in groups if g.outputs["arn"] == stage.inputs["accessLogSettings"]["destinationArn"]]
    assert len(access) == 1
    # the access log is read on demand (Infrequent Access); the functions' groups carry EMF metrics (Standard)
    assert [g.inputs.get("logGroupClass") for g in groups if g in access] == ["INFREQUENT_ACCESS"]
    assert all(g.inputs.get("logGroupClass") is None for g in groups if g not in access)
    assert len(groups) == len(catalog.FUNCTIONS) + 1


def test_xray_sampling_rule_and_tracing_modes(stack):
    (rule,) = stack.of_type("aws:xray/samplingRule:SamplingRule")
    rate, reservoir = expect(stack)["sampling"]
    assert (rule.inputs["fixedRate"], rule.inputs["reservoirSize"]) == (rate, reservoir)
    prefix = f"todo-platform-{stack.stack}"
    assert rule.inputs["serviceName"] == f"{prefix}-*" and rule.inputs["ruleName"] == prefix
    assert all(rule.inputs[k] == "*" for k in ("serviceType", "host", "httpMethod", "urlPath", "resourceArn"))
    for name, fn in functions(stack).items():
        mode = expect(stack)["authorizer_tracing"] if name == "authorizer" else "Active"
        assert fn.inputs["tracingConfig"] == {"mode": mode}, name


def test_api_throttling(stack):
    (stage,) = stack.of_type("aws:apigatewayv2/stage:Stage")
    settings = stage.inputs["defaultRouteSettings"]
    assert settings["throttlingRateLimit"] == expect(stack)["rate"]
    assert settings["throttlingBurstLimit"] == expect(stack)["burst"]
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True


# --------------------------------------------------------------------------- PITR, encryption, TLS


def test_pitr_and_encryption_at_rest(stack):
    for t in stack.of_type(TABLE):
        assert t.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert t.inputs["serverSideEncryption"] == {"enabled": True}
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    assert db.inputs["storageEncrypted"] is True
    for q in stack.of_type("aws:sqs/queue:Queue"):
        assert q.inputs["sqsManagedSseEnabled"] is True
    (topic,) = stack.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"]  # its own key where alarms publish to it, else alias/aws/sns


def test_tls_to_the_database(stack):
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    (group,) = stack.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
    assert not stack.of_type("aws:rds/parameterGroup:ParameterGroup")
    assert {"name": "rds.force_ssl", "value": "1"} in [{k: p[k] for k in ("name", "value")} for p in group.inputs["parameters"]]
    assert db.inputs["dbClusterParameterGroupName"] == group.outputs["name"]
    assert group.inputs["family"] == f"aurora-postgresql{db.inputs['engineVersion'].split('.')[0]}"
    for fn in stack.of_type(FUNCTION):
        env = fn.inputs["environment"]["variables"]
        if "DB_HOST" in env:
            assert env["DB_SSLMODE"] == "require"


# --------------------------------------------------------------------------- alarm e-mail, CORS


def test_alarm_email_subscription(stack):
    subscriptions = stack.of_type("aws:sns/topicSubscription:TopicSubscription")
    email = stack.program.config.alarm_email
    if stack.stack == "staging":
        assert email == "" and subscriptions == []
    else:
        (sub,) = subscriptions
        assert email == "oncall@example.com"
        assert sub.inputs["protocol"] == "email" and sub.inputs["endpoint"] == email
        (topic,) = stack.of_type("aws:sns/topic:Topic")
        assert sub.inputs["topic"] == topic.outputs["arn"]


@pytest.mark.parametrize(("stack_name", "origins"), [("staging", ["http://localhost:3000"]), ("production", ["https://app.example.com"])])
def test_cors_origins(stack_name, origins, request):
    ev = request.getfixturevalue(stack_name)
    (api,) = ev.of_type("aws:apigatewayv2/api:Api")
    cors = api.inputs["corsConfiguration"]
    assert cors["allowOrigins"] == [ev.outputs["webUrl"], *origins]  # the web app's own origin first
    assert set(cors["allowMethods"]) >= {r.method for r in catalog.ROUTES}


def test_without_extra_origins_cors_allows_the_web_app_only():
    from .mocks import evaluate

    ev = evaluate("staging", overrides={"corsOrigins": []})
    (api,) = ev.of_type("aws:apigatewayv2/api:Api")
    assert api.inputs["corsConfiguration"]["allowOrigins"] == [ev.outputs["webUrl"]]


def test_alarms_exist_only_where_someone_receives_them(stack):
    # staging: no alarm e-mail and no gradual deployment, so no alarm at all; production: an e-mail, every alarm
    assert bool(stack.of_type(ALARM)) is (stack.stack == "production")
