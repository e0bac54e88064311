"""Safe deployments, for both stacks: versions and the live alias, CodeDeploy canaries that roll back on
alarms (production), SnapStart or provisioned concurrency, and the protection of the data.

Production's matrix has the canary, the alarms that roll it back, SnapStart and protection; staging has
none of them: Pulumi points its aliases at each new version at once.
"""

from __future__ import annotations

import json

import pytest

from components.compute import FunctionSettings
from components.config import ConfigError, cold_start_problems
from todo_app import catalog

from .helpers import ALARM, ALIAS, FUNCTION, TABLE, alias, function, functions
from .mocks import evaluate

APPLICATION = "aws:codedeploy/application:Application"
GROUP = "aws:codedeploy/deploymentGroup:DeploymentGroup"
RELEASE = "pulumi-python:dynamic/codedeploy:AliasDeployment"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
CANARY = "CodeDeployDefault.LambdaCanary10Percent5Minutes"
TRAFFIC = sorted(name for name, spec in catalog.FUNCTIONS.items() if spec.kind in ("api", "authorizer", "worker"))
COLD_START = sorted(name for name, spec in catalog.FUNCTIONS.items() if spec.kind in ("api", "authorizer"))


# --------------------------------------------------------------------------- versions and the live alias


def test_every_function_publishes_a_version_behind_a_live_alias(stack):
    aliases = stack.of_type(ALIAS)
    assert len(aliases) == len(catalog.FUNCTIONS)
    for name, fn in functions(stack).items():
        assert fn.inputs["publish"] is True, name
        live = alias(stack, name)
        assert live.inputs["name"] == "live"
        assert live.inputs["functionName"] == fn.outputs["name"]
        assert live.inputs["functionVersion"] == fn.outputs["version"] == "1"  # the published version, never $LATEST


def test_nothing_invokes_an_unqualified_function(stack):
    """Every caller names the alias: otherwise it would bypass the version a canary is judging."""
    live_invoke_arns = {a.outputs["invokeArn"] for a in stack.of_type(ALIAS)}
    for integration in stack.of_type("aws:apigatewayv2/integration:Integration"):
        assert integration.inputs["integrationUri"] in live_invoke_arns
    (authorizer,) = stack.of_type("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["authorizerUri"] in live_invoke_arns
    for permission in stack.of_type("aws:lambda/permission:Permission"):
        assert permission.inputs["qualifier"] == "live"
    mappings = stack.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert len(mappings) == 2  # the queue's worker and the reset outbox's mailer
    for mapping in mappings:
        assert mapping.inputs["functionName"].endswith(":live")
    (invocation,) = stack.of_type("aws:lambda/invocation:Invocation")
    assert invocation.inputs["qualifier"] == "live"
    assert alias(stack, "migrate").urn in invocation.dependencies


def test_function_alarms_watch_the_alias(stack):
    for a in stack.of_type(ALARM):
        if a.inputs["namespace"] == "AWS/Lambda":
            dims = a.inputs["dimensions"]
            assert dims["Resource"] == f"{dims['FunctionName']}:live", a.name


def test_the_alias_object_resolves_to_the_registered_alias(stack):
    users = stack.program.functions["users"]
    stack.check(users.alias.arn, lambda arn: _equal(arn, alias(stack, "users").outputs["arn"]))
    stack.check(users.alias_dimensions["Resource"], lambda value: _equal(value, f"{function(stack, 'users').outputs['name']}:live"))


def _equal(actual, expected):
    assert actual == expected, f"{actual!r} != {expected!r}"


# --------------------------------------------------------------------------- gradual deployment


def test_production_shifts_traffic_with_a_codedeploy_canary(production):
    (application,) = production.of_type(APPLICATION)
    assert application.inputs["computePlatform"] == "Lambda"
    assert application.inputs["name"] == "todo-platform-production"
    groups = {g.name.removesuffix("-deploy"): g for g in production.of_type(GROUP)}
    assert sorted(groups) == TRAFFIC  # not the migration: the deploy itself invokes it
    alarms = {a.name: a for a in production.of_type(ALARM)}
    (role,) = [r for r in production.of_type("aws:iam/role:Role") if r.name == "deployments-codedeploy"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    for name, group in groups.items():
        g = group.inputs
        assert g["appName"] == application.outputs["name"]
        assert g["deploymentGroupName"] == function(production, name).outputs["name"]
        assert g["deploymentConfigName"] == CANARY
        assert g["serviceRoleArn"] == role.outputs["arn"]
        assert g["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
        assert g["autoRollbackConfiguration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]}
        # the alarms that stop and roll back a bad version: the alias's errors and throttles
        rollback = [alarms[f"{name}-errors"], alarms[f"{name}-throttles"]]
        assert g["alarmConfiguration"] == {"enabled": True, "alarms": [a.outputs["name"] for a in rollback]}
        for alarm in rollback:
            assert alarm.inputs["dimensions"]["Resource"] == alias(production, name).outputs["arn"].split("function:")[1]
            assert alarm.inputs["threshold"] == 1 and alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_codedeploy_may_move_exactly_each_alias_and_read_exactly_its_alarms(production):
    alarms = {a.name: a for a in production.of_type(ALARM)}
    for name in TRAFFIC:
        document = json.loads(production.named("aws:iam/rolePolicy:RolePolicy", f"{name}-deploy").inputs["policy"])
        move, read = document["Statement"]
        assert move["Action"] == ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
        assert move["Resource"] == [alias(production, name).outputs["arn"]]
        assert read["Action"] == ["cloudwatch:DescribeAlarms"]
        assert read["Resource"] == [alarms[f"{name}-errors"].outputs["arn"], alarms[f"{name}-throttles"].outputs["arn"]]
        group = production.named(GROUP, f"{name}-deploy")
        assert production.named("aws:iam/rolePolicy:RolePolicy", f"{name}-deploy").urn in group.dependencies


def test_pulumi_leaves_the_codedeploy_managed_aliases_alone(production):
    for name in catalog.FUNCTIONS:
        expected = ["functionVersion", "routingConfig"] if name in TRAFFIC else []
        assert alias(production, name).ignore_changes == expected, name


def test_a_new_version_is_deployed_by_the_trigger_after_the_migration(production):
    releases = {r.name.removesuffix("-release"): r for r in production.of_type(RELEASE)}
    assert sorted(releases) == TRAFFIC
    (invocation,) = production.of_type("aws:lambda/invocation:Invocation")
    migration = next(r for r in production.resources if r.type == "serverless:database:SchemaMigration")
    for name, release in releases.items():
        r = release.inputs
        fn = function(production, name)
        assert r["functionName"] == fn.outputs["name"] and r["aliasName"] == "live"
        assert r["targetVersion"] == fn.outputs["version"]  # a new published version changes it, and so deploys
        assert r["applicationName"] == "todo-platform-production" and r["deploymentGroupName"] == fn.outputs["name"]
        assert r["region"] == "us-east-1" and r["deploymentConfigName"] == CANARY
        deps = set(release.dependencies)
        assert production.named(GROUP, f"{name}-deploy").urn in deps and alias(production, name).urn in deps
        assert {f"{name}-errors", f"{name}-throttles"} <= {a.name for a in production.of_type(ALARM) if a.urn in deps}
        assert migration.urn in deps or invocation.urn in deps  # new code may need the new schema


def test_staging_points_its_aliases_at_once_without_codedeploy(staging):
    assert not staging.of_type(APPLICATION) and not staging.of_type(GROUP) and not staging.of_type(RELEASE)
    assert not [r for r in staging.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-deploy")]
    for name in catalog.FUNCTIONS:
        assert alias(staging, name).ignore_changes == []  # Pulumi moves it to each new version
    assert staging.program.codedeploy is None


def test_another_codedeploy_config_is_taken_as_given():
    ev = evaluate("staging", overrides={"deploymentConfig": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"})
    groups = ev.of_type(GROUP)
    assert len(groups) == len(TRAFFIC)
    assert {g.inputs["deploymentConfigName"] for g in groups} == {"CodeDeployDefault.LambdaLinear10PercentEvery1Minute"}


# --------------------------------------------------------------------------- cold starts


SNAPSTART = ["authorizer", "todos", "users"]  # where a cached snapshot pays (Pulumi.production.yaml says why)


def test_snapstart_only_on_the_listed_production_functions_and_staging_none(stack):
    assert list(stack.program.config.snapstart_functions) == (SNAPSTART if stack.stack == "production" else [])
    for name, fn in functions(stack).items():
        if stack.stack == "production" and name in SNAPSTART:
            assert fn.inputs["snapStart"] == {"applyOn": "PublishedVersions"}, name
            major, minor = fn.inputs["runtime"].removeprefix("python").split(".")
            assert (int(major), int(minor)) >= (3, 12)
        else:
            assert "snapStart" not in fn.inputs, name
    assert not stack.of_type(PROVISIONED)  # never combined with SnapStart


def test_provisioned_concurrency_on_the_alias_instead_of_snapstart():
    ev = evaluate("production", overrides={"coldStartMitigation": "provisioned", "provisionedConcurrency": 5, "snapstartFunctions": []})
    configs = {c.name.removesuffix("-live"): c.inputs for c in ev.of_type(PROVISIONED)}
    assert sorted(configs) == COLD_START
    for name, inputs in configs.items():
        assert inputs == {"functionName": function(ev, name).outputs["name"], "qualifier": "live", "provisionedConcurrentExecutions": 5}
    assert not [fn for fn in ev.of_type(FUNCTION) if "snapStart" in fn.inputs]


# --------------------------------------------------------------------------- data protection


def test_production_data_is_protected_and_staging_data_is_not(stack):
    protected = stack.stack == "production"
    for table in stack.of_type(TABLE):
        assert table.inputs["deletionProtectionEnabled"] is protected, table.name
        assert table.protect is protected, table.name  # pulumi destroy stops before it
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}  # on everywhere
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    assert db.protect is protected
    assert db.inputs["deletionProtection"] is protected
    assert db.inputs["manageMasterUserPassword"] is True  # its secret is RDS's own, deleted only with the cluster
    if protected:
        assert db.inputs["skipFinalSnapshot"] is False and db.inputs["finalSnapshotIdentifier"] == "todo-platform-production-users-final"
    else:
        assert db.inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in db.inputs
    # nothing else is protected: a replaced function, alarm or instance (the data is the cluster's) must never block a deploy
    assert {r.type for r in stack.resources if r.protect} == ({TABLE, "aws:rds/cluster:Cluster"} if protected else set())


# --------------------------------------------------------------------------- bad config


def test_an_unknown_deployment_config_names_the_key_and_the_allowed_values():
    with pytest.raises(ConfigError) as error:
        evaluate("production", overrides={"deploymentConfig": "CodeDeployDefault.LambdaCanary50Percent1Minute"})
    message = str(error.value)
    assert "todo-platform:deploymentConfig" in message and "LambdaCanary50Percent1Minute" in message
    assert "'none'" in message and CANARY in message


def test_provisioned_concurrency_with_snapstart_is_refused():
    with pytest.raises(ConfigError) as error:
        evaluate("production", overrides={"provisionedConcurrency": 5})  # production uses snapstart
    message = str(error.value)
    assert "todo-platform:provisionedConcurrency" in message and "coldStartMitigation" in message and "SnapStart" in message


def test_provisioned_without_a_count_is_refused():
    with pytest.raises(ConfigError, match="todo-platform:provisionedConcurrency: must be at least 1"):
        evaluate("staging", overrides={"coldStartMitigation": "provisioned"})


def test_snapstart_functions_are_checked_against_the_catalog_and_the_mitigation():
    with pytest.raises(ConfigError, match=r"todo-platform:snapstartFunctions: migrate, nope not among the API functions"):
        evaluate("production", overrides={"snapstartFunctions": ["todos", "migrate", "nope"]})
    with pytest.raises(ConfigError, match=r"todo-platform:snapstartFunctions: needs coldStartMitigation 'snapstart'; got 'none'"):
        evaluate("staging", overrides={"snapstartFunctions": ["todos"]})
    with pytest.raises(ConfigError, match=r"todo-platform:snapstartFunctions: coldStartMitigation 'snapstart' needs at least one"):
        evaluate("production", overrides={"snapstartFunctions": []})


def test_provisioned_concurrency_above_the_sql_functions_reserved_concurrency_is_refused():
    overrides = {"coldStartMitigation": "provisioned", "provisionedConcurrency": 6, "apiReservedConcurrency": 10}  # staging: SQL 5
    with pytest.raises(ConfigError, match="todo-platform:provisionedConcurrency: 6 is more than sqlFunctionConcurrency 5"):
        evaluate("staging", overrides=overrides)


def test_provisioned_concurrency_above_the_reserved_concurrency_is_refused():
    overrides = {"coldStartMitigation": "provisioned", "provisionedConcurrency": 150, "snapstartFunctions": []}  # production reserves 100
    with pytest.raises(ConfigError, match="todo-platform:provisionedConcurrency: 150 is more than apiReservedConcurrency 100"):
        evaluate("production", overrides=overrides)


def test_an_unknown_cold_start_mitigation_names_the_allowed_values():
    with pytest.raises(
        ConfigError, match=r"todo-platform:coldStartMitigation: got 'warmers'; allowed: 'none', 'snapstart' or 'provisioned'"
    ):
        evaluate("staging", overrides={"coldStartMitigation": "warmers"})


def test_snapstart_on_a_runtime_older_than_3_12_is_refused():
    # the stack's pythonRuntime already allows only 3.12+; the rule stands on its own for when that list grows
    assert cold_start_problems("snapstart", 0, "python3.11") == [
        "coldStartMitigation: snapstart needs pythonRuntime python3.12 or newer; got 'python3.11'"
    ]
    assert cold_start_problems("snapstart", 0, "python3.12") == [] and cold_start_problems("none", 0, "python3.9") == []
    # and the reusable component refuses it too, for programs with their own config
    with pytest.raises(ValueError, match="snapstart needs pythonRuntime python3.12 or newer"):
        FunctionSettings(
            runtime="python3.11",
            architecture="arm64",
            memory_mb=128,
            reserved_concurrency=-1,
            log_retention_days=14,
            environment={},
            cold_start="snapstart",
        )
