"""Aurora PostgreSQL Serverless v2 in both stacks, the connection budget, and what the stack no longer pays for.

Expected values are written out from the design (DESIGN.md sections 3 and 4), not read from the YAML.
"""

from __future__ import annotations

import pytest

from components.config import ConfigError, StackConfig, aurora_max_connections
from components.program import sql_functions
from todo_app import catalog

from .helpers import FUNCTION
from .mocks import evaluate

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMETERS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"

EXPECTED = {
    "staging": dict(min=0, max=1, pause=600, readers=0, protection=False, backups=1),
    "production": dict(min=0.5, max=4, pause=None, readers=1, protection=True, backups=7),
}


def test_one_aurora_postgresql_serverless_v2_cluster(stack):
    (db,) = stack.of_type(CLUSTER)
    i = db.inputs
    assert i["engine"] == "aurora-postgresql" and i["engineMode"] == "provisioned"
    major, minor = (int(p) for p in i["engineVersion"].split("."))
    assert (major, minor) >= (16, 3)  # the first 16.x that scales to 0 ACU
    assert i["databaseName"] == catalog.DATABASE_NAME
    assert i["masterUsername"] == catalog.MIGRATOR_DB_USER and i["manageMasterUserPassword"] is True
    assert i["iamDatabaseAuthenticationEnabled"] is True  # the application role logs in with tokens
    assert i["enableHttpEndpoint"] is True  # the Data API: the migrator, outside the VPC
    assert i["storageEncrypted"] is True and i["copyTagsToSnapshot"] is True
    assert i["port"] == 5432
    (subnet_group,) = stack.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert i["dbSubnetGroupName"] == subnet_group.outputs["name"]
    # nothing of the old design is left
    for gone in ("aws:rds/instance:Instance", "aws:rds/proxy:Proxy", "aws:rds/parameterGroup:ParameterGroup"):
        assert not stack.of_type(gone), gone


def test_capacity_pause_backups_and_protection_per_stack(stack):
    e = EXPECTED[stack.stack]
    (db,) = stack.of_type(CLUSTER)
    scaling = db.inputs["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == e["min"] and scaling["maxCapacity"] == e["max"]
    # auto-pause only where the minimum is 0 ACU (AWS refuses it otherwise)
    assert scaling.get("secondsUntilAutoPause") == e["pause"]
    assert stack.program.config.db_pauses is (e["min"] == 0)
    assert db.inputs["backupRetentionPeriod"] == e["backups"]
    assert db.inputs["deletionProtection"] is e["protection"]
    if stack.stack == "production":
        assert scaling["minCapacity"] >= 0.5 and db.inputs["backupRetentionPeriod"] >= 7  # never pauses; PITR a week


def test_force_ssl_in_the_cluster_parameter_group(stack):
    (db,) = stack.of_type(CLUSTER)
    (group,) = stack.of_type(PARAMETERS)
    assert group.inputs["family"] == "aurora-postgresql16"
    assert [(p["name"], p["value"]) for p in group.inputs["parameters"]] == [("rds.force_ssl", "1")]
    assert db.inputs["dbClusterParameterGroupName"] == group.outputs["name"]


def test_a_serverless_writer_and_readers_in_another_az(stack):
    e = EXPECTED[stack.stack]
    (db,) = stack.of_type(CLUSTER)
    instances = {i.name: i.inputs for i in stack.of_type(INSTANCE)}
    readers = sorted(n for n in instances if n.startswith("database-users-reader-"))
    assert set(instances) == {"database-users-writer", *readers} and len(readers) == e["readers"]
    subnets = {s.name: s.inputs["availabilityZone"] for s in stack.of_type("aws:ec2/subnet:Subnet")}
    writer = instances["database-users-writer"]
    assert writer["availabilityZone"] == subnets["network-private-0"]
    for inputs in instances.values():
        assert inputs["instanceClass"] == "db.serverless" and inputs["engine"] == "aurora-postgresql"
        assert inputs["clusterIdentifier"] == db.outputs["id"] and inputs["publiclyAccessible"] is False
        assert inputs["promotionTier"] in (0, 1)  # scales and pauses with the writer, first to be promoted
    for name in readers:
        # a failover target that survives the loss of the writer's AZ
        assert instances[name]["availabilityZone"] != writer["availabilityZone"]
        assert instances[name]["availabilityZone"] in subnets.values()


def test_no_nat_and_no_interface_endpoint_in_either_stack(stack):
    assert not stack.of_type("aws:ec2/natGateway:NatGateway")
    endpoints = stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    assert [e.inputs["vpcEndpointType"] for e in endpoints] == ["Gateway"]


def test_sql_functions_settings_for_a_database_that_pauses_or_not(stack):
    config = stack.program.config
    pauses = EXPECTED[stack.stack]["min"] == 0
    for fn in stack.of_type(FUNCTION):
        name = fn.name.removesuffix("-function")
        if not catalog.FUNCTIONS[name].database:
            continue
        env = fn.inputs["environment"]["variables"]
        assert env["DB_CONNECT_TIMEOUT"] == ("20" if pauses else "5")
        assert env["DB_IDLE_TIMEOUT"] == ("60" if pauses else "0")  # idle connections closed: it can pause
        assert env["DB_HEALTH"] == ("last-known" if pauses else "connect")  # health does not wake it
        # the Lambda timeout covers the connect timeout and stays under the API's 30 s
        if pauses:
            assert int(env["DB_CONNECT_TIMEOUT"]) < fn.inputs["timeout"] == 28 < 30
        assert fn.inputs["reservedConcurrentExecutions"] == config.sql_function_concurrency


def test_api_detailed_metrics_are_off(stack):
    (stage,) = stack.of_type("aws:apigatewayv2/stage:Stage")
    assert stage.inputs["defaultRouteSettings"]["detailedMetricsEnabled"] is False
    assert stage.inputs.get("routeSettings") in (None, [])


def test_the_dashboard_only_where_asked(stack):
    dashboards = stack.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert len(dashboards) == (1 if stack.stack == "production" else 0) == int(stack.program.config.dashboard)
    stack.check(stack.program.observability.dashboard_name, lambda v: _equal(v, stack.outputs["dashboardName"]))
    if dashboards:
        assert stack.outputs["dashboardName"] == "todo-platform-production"


def _equal(actual, expected):
    assert actual == expected, f"{actual!r} != {expected!r}"


# --------------------------------------------------------------------------- the connection budget


def test_max_connections_at_the_documented_points():
    assert aurora_max_connections(0.5, 1) == 189
    assert aurora_max_connections(0.5, 3.5) == 189  # the largest documented point at or under the maximum
    assert aurora_max_connections(1, 4) == 823
    assert aurora_max_connections(1, 8) == 1669
    assert aurora_max_connections(1, 16) == 3360
    assert aurora_max_connections(1, 64) == 5000
    assert aurora_max_connections(0, 64) == aurora_max_connections(0.5, 16) == 2000  # capped with a 0/0.5 minimum


def test_both_stacks_fit_their_connection_budget(stack):
    config = stack.program.config
    assert len(sql_functions()) == 5
    budget = config.connection_budget(len(sql_functions()))
    limits = {"staging": (5 * 5 + 10, 189), "production": (5 * 100 + 10, 823)}
    assert (budget, config.max_connections()) == limits[stack.stack]
    config.check_connection_budget(len(sql_functions()))  # accepted


def test_a_budget_beyond_max_connections_is_rejected_naming_both_numbers_and_keys():
    with pytest.raises(ConfigError) as error:
        evaluate("staging", overrides={"sqlFunctionConcurrency": 40})  # 5 x 40 + 10 = 210 > 189 at 1 ACU
    message = str(error.value)
    assert "todo-platform:sqlFunctionConcurrency" in message and "dbMaxCapacity" in message
    assert "210" in message and "189" in message


def test_raising_the_maximum_capacity_accepts_the_same_concurrency():
    config = StackConfig.from_files("staging").model_copy(update={"sql_function_concurrency": 40, "db_max_capacity": 4.0})
    config.check_connection_budget(5)  # 210 <= 823
    with pytest.raises(ConfigError, match="4010 connections, more than max_connections 2000"):
        config.model_copy(update={"sql_function_concurrency": 800, "db_max_capacity": 64.0}).check_connection_budget(5)


def test_the_resume_timeouts_fit_under_the_api_limit():
    from components.config import API_INTEGRATION_LIMIT_SECONDS, DB_RESUME_CONNECT_TIMEOUT, SQL_TIMEOUT_WHERE_PAUSED

    # a resume (~15 s) fits the connect timeout, which fits the Lambda timeout, which fits the HTTP API's limit
    assert 15 < DB_RESUME_CONNECT_TIMEOUT < SQL_TIMEOUT_WHERE_PAUSED < API_INTEGRATION_LIMIT_SECONDS == 30
    staging = StackConfig.from_files("staging")
    assert staging.sql_function_timeout(10) == SQL_TIMEOUT_WHERE_PAUSED
    assert StackConfig.from_files("production").sql_function_timeout(10) == 10
