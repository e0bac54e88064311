"""`LambdaFunction`: one catalog function with its own role, least-privilege policy and log group.

Everything a function is allowed to do is derived from its catalog entry (`todo_app.catalog.FunctionSpec`):
the DynamoDB actions on the exact table (and, when asked, index) ARNs, the SQS actions on the queue ARN,
the database secret for database functions, its own log group, X-Ray, and the ENI actions only for the
functions that run in the VPC. Its environment is exactly the catalog's `environment_keys` plus
`COMMON_ENV`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from .config import StackConfig

# Lambda needs these to attach a VPC function to its subnets (AWSLambdaVPCAccessExecutionRole's
# actions without DescribeSubnets). AWS offers no resource-level permissions for them, hence "*".
ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
# X-Ray's write API has no resource-level permissions either.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


LAMBDA_ASSUME_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


# --------------------------------------------------------------------------- what a function can reach


@dataclass(frozen=True)
class TableRef:
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    index_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)  # index name -> ARN


@dataclass(frozen=True)
class QueueRef:
    url: pulumi.Input[str]
    arn: pulumi.Input[str]


@dataclass(frozen=True)
class DatabaseRef:
    host: pulumi.Input[str]  # the RDS Proxy endpoint when there is one, else the instance address
    port: int
    name: str
    secret_arn: pulumi.Input[str]


@dataclass(frozen=True)
class VpcPlacement:
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class SharedCode:
    """The code archive and dependency layer every function uses."""

    archive: pulumi.Archive
    layer_arn: pulumi.Input[str]


@dataclass(frozen=True)
class FunctionContext:
    """Everything the tiers have built so far that a function may be wired to."""

    config: StackConfig
    name_prefix: str  # physical names: <prefix>-<function>
    code: SharedCode
    tables: Mapping[str, TableRef] = field(default_factory=dict)
    queue: QueueRef | None = None
    database: DatabaseRef | None = None
    vpc: VpcPlacement | None = None

    def with_(self, **changes: Any) -> FunctionContext:
        from dataclasses import replace

        return replace(self, **changes)


def reserved_concurrency_for(spec: catalog.FunctionSpec, config: StackConfig) -> int:
    """API functions get the configured reservation; -1 (unreserved) for everything else."""
    return config.api_reserved_concurrency if spec.kind == "api" else -1


def environment_for(spec: catalog.FunctionSpec, ctx: FunctionContext) -> dict[str, pulumi.Input[str]]:
    """Exactly the catalog's environment keys for this function, plus COMMON_ENV."""
    available: dict[str, pulumi.Input[str]] = {}
    for key, ref in ctx.tables.items():
        available[catalog.TABLES[key].env] = ref.name
    if ctx.queue is not None:
        available[catalog.ORDERS_QUEUE.queue_url_env] = ctx.queue.url
    if ctx.database is not None:
        db = ctx.database
        available.update(
            catalog.database_environment(host=db.host, port=db.port, secret_arn=db.secret_arn, sslmode="require", name=db.name)
        )
    missing = [k for k in spec.environment_keys if k not in available]
    if missing:
        raise ValueError(f"function {spec.name!r} needs {missing}, which no tier built before it provides")
    env: dict[str, pulumi.Input[str]] = {k: available[k] for k in spec.environment_keys}
    env.update(catalog.common_environment(ctx.config.session_ttl_seconds))
    return env


def policy_statements(spec: catalog.FunctionSpec, ctx: FunctionContext, log_group_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """The function's least-privilege statements, each naming exact actions and exact ARNs."""
    statements: list[dict[str, Any]] = []
    for access in spec.tables:
        table = catalog.TABLES[access.table]
        if access.table not in ctx.tables:
            raise ValueError(f"function {spec.name!r} uses table {access.table!r}, which is not built")
        ref = ctx.tables[access.table]
        resources: list[pulumi.Input[str]] = [ref.arn]
        if access.indexes:
            resources += [ref.index_arns[index.name] for index in table.indexes]
        statements.append(
            {
                "Sid": f"DynamoDB{access.table.capitalize()}",
                "Effect": "Allow",
                "Action": [f"dynamodb:{a}" for a in access.actions],
                "Resource": resources,
            }
        )
    if spec.queue_actions:
        if ctx.queue is None:
            raise ValueError(f"function {spec.name!r} uses the orders queue, which is not built")
        statements.append(
            {"Sid": "OrdersQueue", "Effect": "Allow", "Action": [f"sqs:{a}" for a in spec.queue_actions], "Resource": [ctx.queue.arn]}
        )
    if spec.database:
        if ctx.database is None:
            raise ValueError(f"function {spec.name!r} uses the database, which is not built")
        statements.append(
            {"Sid": "DatabaseSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [ctx.database.secret_arn]}
        )
    statements.append(
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": list(LOG_ACTIONS), "Resource": [pulumi.Output.concat(log_group_arn, ":*")]}
    )
    statements.append({"Sid": "XRay", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"})
    if spec.database:
        statements.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"})
    return statements


# --------------------------------------------------------------------------- the component


@dataclass(frozen=True)
class LambdaFunctionArgs:
    spec: catalog.FunctionSpec
    context: FunctionContext


class LambdaFunction(pulumi.ComponentResource):
    """One catalog function: role + inline policy, log group, and the function itself."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    log_group: aws.cloudwatch.LogGroup
    function: aws.lambda_.Function
    spec: catalog.FunctionSpec

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:compute:LambdaFunction", name, None, opts)
        spec, ctx = args.spec, args.context
        config = ctx.config
        child = pulumi.ResourceOptions(parent=self)
        in_vpc = spec.database
        if in_vpc and ctx.vpc is None:
            raise ValueError(f"function {spec.name!r} reaches the database but no VPC placement was given")

        self.spec = spec
        self.function_name = f"{ctx.name_prefix}-{spec.name}"
        self.timeout = spec.timeout

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{self.function_name}",
            retention_in_days=config.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.json_dumps(LAMBDA_ASSUME_ROLE),
            description=f"{self.function_name}: {spec.description}"[:1000],
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": policy_statements(spec, ctx, self.log_group.arn)}),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=self.function_name,
            description=spec.description,
            role=self.role.arn,
            runtime=config.python_runtime,
            architectures=[config.architecture],
            handler=spec.handler,
            code=ctx.code.archive,
            layers=[ctx.code.layer_arn],
            memory_size=config.function_memory_mb(spec.kind),
            timeout=spec.timeout,
            reserved_concurrent_executions=reserved_concurrency_for(spec, config),
            environment={"variables": environment_for(spec, ctx)},
            tracing_config={"mode": "Active"},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            vpc_config=(
                {"subnet_ids": list(ctx.vpc.subnet_ids), "security_group_ids": list(ctx.vpc.security_group_ids)}
                if in_vpc and ctx.vpc is not None
                else None
            ),
            # the log group must exist first (or Lambda creates one without retention), and the
            # policy must be in place before anything invokes the function
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.policy]),
        )
        self.register_outputs({"functionName": self.function.name, "functionArn": self.function.arn, "roleArn": self.role.arn})


def build_functions(
    component: pulumi.ComponentResource, specs: Sequence[catalog.FunctionSpec], ctx: FunctionContext
) -> dict[str, LambdaFunction]:
    """A LambdaFunction per spec, children of the tier component that owns them."""
    return {
        spec.name: LambdaFunction(spec.name, LambdaFunctionArgs(spec=spec, context=ctx), pulumi.ResourceOptions(parent=component))
        for spec in specs
    }


def dependency_layer(
    config: StackConfig, name_prefix: str, layer_zip: str, opts: pulumi.ResourceOptions | None = None
) -> aws.lambda_.LayerVersion:
    return aws.lambda_.LayerVersion(
        "dependencies",
        layer_name=f"{name_prefix}-dependencies",
        description="Runtime dependencies of todo_app (functions/requirements.txt)",
        code=pulumi.FileArchive(layer_zip),
        compatible_runtimes=[config.python_runtime],
        compatible_architectures=[config.architecture],
        opts=opts,
    )
