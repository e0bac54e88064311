"""Security rules: least privilege from the catalog, private network, encrypted TLS-only database."""

from __future__ import annotations

import json

from components.compute import DATA_API_ACTIONS, ENI_ACTIONS, XRAY_ACTIONS
from todo_app import catalog

from .helpers import FUNCTION, ROLE, all_policy_documents, as_list, function, functions, policy_document, statements, table


def _allowed(document):
    granted = set()
    for s in statements(document):
        assert s["Effect"] == "Allow"
        for action in as_list(s["Action"]):
            for resource in as_list(s["Resource"]):
                granted.add((action, resource))
    return granted


def _expected_grants(stack, name):
    """What the catalog says this function may do, as (action, exact resource) pairs."""
    spec = catalog.FUNCTIONS[name]
    grants = set()
    for access in spec.tables:
        arn = table(stack, access.table).outputs["arn"]
        resources = [arn]
        if access.indexes:
            resources += [f"{arn}/index/{i.name}" for i in catalog.TABLES[access.table].indexes]
        grants |= {(f"dynamodb:{a}", r) for a in access.actions for r in resources}
    if spec.queue_actions:
        queue_arn = stack.named("aws:sqs/queue:Queue", "queue-orders").outputs["arn"]
        grants |= {(f"sqs:{a}", queue_arn) for a in spec.queue_actions}
    if spec.stream:
        # reading exactly the stream of the table that feeds it, and no other
        stream_arn = table(stack, spec.stream).outputs["streamArn"]
        assert stream_arn.startswith(table(stack, spec.stream).outputs["arn"] + "/stream/")
        grants |= {(f"dynamodb:{a}", stream_arn) for a in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")}
    if spec.sends_mail:
        # sending from exactly the stack's sender identity, and nothing else of SES
        identity = f"arn:aws:ses:us-east-1:123456789012:identity/{stack.program.config.mail_from}"
        grants |= {("ses:SendEmail", identity), ("ses:SendRawEmail", identity)}
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    if spec.database:
        # IAM database authentication as the application role: exactly that one database user
        region, account = db.outputs["arn"].split(":")[3:5]
        grants.add(("rds-db:connect", f"arn:aws:rds-db:{region}:{account}:dbuser:{db.outputs['clusterResourceId']}/{catalog.APP_DB_USER}"))
        grants |= {(a, "*") for a in ENI_ACTIONS}
    if spec.database_admin:
        grants |= {(f"rds-data:{a}", db.outputs["arn"]) for a in DATA_API_ACTIONS}
        grants.add(("secretsmanager:GetSecretValue", db.outputs["masterUserSecrets"][0]["secretArn"]))
    log_group = stack.named("aws:cloudwatch/logGroup:LogGroup", f"{name}-logs")
    grants |= {(a, f"{log_group.outputs['arn']}:*") for a in ("logs:CreateLogStream", "logs:PutLogEvents")}
    grants |= {(a, "*") for a in XRAY_ACTIONS}
    return grants


def test_each_function_policy_is_exactly_what_the_catalog_asks(stack):
    for name in catalog.FUNCTIONS:
        assert _allowed(policy_document(stack, name)) == _expected_grants(stack, name), name


def test_index_arns_only_when_the_catalog_asks(stack):
    for name, spec in catalog.FUNCTIONS.items():
        resources = {r for _, r in _allowed(policy_document(stack, name))}
        for access in spec.tables:
            index_arns = {f"{table(stack, access.table).outputs['arn']}/index/{i.name}" for i in catalog.TABLES[access.table].indexes}
            if access.indexes:
                assert index_arns <= resources, name
            else:
                assert not (index_arns & resources), name
        assert not any(r.endswith("/index/*") for r in resources)


def test_no_wildcard_actions_and_wildcard_resources_only_for_xray_and_enis(stack):
    allowed_star = set(XRAY_ACTIONS) | set(ENI_ACTIONS)
    documents = all_policy_documents(stack)
    # each function's own; where CodeDeploy deploys, each traffic-serving function's deployment policy
    deploying = sum(1 for f in catalog.FUNCTIONS.values() if f.kind != "migration") if stack.program.config.gradual_deployment else 0
    assert len(documents) == len(catalog.FUNCTIONS) + deploying
    for name, document in documents:
        for s in statements(document):
            actions = as_list(s["Action"])
            assert all("*" not in a for a in actions), (name, actions)
            if "*" in as_list(s["Resource"]):
                assert s["Resource"] == "*" and set(actions) <= allowed_star, (name, s)
            else:
                for resource in as_list(s["Resource"]):
                    assert resource.startswith("arn:aws:") and "*" not in resource.removesuffix(":*"), (name, resource)
    # resource policies too: no bare "*" action anywhere
    for key in stack.of_type("aws:kms/key:Key"):
        for s in json.loads(key.inputs["policy"])["Statement"]:
            assert "*" not in as_list(s["Action"])


def test_every_dynamodb_sqs_rds_and_secret_statement_names_exact_arns(stack):
    for name, document in all_policy_documents(stack):
        for s in statements(document):
            services = {a.split(":")[0] for a in as_list(s["Action"])}
            if services & {"dynamodb", "sqs", "secretsmanager", "rds-db", "rds-data"}:
                resources = as_list(s["Resource"])
                assert resources and all(r.startswith("arn:aws:") and "*" not in r for r in resources), (name, s)


def test_no_function_behind_the_api_or_the_queue_can_read_a_secret(stack):
    readers = {
        name
        for name, document in all_policy_documents(stack)
        for s in statements(document)
        for action in as_list(s["Action"])
        if action.startswith("secretsmanager:") or action.startswith("rds-data:")
    }
    # only the migrator, which the deploy invokes: no route and no event source reaches it
    assert readers == {"migrate-policy"}
    serving = {r.function for r in catalog.ROUTES} | {"authorizer", "worker"}
    assert "migrate" not in serving and all(catalog.FUNCTIONS[name].kind != "migration" for name in serving)
    behind = [name for name in serving if f"{name}-policy" in readers]
    assert behind == []  # the goal: 0 functions behind the API or the queue can read a secret


def test_sql_functions_connect_as_the_application_user_only(stack):
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    user_arn = f"dbuser:{db.outputs['clusterResourceId']}/{catalog.APP_DB_USER}"
    for name, spec in catalog.FUNCTIONS.items():
        connects = [r for a, r in _allowed(policy_document(stack, name)) if a.startswith("rds-db:")]
        if spec.database:
            (arn,) = connects
            assert arn.startswith("arn:aws:rds-db:us-east-1:") and arn.endswith(user_arn), (name, arn)
            assert catalog.MIGRATOR_DB_USER not in arn
        else:
            assert connects == [], name


def test_the_migrator_runs_outside_the_vpc_with_the_data_api_and_the_master_secret_only(stack):
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    fn = function(stack, "migrate")
    assert "vpcConfig" not in fn.inputs
    grants = {(a, r) for a, r in _allowed(policy_document(stack, "migrate")) if a.split(":")[0] in ("rds-data", "secretsmanager", "rds-db")}
    assert grants == {(f"rds-data:{a}", db.outputs["arn"]) for a in DATA_API_ACTIONS} | {
        ("secretsmanager:GetSecretValue", db.outputs["masterUserSecrets"][0]["secretArn"])
    }
    env = fn.inputs["environment"]["variables"]
    assert env["DB_ADMIN_ACCESS"] == "data-api"
    assert env["DB_CLUSTER_ARN"] == db.outputs["arn"]
    assert env["DB_SECRET_ARN"] == db.outputs["masterUserSecrets"][0]["secretArn"] == stack.outputs["usersDbSecretArn"]
    assert env["DB_USER"] == catalog.APP_DB_USER and env["DB_NAME"] == catalog.DATABASE_NAME


def test_eni_actions_only_for_vpc_functions(stack):
    for name, spec in catalog.FUNCTIONS.items():
        actions = {a for a, _ in _allowed(policy_document(stack, name))}
        assert (set(ENI_ACTIONS) <= actions) is spec.database, name
        assert not (set(ENI_ACTIONS) & actions) or spec.database


def test_each_function_has_its_own_role_and_no_managed_policies(stack):
    roles = {fn.inputs["role"] for fn in stack.of_type(FUNCTION)}
    assert len(roles) == len(catalog.FUNCTIONS)
    for name, fn in functions(stack).items():
        role = stack.named(ROLE, f"{name}-role")
        assert fn.inputs["role"] == role.outputs["arn"]
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        assert "managedPolicyArns" not in role.inputs
    assert not stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert not stack.of_type("aws:iam/policy:Policy")


def test_only_database_functions_run_in_the_vpc(stack):
    functions_sg = next(r for r in stack.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "network-functions")
    subnets = sorted(s.outputs["id"] for s in stack.of_type("aws:ec2/subnet:Subnet"))
    for name, fn in functions(stack).items():
        if catalog.FUNCTIONS[name].database:
            vpc = fn.inputs["vpcConfig"]
            assert sorted(vpc["subnetIds"]) == subnets
            assert vpc["securityGroupIds"] == [functions_sg.outputs["id"]]
        else:
            assert "vpcConfig" not in fn.inputs, name


def test_environment_is_exactly_the_catalog_keys(stack):
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    config = stack.program.config
    for name, fn in functions(stack).items():
        spec = catalog.FUNCTIONS[name]
        env = fn.inputs["environment"]["variables"]
        assert set(env) == set(spec.environment_keys) | set(catalog.COMMON_ENV), name
        for access in spec.tables:
            assert env[catalog.TABLES[access.table].env] == table(stack, access.table).outputs["name"]
        if spec.queue_actions:
            assert env["ORDERS_QUEUE_URL"] == stack.named("aws:sqs/queue:Queue", "queue-orders").outputs["url"]
        if spec.database:
            assert env["DB_PORT"] == "5432" and env["DB_NAME"] == catalog.DATABASE_NAME and env["DB_SSLMODE"] == "require"
            assert env["DB_HOST"] == db.outputs["endpoint"] == stack.outputs["usersDbEndpoint"]
            assert env["DB_USER"] == catalog.APP_DB_USER and env["DB_AUTH"] == "iam"
            assert env["DB_CONNECT_TIMEOUT"] == str(config.db_connect_timeout_seconds)
            assert env["DB_IDLE_TIMEOUT"] == str(config.db_idle_timeout_seconds)
            assert env["DB_HEALTH"] == config.db_health
            assert "DB_SECRET_ARN" not in env
        assert env["SESSION_TTL_SECONDS"] == str(stack.program.config.session_ttl_hours * 3600) == "86400"
        assert env["POWERTOOLS_SERVICE_NAME"] == "todo-platform"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "TodoPlatform"
        assert env["LOG_LEVEL"] == "INFO"
        assert not any("PASSWORD" in k for k in env)


def test_tracing_and_timeouts_from_the_catalog(stack):
    for name, fn in functions(stack).items():
        spec = catalog.FUNCTIONS[name]
        assert fn.inputs["tracingConfig"]["mode"] in ("Active", "PassThrough")  # per stack: test_matrix
        if spec.database and stack.program.config.db_pauses:
            # a resume (~15 s) plus the query, under the HTTP API's 30 s integration limit
            assert fn.inputs["timeout"] == 28, name
        else:
            assert fn.inputs["timeout"] == spec.timeout, name
        assert fn.inputs["handler"] == spec.handler


# --------------------------------------------------------------------------- network


def test_no_nat_no_internet_gateway_no_public_subnets(stack):
    for forbidden in (
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/route:Route",
    ):
        assert not stack.of_type(forbidden), forbidden
    subnets = stack.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 2
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 2
    assert all(s.inputs.get("mapPublicIpOnLaunch") is False for s in subnets)
    for rt in stack.of_type("aws:ec2/routeTable:RouteTable"):
        assert not rt.inputs.get("routes")


def test_no_interface_endpoint_only_the_dynamodb_gateway(stack):
    endpoints = stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    region = stack.outputs["region"]
    (gateway,) = endpoints
    (rt,) = stack.of_type("aws:ec2/routeTable:RouteTable")
    assert gateway.inputs["serviceName"] == f"com.amazonaws.{region}.dynamodb"
    assert gateway.inputs["vpcEndpointType"] == "Gateway" and gateway.inputs["routeTableIds"] == [rt.outputs["id"]]
    assert not [g for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name == "network-endpoints"]


def test_in_vpc_functions_reach_only_postgres_and_the_dynamodb_gateway(stack):
    groups = {g.name: g.outputs["id"] for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert set(groups) == {"network-functions", "network-database"}
    (gateway,) = stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    egress = [r.inputs for r in stack.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")]
    assert all(r["securityGroupId"] == groups["network-functions"] for r in egress)
    assert sorted((r["toPort"], r.get("referencedSecurityGroupId") or r.get("prefixListId")) for r in egress) == sorted(
        [(5432, groups["network-database"]), (443, gateway.outputs["prefixListId"])]
    )


def test_a_database_function_that_needs_another_service_in_the_vpc_is_refused():
    import dataclasses

    import pytest

    from components.network import in_vpc_problems

    queued = dataclasses.replace(catalog.FUNCTIONS["todos"], queue_actions=("SendMessage",))
    (problem,) = in_vpc_problems([queued])
    assert "'todos'" in problem and "SQS" in problem and "SendMessage" in problem
    assert in_vpc_problems(catalog.FUNCTIONS.values()) == []

    from components.compute import LambdaFunction, LambdaFunctionArgs

    # the component refuses it before registering anything
    with pytest.raises(ValueError, match="'todos'.*SQS"):
        LambdaFunction("todos", LambdaFunctionArgs(spec=queued, physical_name="x", code=None, settings=None, resources=None))  # type: ignore[arg-type]


def test_postgres_reachable_only_from_the_functions(stack):
    groups = {g.name: g.outputs["id"] for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup")}
    db_sg, fn_sg = groups["network-database"], groups["network-functions"]
    for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not g.inputs.get("ingress") and not g.inputs.get("egress")  # rules are separate resources
    ingress = stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [r.inputs["securityGroupId"] for r in ingress] == [db_sg]
    to_db = [r.inputs for r in ingress if r.inputs["securityGroupId"] == db_sg]
    assert {r["referencedSecurityGroupId"] for r in to_db} == {fn_sg}
    for rule in to_db:
        assert rule["ipProtocol"] == "tcp" and rule["fromPort"] == rule["toPort"] == 5432
        assert "cidrIpv4" not in rule and "cidrIpv6" not in rule and "prefixListId" not in rule
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    assert db.inputs["vpcSecurityGroupIds"] == [db_sg]


def test_aurora_private_and_encrypted_with_a_managed_password(stack):
    (db,) = stack.of_type("aws:rds/cluster:Cluster")
    (subnet_group,) = stack.of_type("aws:rds/subnetGroup:SubnetGroup")
    for instance in stack.of_type("aws:rds/clusterInstance:ClusterInstance"):
        assert instance.inputs["publiclyAccessible"] is False
    assert db.inputs["storageEncrypted"] is True
    assert db.inputs["manageMasterUserPassword"] is True
    assert "masterPassword" not in db.inputs and "masterPasswordWo" not in db.inputs
    assert db.inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(s.outputs["id"] for s in stack.of_type("aws:ec2/subnet:Subnet"))
    for resource in stack.resources:
        assert "password" not in {k.lower() for k in resource.inputs}, resource.name


def test_function_role_policy_is_attached_before_the_function(stack):
    for name in catalog.FUNCTIONS:
        fn = function(stack, name)
        assert any(urn.endswith(f"::{name}-policy") for urn in fn.dependencies), name
        assert any(urn.endswith(f"::{name}-logs") for urn in fn.dependencies), name
