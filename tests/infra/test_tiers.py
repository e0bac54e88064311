"""Derived settings, the API's routes and authorizer, the queue, the alarms, the outputs."""

from __future__ import annotations

import json

import pulumi
import pytest

from todo_app import catalog
from todo_app.catalog import OUTPUT_KEYS

from .helpers import ALARM, FUNCTION, alias, function, functions
from .mocks import MOCK_DB_PASSWORD

# --------------------------------------------------------------------------- queue and derived settings


def test_visibility_timeout_derived_from_the_worker(stack):
    worker = catalog.FUNCTIONS["worker"]
    queue = stack.named("aws:sqs/queue:Queue", "queue-orders")
    visibility = queue.inputs["visibilityTimeoutSeconds"]
    assert visibility == stack.program.queue.visibility_timeout_seconds
    assert visibility == catalog.ORDERS_QUEUE.visibility_timeout_factor * worker.timeout
    assert visibility >= 6 * function(stack, "worker").inputs["timeout"]


def test_redrive_and_retention(stack):
    queue = stack.named("aws:sqs/queue:Queue", "queue-orders")
    dlq = stack.named("aws:sqs/queue:Queue", "queue-orders-dlq")
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": catalog.ORDERS_QUEUE.max_receive_count}
    assert redrive["maxReceiveCount"] == 5
    assert dlq.inputs["messageRetentionSeconds"] == catalog.ORDERS_QUEUE.dlq_retention_seconds
    assert queue.inputs["messageRetentionSeconds"] == catalog.ORDERS_QUEUE.message_retention_seconds
    assert dlq.inputs["messageRetentionSeconds"] > queue.inputs["messageRetentionSeconds"]


def _alarms(stack):
    return {a.name: a.inputs for a in stack.of_type(ALARM)}


def test_duration_alarms_at_90_percent_of_each_real_timeout(production):
    stack = production
    alarms = _alarms(stack)
    for name in catalog.FUNCTIONS:
        alarm = alarms[f"{name}-duration"]
        assert alarm["metricName"] == "Duration" and alarm["namespace"] == "AWS/Lambda"
        # the Lambda timeout, which differs from the catalog's for SQL functions where the database pauses
        assert alarm["threshold"] == pytest.approx(function(stack, name).inputs["timeout"] * 1000 * 0.9)
        # the live alias: FunctionName + Resource, as CloudWatch names an alias's metrics
        fn_name = function(stack, name).outputs["name"]
        assert alarm["dimensions"] == {"FunctionName": fn_name, "Resource": f"{fn_name}:live"}
        for kind in ("errors", "throttles"):
            assert alarms[f"{name}-{kind}"]["dimensions"] == alarm["dimensions"]


def test_duration_alarms_follow_the_resume_timeout_where_the_database_pauses():
    from .mocks import evaluate

    ev = evaluate("staging", overrides={"alarmEmail": "ops@example.com"})
    alarms = _alarms(ev)
    for name, spec in catalog.FUNCTIONS.items():
        timeout = function(ev, name).inputs["timeout"]
        assert timeout == (28 if spec.database else spec.timeout), name
        assert alarms[f"{name}-duration"]["threshold"] == pytest.approx(timeout * 900), name


def test_queue_age_alarm_derived_from_the_visibility_timeout(production):
    stack = production
    alarm = _alarms(stack)["orders-queue-age"]
    visibility = stack.program.queue.visibility_timeout_seconds
    assert alarm["metricName"] == "ApproximateAgeOfOldestMessage"
    assert alarm["threshold"] == 2 * visibility
    assert alarm["dimensions"] == {"QueueName": stack.named("aws:sqs/queue:Queue", "queue-orders").outputs["name"]}


def test_the_alarm_set(production):
    stack = production
    alarms = _alarms(stack)
    expected = {f"{f}-{k}" for f in catalog.FUNCTIONS for k in ("errors", "throttles", "duration")}
    expected |= {"api-5xx", "orders-dlq-messages", "orders-queue-age", "db-capacity-at-max"}
    expected |= {f"{t}-{d}" for t in catalog.TABLES for d in ("readthrottle", "writethrottle")}
    assert set(alarms) == expected
    dlq = alarms["orders-dlq-messages"]
    assert dlq["metricName"] == "ApproximateNumberOfMessagesVisible" and dlq["threshold"] == 0
    assert dlq["comparisonOperator"] == "GreaterThanThreshold"
    assert dlq["dimensions"] == {"QueueName": stack.named("aws:sqs/queue:Queue", "queue-orders-dlq").outputs["name"]}
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    assert alarms["api-5xx"]["metricName"] == "5xx" and alarms["api-5xx"]["dimensions"]["ApiId"] == api.outputs["id"]
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    capacity = alarms["db-capacity-at-max"]
    assert capacity["namespace"] == "AWS/RDS" and capacity["metricName"] == "ServerlessDatabaseCapacity"
    assert capacity["dimensions"] == {"DBClusterIdentifier": db.outputs["clusterIdentifier"]}
    assert capacity["threshold"] == stack.program.config.db_max_capacity == 4
    assert capacity["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    # cheap: one standard-resolution metric, 5-minute periods
    assert capacity["period"] == 300 and capacity["evaluationPeriods"] == 3 and "metricQueries" not in capacity


def test_staging_has_no_alarm_no_customer_managed_key_and_no_dashboard(staging):
    """Nobody receives staging's alarms (no alarmEmail) and it deploys all at once: none of them exists."""
    assert staging.program.config.alarm_email == "" and not staging.program.config.gradual_deployment
    assert staging.of_type(ALARM) == []
    assert staging.of_type("aws:kms/key:Key") == []
    (topic,) = staging.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    assert staging.of_type("aws:cloudwatch/dashboard:Dashboard") == []
    assert staging.outputs["dashboardName"] == ""
    staging.check(staging.program.observability.dashboard_name, lambda v: _equal(v, ""))


def test_without_a_subscriber_only_the_rollback_alarms_of_a_gradual_deployment_exist():
    from .mocks import evaluate

    ev = evaluate("production", overrides={"alarmEmail": ""})
    alarms = _alarms(ev)
    traffic = [name for name, spec in catalog.FUNCTIONS.items() if spec.kind in ("api", "authorizer", "worker")]
    assert set(alarms) == {f"{name}-{kind}" for name in traffic for kind in ("errors", "throttles")}
    for name, alarm in alarms.items():
        assert alarm.get("alarmActions", []) == [] and alarm.get("okActions", []) == [], name
    assert ev.of_type("aws:kms/key:Key") == []
    (topic,) = ev.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    # the deployment groups still roll back on them
    for group in ev.of_type("aws:codedeploy/deploymentGroup:DeploymentGroup"):
        assert set(group.inputs["alarmConfiguration"]["alarms"]) <= {a["name"] for a in alarms.values()}


def test_alarms_are_named_with_the_stack_prefix(stack):
    """Both stacks' alarms share one console: each name says its stack (and what it watches)."""
    alarms = stack.of_type(ALARM)
    names = [a.inputs.get("name", "") for a in alarms]
    assert all(name == f"todo-platform-{stack.stack}-{a.name}" for name, a in zip(names, alarms, strict=True)), names
    assert len(set(names)) == len(names)


def test_every_alarm_notifies_the_topic(production):
    stack = production
    (topic,) = stack.of_type("aws:sns/topic:Topic")
    for name, alarm in _alarms(stack).items():
        assert alarm["alarmActions"] == [topic.outputs["arn"]], name
        assert alarm["okActions"] == [topic.outputs["arn"]], name
    # CloudWatch may use the topic's key, which the AWS-managed aws/sns key would not allow
    (key,) = stack.of_type("aws:kms/key:Key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    statements = json.loads(key.inputs["policy"])["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def test_dashboard_covers_every_tier(production):
    stack = production
    (dashboard,) = stack.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    namespaces = {m[0] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert namespaces == {"AWS/ApiGateway", "AWS/Lambda", "AWS/SQS", "AWS/DynamoDB", "AWS/RDS"}
    text = json.dumps(body)
    for fn in stack.of_type(FUNCTION):
        assert fn.inputs["name"] in text
    # every Lambda metric is the live alias's (FunctionName + Resource)
    lambda_metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"] if m[0] == "AWS/Lambda"]
    assert lambda_metrics
    for metric in lambda_metrics:
        assert metric[2::2] == ["FunctionName", "Resource"] and metric[5] == f"{metric[3]}:live", metric
    assert dashboard.inputs["dashboardName"] == stack.outputs["dashboardName"]


# --------------------------------------------------------------------------- API


def test_one_route_per_catalog_route_with_the_authorizer_where_asked(stack):
    routes = {r.inputs["routeKey"]: r.inputs for r in stack.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == {r.route_key for r in catalog.ROUTES}
    (authorizer,) = stack.of_type("aws:apigatewayv2/authorizer:Authorizer")
    integrations = {i.name: i for i in stack.of_type("aws:apigatewayv2/integration:Integration")}
    for route in catalog.ROUTES:
        inputs = routes[route.route_key]
        assert inputs["target"] == f"integrations/{integrations[f'api-{route.function}'].outputs['id']}"
        if route.auth:
            assert inputs["authorizationType"] == "CUSTOM" and inputs["authorizerId"] == authorizer.outputs["id"]
        else:
            assert inputs["authorizationType"] == "NONE" and "authorizerId" not in inputs
    public = sorted(k for k, v in routes.items() if v["authorizationType"] == "NONE")
    assert public == ["GET /health", "POST /password-resets", "POST /password-resets/confirm", "POST /sessions", "POST /users"]


def test_integrations_are_lambda_proxy_payload_2(stack):
    integrations = stack.of_type("aws:apigatewayv2/integration:Integration")
    assert sorted(i.name for i in integrations) == sorted(f"api-{f.name}" for f in catalog.api_functions())
    for integration in integrations:
        fn = function(stack, integration.name.removeprefix("api-"))
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["payloadFormatVersion"] == "2.0"
        live = alias(stack, integration.name.removeprefix("api-"))
        assert integration.inputs["integrationUri"] == live.outputs["invokeArn"]
        assert live.inputs["functionName"] == fn.outputs["name"] and live.outputs["invokeArn"].endswith(":live/invocations")


def test_authorizer(stack):
    (authorizer,) = stack.of_type("aws:apigatewayv2/authorizer:Authorizer")
    a = authorizer.inputs
    assert a["authorizerType"] == "REQUEST"
    assert a["authorizerPayloadFormatVersion"] == "2.0"
    assert a["enableSimpleResponses"] is True
    assert a["identitySources"] == ["$request.header.Authorization"]
    assert a["authorizerResultTtlInSeconds"] == 0
    assert a["authorizerUri"] == alias(stack, "authorizer").outputs["invokeArn"]
    assert a["authorizerUri"] != function(stack, "authorizer").outputs["invokeArn"]


def test_invoke_permissions_scoped_to_the_api(stack):
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    execution_arn = api.outputs["executionArn"]
    permissions = {p.inputs["function"]: p.inputs for p in stack.of_type("aws:lambda/permission:Permission")}
    fns = functions(stack)
    expected = {fns[f.name].outputs["name"] for f in catalog.api_functions()} | {fns["authorizer"].outputs["name"]}
    assert set(permissions) == expected
    for permission in permissions.values():
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["action"] == "lambda:InvokeFunction"
        assert permission["sourceArn"].startswith(execution_arn + "/")
        assert permission["qualifier"] == "live"  # invoking the alias, which is all API Gateway does


def test_migration_runs_on_deploy_keyed_by_the_sql_files(stack):
    from components.packaging import FUNCTIONS_DIR, migrations_hash

    (invocation,) = stack.of_type("aws:lambda/invocation:Invocation")
    digest = migrations_hash(FUNCTIONS_DIR / catalog.MIGRATIONS_DIR)
    assert invocation.inputs["functionName"] == function(stack, "migrate").outputs["name"]
    assert invocation.inputs["qualifier"] == alias(stack, "migrate").inputs["name"] == "live"
    assert invocation.inputs["triggers"] == {"migrationsHash": digest}
    assert json.loads(invocation.inputs["input"])["migrationsHash"] == digest
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    assert db.urn in invocation.dependencies


def test_migration_waits_for_the_writer_not_for_network_paths(stack):
    """The migrator runs outside the VPC through the Data API, which runs statements on the writer: the
    Invocation waits for the writer instance (a cluster without an instance answers nothing), not for
    security-group rules or endpoints it does not use."""
    (invocation,) = stack.of_type("aws:lambda/invocation:Invocation")
    writer = stack.named("aws:rds/clusterInstance:ClusterInstance", "database-users-writer")
    needed = [writer, *stack.of_type("aws:rds/cluster:Cluster"), function(stack, "migrate"), alias(stack, "migrate")]
    missing = [f"{r.type} {r.name}" for r in needed if r.urn not in invocation.dependencies]
    assert not missing, missing
    network = [urn for urn in invocation.dependencies if "aws:vpc/" in urn or "aws:ec2/" in urn]
    assert network == []


def test_migrations_hash_changes_only_with_the_sql(tmp_path):
    from components.packaging import migrations_hash

    empty = migrations_hash(tmp_path)
    (tmp_path / "0001_init.sql").write_text("create table t (id int);")
    (tmp_path / "notes.txt").write_text("ignored")
    first = migrations_hash(tmp_path)
    assert first != empty and migrations_hash(tmp_path) == first
    (tmp_path / "notes.txt").write_text("still ignored")
    assert migrations_hash(tmp_path) == first
    (tmp_path / "0001_init.sql").write_text("create table t (id bigint);")
    assert migrations_hash(tmp_path) != first


# --------------------------------------------------------------------------- outputs


def test_outputs_are_exactly_the_design_keys(stack):
    assert (
        set(stack.outputs)
        == set(OUTPUT_KEYS)
        == {
            "apiUrl",
            "region",
            "stack",
            "usersDbEndpoint",
            "usersDbName",
            "usersDbSecretArn",
            "todosTableName",
            "sessionsTableName",
            "ordersTableName",
            "ordersQueueUrl",
            "ordersDlqUrl",
            "alarmTopicArn",
            "dashboardName",
            "webUrl",
            "usersDbUser",
        }
    )
    # every value a non-empty string, except dashboardName where the stack has no dashboard
    assert all(isinstance(v, str) and (v or k == "dashboardName") for k, v in stack.outputs.items())
    assert bool(stack.outputs["dashboardName"]) is stack.program.config.dashboard


def test_output_values(stack):
    o = stack.outputs
    (api,) = stack.of_type("aws:apigatewayv2/api:Api")
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    assert o["apiUrl"] == api.outputs["apiEndpoint"]
    assert o["region"] == "us-east-1" and o["stack"] == stack.stack
    assert o["usersDbName"] == catalog.DATABASE_NAME
    assert o["usersDbSecretArn"] == db.outputs["masterUserSecrets"][0]["secretArn"]  # the master secret, for operators
    assert o["usersDbEndpoint"] == db.outputs["endpoint"]  # the writer endpoint, host only
    assert ":" not in o["usersDbEndpoint"] and o["usersDbEndpoint"] != db.outputs["readerEndpoint"]
    assert o["usersDbUser"] == catalog.APP_DB_USER == "todo_app"
    for key in ("todos", "sessions", "orders"):
        assert o[f"{key}TableName"] == stack.named("aws:dynamodb/table:Table", key).outputs["name"]
    assert o["ordersQueueUrl"] == stack.named("aws:sqs/queue:Queue", "queue-orders").outputs["url"]
    assert o["ordersDlqUrl"] == stack.named("aws:sqs/queue:Queue", "queue-orders-dlq").outputs["url"]
    assert o["alarmTopicArn"] == stack.of_type("aws:sns/topic:Topic")[0].outputs["arn"]


def test_no_output_carries_a_secret(stack):
    assert not any(stack.output_secrets.values())  # nothing needed marking secret: nothing secret is exported
    text = json.dumps(stack.outputs).lower()
    assert MOCK_DB_PASSWORD not in text and "password" not in text
    for resource in stack.resources:
        assert MOCK_DB_PASSWORD not in json.dumps(resource.inputs, default=str)


# --------------------------------------------------------------------------- resolving Outputs for real


def test_component_outputs_resolve_to_the_registered_values(stack):
    program = stack.program
    assert stack.resolve(program.api.url) == stack.outputs["apiUrl"]
    assert stack.resolve(program.database.secret_arn) == stack.outputs["usersDbSecretArn"]
    assert stack.resolve(program.database.endpoint) == stack.outputs["usersDbEndpoint"]
    assert stack.resolve(program.observability.dashboard_name) == stack.outputs["dashboardName"]
    stack.check(program.queue.queue.visibility_timeout_seconds, lambda v: _equal(v, program.queue.visibility_timeout_seconds))
    stack.check(
        program.tables.tables["todos"].billing_mode,
        lambda v: _equal(v, "PROVISIONED" if stack.stack == "production" else "PAY_PER_REQUEST"),
    )


def _equal(actual, expected):
    assert actual == expected, f"{actual!r} != {expected!r}"


def test_a_wrong_expectation_fails(staging):
    """The mechanism above really runs the assertion: a wrong expected value raises."""
    with pytest.raises(AssertionError, match="180 != 999"):
        staging.check(staging.program.queue.queue.visibility_timeout_seconds, lambda v: _equal(v, 999))
    with pytest.raises(AssertionError):
        staging.check(staging.program.api.url, lambda v: _equal(v, "https://wrong.example.com"))


def test_an_unknown_output_is_not_silently_accepted(staging):
    unknown = pulumi.Output(set(), _resolved(None), _resolved(False))
    with pytest.raises(AssertionError, match="unknown"):
        staging.resolve(unknown)


def _resolved(value):
    import asyncio

    future = asyncio.get_event_loop().create_future()
    future.set_result(value)
    return future
