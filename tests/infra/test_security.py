"""Security rules: least privilege from the catalog, private network, encrypted TLS-only database."""

from __future__ import annotations

import json

from components.compute import ENI_ACTIONS, XRAY_ACTIONS
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
    if spec.database:
        (db,) = stack.of_type("aws:rds/instance:Instance")
        grants.add(("secretsmanager:GetSecretValue", db.outputs["masterUserSecrets"][0]["secretArn"]))
        grants |= {(a, "*") for a in ENI_ACTIONS}
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
    # each function's own; the proxy's; where CodeDeploy deploys, each traffic-serving function's deployment policy
    deploying = sum(1 for f in catalog.FUNCTIONS.values() if f.kind != "migration") if stack.program.config.gradual_deployment else 0
    assert len(documents) == len(catalog.FUNCTIONS) + (1 if stack.program.config.db_proxy else 0) + deploying
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


def test_every_dynamodb_sqs_and_secret_statement_names_exact_arns(stack):
    for name, document in all_policy_documents(stack):
        for s in statements(document):
            services = {a.split(":")[0] for a in as_list(s["Action"])}
            if services & {"dynamodb", "sqs", "secretsmanager"}:
                resources = as_list(s["Resource"])
                assert resources and all(r.startswith("arn:aws:") and "*" not in r for r in resources), (name, s)


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
    (db,) = stack.of_type("aws:rds/instance:Instance")
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
            assert env["DB_SECRET_ARN"] == db.outputs["masterUserSecrets"][0]["secretArn"]
        assert env["SESSION_TTL_SECONDS"] == str(stack.program.config.session_ttl_hours * 3600) == "86400"
        assert env["POWERTOOLS_SERVICE_NAME"] == "todo-platform"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "TodoPlatform"
        assert env["LOG_LEVEL"] == "INFO"
        assert not any("PASSWORD" in k for k in env)


def test_tracing_and_timeouts_from_the_catalog(stack):
    for name, fn in functions(stack).items():
        assert fn.inputs["tracingConfig"]["mode"] in ("Active", "PassThrough")  # per stack: test_matrix
        assert fn.inputs["timeout"] == catalog.FUNCTIONS[name].timeout
        assert fn.inputs["handler"] == catalog.FUNCTIONS[name].handler


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


def test_vpc_endpoints(stack):
    endpoints = {e.inputs["serviceName"]: e for e in stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    region = stack.outputs["region"]
    assert set(endpoints) == {f"com.amazonaws.{region}.dynamodb", f"com.amazonaws.{region}.secretsmanager"}
    (rt,) = stack.of_type("aws:ec2/routeTable:RouteTable")
    gateway = endpoints[f"com.amazonaws.{region}.dynamodb"]
    assert gateway.inputs["vpcEndpointType"] == "Gateway" and gateway.inputs["routeTableIds"] == [rt.outputs["id"]]
    secrets = endpoints[f"com.amazonaws.{region}.secretsmanager"]
    assert secrets.inputs["vpcEndpointType"] == "Interface" and secrets.inputs["privateDnsEnabled"] is True
    assert sorted(secrets.inputs["subnetIds"]) == sorted(s.outputs["id"] for s in stack.of_type("aws:ec2/subnet:Subnet"))


def test_postgres_reachable_only_from_the_functions_and_the_proxy(stack):
    groups = {g.name: g.outputs["id"] for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup")}
    db_sg, fn_sg = groups["network-database"], groups["network-functions"]
    for g in stack.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not g.inputs.get("ingress") and not g.inputs.get("egress")  # rules are separate resources
    ingress = stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    to_db = [r.inputs for r in ingress if r.inputs["securityGroupId"] == db_sg]
    assert {r["referencedSecurityGroupId"] for r in to_db} == {fn_sg, db_sg}
    for rule in to_db:
        assert rule["ipProtocol"] == "tcp" and rule["fromPort"] == rule["toPort"] == 5432
        assert "cidrIpv4" not in rule and "cidrIpv6" not in rule and "prefixListId" not in rule
    for rule in ingress:
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    (db,) = stack.of_type("aws:rds/instance:Instance")
    assert db.inputs["vpcSecurityGroupIds"] == [db_sg]


def test_rds_private_and_encrypted_with_a_managed_password(stack):
    (db,) = stack.of_type("aws:rds/instance:Instance")
    (subnet_group,) = stack.of_type("aws:rds/subnetGroup:SubnetGroup")
    assert db.inputs["publiclyAccessible"] is False
    assert db.inputs["storageEncrypted"] is True
    assert db.inputs["manageMasterUserPassword"] is True
    assert "password" not in db.inputs and "passwordWo" not in db.inputs
    assert db.inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
    assert sorted(subnet_group.inputs["subnetIds"]) == sorted(s.outputs["id"] for s in stack.of_type("aws:ec2/subnet:Subnet"))
    for resource in stack.resources:
        assert "password" not in {k.lower() for k in resource.inputs}, resource.name


def test_function_role_policy_is_attached_before_the_function(stack):
    for name in catalog.FUNCTIONS:
        fn = function(stack, name)
        assert any(urn.endswith(f"::{name}-policy") for urn in fn.dependencies), name
        assert any(urn.endswith(f"::{name}-logs") for urn in fn.dependencies), name
