"""`LambdaFunction`: one function with its own role, least-privilege policy and log group, its published
versions and the `live` alias that everything invokes.

What a function may do is derived from its spec (`tierspec.FunctionSpec`) and the resources it
is given (`FunctionResources`): the DynamoDB actions on the exact table (and, when asked, index) ARNs,
the SQS actions on the queue ARN, `rds-db:connect` as the application's database user for database
functions (IAM authentication: no secret), the Data API on the cluster and the master secret for the
migrator only (`database_admin`, outside the VPC), its own log group, X-Ray, and the ENI actions only
for functions that run in the VPC. Its environment is exactly the settings of those resources (each
table's variable, the queue URL, the database settings the program gives in `FunctionResources`) plus
the common environment it is given.

Every code or configuration change publishes a version; callers (API integrations, permissions, event
source mappings, the migration invocation) use the `live` alias, never the unqualified function, so the
version that serves traffic changes only when the alias moves: at once (Pulumi points it), or gradually
with CodeDeploy (`deploy_gradually`, which rolls back on the alias's alarms). Where the stack asks, the
published versions get SnapStart, or the alias gets provisioned concurrency.

The spec names tables by key; `FunctionResources.tables` maps those keys to built tables, so the same
component serves any catalog of functions and tables, not only this application's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from tierspec import FunctionSpec, Table

from .config import cold_start_problems
from .deployment import AliasDeployment, AliasDeploymentArgs
from .network import in_vpc_problems
from .tokens import type_token, with_former_token

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

ALIAS = "live"  # the alias every caller invokes
# CodeDeploy moves the alias (weights during a canary, then the version): Pulumi must not move it back.
CODEDEPLOY_MANAGED_ALIAS_PROPERTIES = ["functionVersion", "routingConfig"]
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]

LAMBDA_ASSUME_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


# --------------------------------------------------------------------------- what a function can reach


@dataclass(frozen=True)
class TableRef:
    """A built DynamoDB table and the spec it was built from.

    Attributes:
        spec: the table's spec (key, environment variable, indexes).
        name: the table's physical name, which its environment variable carries.
        arn: the table's ARN.
        index_arns: each index's ARN, by index name.
        stream_arn: the ARN of the table's stream, where its spec has one.
    """

    spec: Table
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    index_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    stream_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class MailSender:
    """The SES sender identity a function with `sends_mail` sends from, and the settings it gets.

    Attributes:
        identity_arn: the identity's ARN (verified outside the program): the only resource the function's SES
            statement names.
        environment: the variables such a function gets (the application's names: the sender address, ...).
    """

    identity_arn: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


# What an event source mapping reads from a DynamoDB stream with the function's role.
STREAM_ACTIONS = ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
# A stream-fed function's mapping: small batches, a bounded number of retries, records no older than an hour.
STREAM_BATCH_SIZE, STREAM_RETRY_ATTEMPTS, STREAM_MAX_RECORD_AGE_SECONDS = 10, 10, 3600
# What sending mail through SES takes; granted on the sender identity only.
SES_SEND_ACTIONS = ("SendEmail", "SendRawEmail")


@dataclass(frozen=True)
class QueueRef:
    """A built SQS queue and the environment variable that carries its URL to a function.

    Attributes:
        url_env: the environment variable that carries the queue's URL.
        url: the queue's URL.
        arn: the queue's ARN, which the functions' SQS statements name.
    """

    url_env: str
    url: pulumi.Input[str]
    arn: pulumi.Input[str]


# The RDS Data API calls the migrator makes: statements in one transaction.
DATA_API_ACTIONS = ("BeginTransaction", "ExecuteStatement", "CommitTransaction", "RollbackTransaction")


@dataclass(frozen=True)
class DatabaseRef:
    """The Aurora cluster: where database functions connect and what the migrator uses.

    Attributes:
        host: the writer endpoint, where database functions connect.
        port: the PostgreSQL port.
        name: the database's name.
        cluster_arn: the cluster's ARN, on which the migrator calls the Data API.
        cluster_resource_id: the cluster's resource id, by which `rds-db:connect` names the cluster.
        secret_arn: the RDS-managed master secret: the migrator's only.
        user: the database user that functions with `database` connect as (IAM authentication: `rds-db:connect`
            allows exactly this user).
    """

    host: pulumi.Input[str]
    port: int
    name: str
    cluster_arn: pulumi.Input[str]
    cluster_resource_id: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    user: str

    def user_arn(self, user: str) -> pulumi.Output[str]:
        """`arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>`: what `rds-db:connect` allows."""

        def arn(values: list[str]) -> str:
            cluster_arn, resource_id = values
            partition, region, account = cluster_arn.split(":")[1], cluster_arn.split(":")[3], cluster_arn.split(":")[4]
            return f"arn:{partition}:rds-db:{region}:{account}:dbuser:{resource_id}/{user}"

        return pulumi.Output.all(self.cluster_arn, self.cluster_resource_id).apply(arn)


@dataclass(frozen=True)
class VpcPlacement:
    """Where a function that runs in the VPC is placed.

    Attributes:
        subnet_ids: the subnets its network interfaces go in.
        security_group_ids: the security groups of those interfaces.
    """

    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class FunctionResources:
    """Everything built that a function may be wired to; each function takes only what its spec asks for.

    Attributes:
        tables: the built tables, by `Table.key`.
        queue: the queue, for functions with `queue_actions`.
        database: the database, for functions with `database` or `database_admin`.
        vpc: where functions with `database` run (required by them).
        database_environment: the variables a function with `database` gets to connect (host, user, TLS, ...):
            the application's names, built by the program from `database`.
        admin_database_environment: the variables a function with `database_admin` gets (the Data API's cluster and
            secret, ...), likewise.
        mail: the SES sender, for functions with `sends_mail`.
    """

    tables: Mapping[str, TableRef] = field(default_factory=dict)
    queue: QueueRef | None = None
    database: DatabaseRef | None = None
    vpc: VpcPlacement | None = None
    database_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    admin_database_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    mail: MailSender | None = None


@dataclass(frozen=True)
class SharedCode:
    """The code archive and dependency layer every function uses.

    Attributes:
        archive: the code (e.g. `pulumi.FileArchive` of `packaging.build_function_archive()`).
        layer_arn: a dependency layer's ARN, when the code needs one.
    """

    archive: pulumi.Archive
    layer_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class FunctionSettings:
    """The stack's settings for one function.

    Attributes:
        runtime: the Lambda runtime, e.g. "python3.12".
        architecture: "arm64" or "x86_64".
        memory_mb: the function's memory in MB.
        reserved_concurrency: the function's reserved concurrency; -1: unreserved.
        log_retention_days: how long its log group keeps entries.
        environment: variables the function gets besides its resources' settings.
        tracing_mode: X-Ray: "Active", or "PassThrough" (traced only when the caller sampled the request).
        application_log_level: the lowest level of the function's own JSON log lines sent to CloudWatch.
        system_log_level: the lowest level of Lambda's platform records; WARN drops each invocation's start and report.
        cold_start: "none", "snapstart" (on published versions) or "provisioned" (provisioned concurrency on the alias);
            only for functions of kind "api" or "authorizer".
        provisioned_concurrency: the alias's provisioned concurrency, with cold_start "provisioned" only.
        gradual_deployment: CodeDeploy moves the alias (see `LambdaFunction.deploy_gradually`), not Pulumi; not for a
            function of kind "migration".
        timeout: the function's timeout in seconds; None: the spec's.
    """

    runtime: str
    architecture: str
    memory_mb: int
    reserved_concurrency: int
    log_retention_days: int
    environment: Mapping[str, str]
    tracing_mode: str = "Active"
    application_log_level: str = "INFO"
    system_log_level: str = "INFO"
    cold_start: str = "none"
    provisioned_concurrency: int = 0
    gradual_deployment: bool = False
    timeout: int | None = None

    def __post_init__(self) -> None:
        if self.cold_start not in ("none", "snapstart", "provisioned"):
            raise ValueError(f"FunctionSettings.cold_start: got {self.cold_start!r}; allowed: 'none', 'snapstart', 'provisioned'")
        problems = cold_start_problems(self.cold_start, self.provisioned_concurrency, self.runtime)
        if problems:
            raise ValueError("FunctionSettings: " + "; ".join(problems))


def environment_for(spec: FunctionSpec, resources: FunctionResources, common: Mapping[str, str]) -> dict[str, pulumi.Input[str]]:
    """The settings of exactly the resources the spec uses, plus the common environment."""
    env: dict[str, pulumi.Input[str]] = {}
    for access in spec.tables:
        table = _table(spec, resources, access.table)
        env[table.spec.env] = table.name
    if spec.queue_actions:
        queue = _required(spec, "the queue", resources.queue)
        env[queue.url_env] = queue.url
    if spec.database:
        _required(spec, "the database", resources.database)
        env.update(resources.database_environment)
    if spec.database_admin:
        _required(spec, "the database", resources.database)
        env.update(resources.admin_database_environment)
    if spec.sends_mail:
        env.update(_required(spec, "a mail sender", resources.mail).environment)
    env.update(common)
    return env


def policy_statements(spec: FunctionSpec, resources: FunctionResources, log_group_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """The function's least-privilege statements, each naming exact actions and exact ARNs."""
    statements: list[dict[str, Any]] = []
    for access in spec.tables:
        table = _table(spec, resources, access.table)
        arns: list[pulumi.Input[str]] = [table.arn]
        if access.indexes:
            arns += [table.index_arns[index.name] for index in table.spec.indexes]
        statements.append(
            {
                "Sid": f"DynamoDB{access.table.capitalize()}",
                "Effect": "Allow",
                "Action": [f"dynamodb:{a}" for a in access.actions],
                "Resource": arns,
            }
        )
    if spec.queue_actions:
        queue = _required(spec, "the queue", resources.queue)
        statements.append({"Sid": "Queue", "Effect": "Allow", "Action": [f"sqs:{a}" for a in spec.queue_actions], "Resource": [queue.arn]})
    if spec.stream:
        stream = _table(spec, resources, spec.stream)
        statements.append(
            {
                "Sid": "Stream" + spec.stream[:1].upper() + spec.stream[1:],
                "Effect": "Allow",
                "Action": [f"dynamodb:{a}" for a in STREAM_ACTIONS],
                "Resource": [_required(spec, f"the stream of {spec.stream!r}", stream.stream_arn)],
            }
        )
    if spec.sends_mail:
        mail = _required(spec, "a mail sender", resources.mail)
        statements.append(
            {"Sid": "SendMail", "Effect": "Allow", "Action": [f"ses:{a}" for a in SES_SEND_ACTIONS], "Resource": [mail.identity_arn]}
        )
    if spec.database:
        # IAM database authentication as the application role: a token signed locally, no secret
        db = _required(spec, "the database", resources.database)
        statements.append({"Sid": "DatabaseConnect", "Effect": "Allow", "Action": ["rds-db:connect"], "Resource": [db.user_arn(db.user)]})
    if spec.database_admin:
        # the migrator: the Data API on the cluster, as the master user whose secret it may read
        db = _required(spec, "the database", resources.database)
        statements.append(
            {"Sid": "DataApi", "Effect": "Allow", "Action": [f"rds-data:{a}" for a in DATA_API_ACTIONS], "Resource": [db.cluster_arn]}
        )
        statements.append(
            {"Sid": "MasterSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [db.secret_arn]}
        )
    statements.append(
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": list(LOG_ACTIONS), "Resource": [pulumi.Output.concat(log_group_arn, ":*")]}
    )
    statements.append({"Sid": "XRay", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"})
    if spec.database:
        statements.append({"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"})
    return statements


def _table(spec: FunctionSpec, resources: FunctionResources, key: str) -> TableRef:
    if key not in resources.tables:
        raise ValueError(f"function {spec.name!r} uses table {key!r}; built tables: {', '.join(resources.tables) or 'none'}")
    return resources.tables[key]


def _required(spec: FunctionSpec, what: str, value: Any) -> Any:
    if value is None:
        raise ValueError(f"function {spec.name!r} uses {what}, which was not given in its FunctionResources")
    return value


def kind_problems(spec: FunctionSpec, settings: FunctionSettings) -> list[str]:
    """What the settings ask that the function's kind rules out: cold-start mitigation is for functions that answer
    requests (kinds "api" and "authorizer"), and a migration is never deployed gradually (it runs once, on deploy)."""
    problems = []
    if settings.cold_start != "none" and spec.kind not in ("api", "authorizer"):
        problems.append(
            f"function {spec.name!r} is of kind {spec.kind!r}: cold_start {settings.cold_start!r} is for 'api' and 'authorizer' functions"
        )
    if settings.gradual_deployment and spec.kind == "migration":
        problems.append(f"function {spec.name!r} is of kind 'migration': it is invoked on deploy, never deployed gradually")
    return problems


# --------------------------------------------------------------------------- the component


@dataclass(frozen=True)
class LambdaFunctionArgs:
    """What `LambdaFunction` builds.

    Attributes:
        spec: the function's handler, kind, timeout and what it reaches.
        physical_name: the Lambda function's name, also its log group's.
        code: the code archive and dependency layer.
        settings: the stack's settings for the function (runtime, memory, concurrency, logs, deployment).
        resources: what is built that the function may be wired to; it takes only what its spec names.
    """

    spec: FunctionSpec
    physical_name: str
    code: SharedCode
    settings: FunctionSettings
    resources: FunctionResources


@dataclass(frozen=True)
class GradualDeploymentArgs:
    """How CodeDeploy shifts the alias's traffic to a new version, and what stops and rolls it back.

    Attributes:
        application: the CodeDeploy application (compute platform Lambda).
        service_role: the role CodeDeploy assumes; each function adds its own policy to it.
        deployment_config_name: how traffic shifts, e.g. CodeDeployDefault.LambdaCanary10Percent5Minutes.
        alarms: any of them in ALARM stops the deployment and rolls back (e.g. `Observability.monitor_function`'s).
        region: where the deployment trigger calls CodeDeploy.
        after: shift traffic only once these exist (e.g. the schema migration).
    """

    application: aws.codedeploy.Application
    service_role: aws.iam.Role
    deployment_config_name: str
    alarms: Sequence[aws.cloudwatch.MetricAlarm]
    region: pulumi.Input[str]
    after: Sequence[pulumi.Resource] = ()


class LambdaFunction(pulumi.ComponentResource):
    """One function: role + inline policy, log group, the Lambda function, and its `live` alias."""

    spec: FunctionSpec
    """The spec it was built from (its `name` is the logical name)."""
    timeout: int
    """The Lambda timeout in seconds (the settings' where given, else the spec's); the duration alarm follows it."""
    log_group: aws.cloudwatch.LogGroup
    """`/aws/lambda/<physical name>`, created first so that Lambda never creates one without retention."""
    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    """The inline least-privilege policy (see `policy_statements`)."""
    aws_function: aws.lambda_.Function
    """The Lambda function resource; it publishes a version on every change (`version`)."""
    alias: aws.lambda_.Alias
    """`live`: what every caller invokes (`alias.arn`, `alias.invoke_arn`, qualifier `alias.name`)."""
    alias_dimensions: dict[str, pulumi.Output[str]]
    """CloudWatch dimensions of the alias's metrics: FunctionName and Resource (`<name>:live`)."""
    provisioned_concurrency: aws.lambda_.ProvisionedConcurrencyConfig | None
    stream_mapping: aws.lambda_.EventSourceMapping | None
    """Where the spec names a `stream`: the event source mapping that feeds the function from that table's stream."""
    """On the alias, when the settings ask for provisioned concurrency."""
    deployment_group: aws.codedeploy.DeploymentGroup | None
    """Set by `deploy_gradually()`; None while Pulumi moves the alias itself."""
    deployment_policy: aws.iam.RolePolicy | None
    """What CodeDeploy may do for this function: read and move its alias, read its rollback alarms."""
    release: AliasDeployment | None
    """Set by `deploy_gradually()`: starts a CodeDeploy deployment whenever the published version changes."""

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec, settings = args.spec, args.settings
        _refuse_invalid(spec, settings)  # before anything is registered
        super().__init__(type_token("compute:LambdaFunction"), name, None, with_former_token("compute:LambdaFunction", opts))
        vpc = _required(spec, "a VPC placement", args.resources.vpc) if spec.database else None
        self.spec = spec
        self.timeout = settings.timeout if settings.timeout is not None else spec.timeout
        self._logs_and_role(name, args)
        self.aws_function = self._function(name, args, vpc)
        self.alias = self._alias(name, args)
        self.alias_dimensions = {
            "FunctionName": self.aws_function.name,
            "Resource": pulumi.Output.concat(self.aws_function.name, ":", ALIAS),
        }
        self.provisioned_concurrency = None
        if settings.cold_start == "provisioned":
            self.provisioned_concurrency = aws.lambda_.ProvisionedConcurrencyConfig(
                f"{name}-{ALIAS}",
                function_name=self.aws_function.name,
                qualifier=self.alias.name,
                provisioned_concurrent_executions=settings.provisioned_concurrency,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.stream_mapping = self._stream_mapping(name, args)
        self.deployment_group = self.deployment_policy = self.release = None
        self._name, self._physical_name, self._gradual = name, args.physical_name, settings.gradual_deployment
        self.register_outputs(
            {
                "functionName": self.aws_function.name,
                "functionArn": self.aws_function.arn,
                "roleArn": self.role.arn,
                "aliasArn": self.alias.arn,
                "version": self.aws_function.version,
            }
        )

    def _stream_mapping(self, name: str, args: LambdaFunctionArgs) -> aws.lambda_.EventSourceMapping | None:
        """Where the spec names a table's stream: the mapping that feeds it to the live alias, as the queue's worker."""
        spec, resources = args.spec, args.resources
        if not spec.stream:
            return None
        stream_arn = _required(spec, f"the stream of {spec.stream!r}", _table(spec, resources, spec.stream).stream_arn)
        return aws.lambda_.EventSourceMapping(
            f"{name}-stream",
            event_source_arn=stream_arn,
            function_name=self.alias.arn,  # the live alias, as the queue's worker
            starting_position="TRIM_HORIZON",
            batch_size=STREAM_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],  # retried from the first failed record
            maximum_retry_attempts=STREAM_RETRY_ATTEMPTS,
            maximum_record_age_in_seconds=STREAM_MAX_RECORD_AGE_SECONDS,
            # creating the mapping checks that the role can read the stream
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]),
        )

    def _logs_and_role(self, name: str, args: LambdaFunctionArgs) -> None:
        """The log group (with the stack's retention), the execution role and its least-privilege inline policy."""
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/lambda/{args.physical_name}", retention_in_days=args.settings.log_retention_days, opts=child
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=pulumi.Output.json_dumps(LAMBDA_ASSUME_ROLE),
            description=f"{args.physical_name}: {spec.description}"[:1000],
            opts=child,
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": policy_statements(spec, args.resources, self.log_group.arn)}
            ),
            opts=child,
        )

    def _function(self, name: str, args: LambdaFunctionArgs, vpc: VpcPlacement | None) -> aws.lambda_.Function:
        """The Lambda function: the shared code, the settings for its kind, in the VPC when it uses the database."""
        spec, settings, resources = args.spec, args.settings, args.resources
        return aws.lambda_.Function(
            f"{name}-function",
            name=args.physical_name,
            description=spec.description,
            role=self.role.arn,
            runtime=settings.runtime,
            architectures=[settings.architecture],
            handler=spec.handler,
            code=args.code.archive,
            layers=[args.code.layer_arn] if args.code.layer_arn is not None else None,
            memory_size=settings.memory_mb,
            timeout=self.timeout,
            reserved_concurrent_executions=settings.reserved_concurrency,
            environment={"variables": environment_for(spec, resources, settings.environment)},
            tracing_config={"mode": settings.tracing_mode},
            logging_config={
                "log_format": "JSON",
                "log_group": self.log_group.name,
                "application_log_level": settings.application_log_level,
                "system_log_level": settings.system_log_level,
            },
            vpc_config={"subnet_ids": list(vpc.subnet_ids), "security_group_ids": list(vpc.security_group_ids)} if vpc else None,
            publish=True,  # a version per change: what the alias points at, and what a rollback returns to
            snap_start={"apply_on": "PublishedVersions"} if settings.cold_start == "snapstart" else None,
            # the log group must exist first (or Lambda creates one without retention), and the
            # policy must be in place before anything invokes the function
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.policy]),
        )

    def _alias(self, name: str, args: LambdaFunctionArgs) -> aws.lambda_.Alias:
        """`live`, on the first version; where CodeDeploy manages it, Pulumi leaves its version and weights alone."""
        return aws.lambda_.Alias(
            f"{name}-{ALIAS}",
            name=ALIAS,
            description=f"What every caller of {args.physical_name} invokes",
            function_name=self.aws_function.name,
            # the first version; afterwards CodeDeploy moves the alias where it manages it
            function_version=self.aws_function.version,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=CODEDEPLOY_MANAGED_ALIAS_PROPERTIES if args.settings.gradual_deployment else None
            ),
        )

    def deploy_gradually(self, args: GradualDeploymentArgs) -> aws.codedeploy.DeploymentGroup:
        """A CodeDeploy deployment group for the alias, and the trigger that deploys each new version through it.

        Needs `FunctionSettings.gradual_deployment`, under which Pulumi leaves the alias's version and weights
        to CodeDeploy. A deployment stops and rolls back when it fails or when any of `args.alarms` fires.
        """
        if not self._gradual:
            raise ValueError(f"{self._name}: deploy_gradually needs FunctionSettings.gradual_deployment (else Pulumi moves the alias too)")
        if self.deployment_group is not None:
            raise ValueError(f"{self._name}: already deployed gradually")
        if not args.alarms:
            raise ValueError(f"{self._name}: a gradual deployment needs alarms to roll back on")
        name = self._name
        self.deployment_policy = self._deployment_policy(args)
        self.deployment_group = aws.codedeploy.DeploymentGroup(
            f"{name}-deploy",
            app_name=args.application.name,
            deployment_group_name=self._physical_name,
            service_role_arn=args.service_role.arn,
            deployment_config_name=args.deployment_config_name,
            deployment_style={"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"},  # Lambda's only style
            auto_rollback_configuration={"enabled": True, "events": list(ROLLBACK_EVENTS)},
            alarm_configuration={"enabled": True, "alarms": [alarm.name for alarm in args.alarms]},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment_policy]),
        )
        self.release = AliasDeployment(
            f"{name}-release",
            AliasDeploymentArgs(
                region=args.region,
                application_name=args.application.name,
                deployment_group_name=self.deployment_group.deployment_group_name,
                deployment_config_name=args.deployment_config_name,
                function_name=self.aws_function.name,
                alias_name=self.alias.name,
                target_version=self.aws_function.version,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment_group, self.alias, *args.alarms, *args.after]),
        )
        return self.deployment_group

    def _deployment_policy(self, args: GradualDeploymentArgs) -> aws.iam.RolePolicy:
        """What CodeDeploy's service role may do for this function: read and move its alias, read its rollback alarms."""
        return aws.iam.RolePolicy(
            f"{self._name}-deploy",
            role=args.service_role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "MoveTheAlias",
                            "Effect": "Allow",
                            "Action": ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
                            "Resource": [self.alias.arn],
                        },
                        {
                            "Sid": "ReadTheRollbackAlarms",
                            "Effect": "Allow",
                            "Action": ["cloudwatch:DescribeAlarms"],
                            "Resource": [alarm.arn for alarm in args.alarms],
                        },
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _refuse_invalid(spec: FunctionSpec, settings: FunctionSettings) -> None:
    """Raise ValueError for a spec or settings no function may be built from."""
    if spec.database and spec.database_admin:
        raise ValueError(f"function {spec.name!r}: database (in the VPC, IAM token) and database_admin (Data API) exclude each other")
    for problem in in_vpc_problems([spec]):  # no NAT gateway and no interface endpoint in the VPC
        raise ValueError(problem)
    for problem in kind_problems(spec, settings):
        raise ValueError(problem)


class CodeDeployApplication(pulumi.ComponentResource):
    """The CodeDeploy application (compute platform Lambda) and the role its deployment groups use.

    The role starts with no permission: each function's `deploy_gradually` adds a policy for exactly its
    own alias and alarms.
    """

    application: aws.codedeploy.Application
    service_role: aws.iam.Role

    def __init__(self, name: str, physical_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("compute:CodeDeployApplication"), name, None, with_former_token("compute:CodeDeployApplication", opts))
        child = pulumi.ResourceOptions(parent=self)
        self.application = aws.codedeploy.Application(name, name=physical_name, compute_platform="Lambda", opts=child)
        self.service_role = aws.iam.Role(
            f"{name}-codedeploy",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}],
                }
            ),
            description=f"{physical_name}: CodeDeploy shifts the functions' live aliases",
            opts=child,
        )
        self.register_outputs({"applicationName": self.application.name})


def dependency_layer(
    name_prefix: str, layer_zip: str, runtime: str, architecture: str, description: str = "Runtime dependencies of the functions"
) -> aws.lambda_.LayerVersion:
    return aws.lambda_.LayerVersion(
        "dependencies",
        layer_name=f"{name_prefix}-dependencies",
        description=description,
        code=pulumi.FileArchive(layer_zip),
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
    )
