"""The Pulumi program: read the stack config, compose the tiers from the catalog, export the stack outputs.

Order: the network; the data (DynamoDB tables, PostgreSQL, the orders queue), each tier owning its
resources and exposing what functions are wired to; then every function, created in one place from
the catalog with exactly the resources its spec names; then the wiring: the schema migration, the
queue's worker, the HTTP API's routes, and the alarms over all of it.

`__main__.py` calls `create_stack()`; the infra tests call it too, after `set_mocks`, once per stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from . import packaging
from .api import STAGE, ApiTier, ApiTierArgs, Throttling
from .compute import (
    CodeDeployApplication,
    DatabaseRef,
    FunctionResources,
    FunctionSettings,
    GradualDeploymentArgs,
    LambdaFunction,
    LambdaFunctionArgs,
    MailSender,
    SharedCode,
    dependency_layer,
)
from .config import COLD_START_KINDS, PROJECT, TRAFFIC_KINDS, StackConfig
from .network import Network
from .observability import FunctionAlarms, Observability, ObservabilityArgs, SamplingSettings
from .postgres import ClusterSettings, PostgresDatabase, PostgresDatabaseArgs, SchemaMigration, SchemaMigrationArgs
from .queue import BatchSettings, QueueTier, QueueTierArgs
from .tables import DynamoTables, DynamoTablesArgs, ProvisionedCapacity
from .tokens import former_token
from .web import WebTier, WebTierArgs


@dataclass(frozen=True)
class TodoStack:
    config: StackConfig
    layer: aws.lambda_.LayerVersion
    network: Network
    tables: DynamoTables
    database: PostgresDatabase
    queue: QueueTier
    functions: dict[str, LambdaFunction]
    migration: SchemaMigration
    api: ApiTier
    observability: Observability
    web: WebTier
    codedeploy: CodeDeployApplication | None  # only where the stack deploys gradually
    outputs: dict[str, pulumi.Input[str]]


def create_stack(config: StackConfig | None = None) -> TodoStack:
    config = config or StackConfig.from_pulumi()
    # the SQL functions' reserved concurrency must fit the database's max_connections
    config.check_connection_budget(len(sql_functions()))
    stack = pulumi.get_stack()
    name_prefix = f"{PROJECT}-{stack}"
    keep_urns_of_the_single_tier_layout()

    network = Network("network")
    tables, database, queue = _data_tiers(config, name_prefix, network)
    # The site before the functions and the API: the API's CORS and the reset mail's link name its origin (the
    # site's URL depends on nothing of the API or the functions: no cycle). Its files after the API: config.json names it.
    region = aws.get_region_output().region
    web = WebTier("web", WebTierArgs(name_prefix=name_prefix, region=region))
    layer, functions = _functions(config, name_prefix, tables, database, queue, mail_sender(config, region, web.url))
    migration = SchemaMigration(
        "database-migrate",
        SchemaMigrationArgs(
            function=functions["migrate"],
            migrations_hash=packaging.migrations_hash(packaging.FUNCTIONS_DIR / catalog.MIGRATIONS_DIR),
            database=database,
        ),
    )
    queue.subscribe(functions["worker"])
    api = _api(config, name_prefix, functions, web)
    observability, function_alarms = _observability(config, name_prefix, region, _Monitored(functions, api, queue, tables, database))
    codedeploy = (
        deploy_gradually(config, name_prefix, functions, function_alarms, region, after=[migration]) if config.gradual_deployment else None
    )
    outputs = _outputs(
        stack,
        region,
        _Exported(api=api, database=database, tables=tables, queue=queue, observability=observability, web=web),
    )
    return TodoStack(
        config=config,
        layer=layer,
        network=network,
        tables=tables,
        database=database,
        queue=queue,
        functions=functions,
        migration=migration,
        api=api,
        observability=observability,
        web=web,
        codedeploy=codedeploy,
        outputs=outputs,
    )


def _data_tiers(config: StackConfig, name_prefix: str, network: Network) -> tuple[DynamoTables, PostgresDatabase, QueueTier]:
    """The data: the DynamoDB tables, PostgreSQL in the network, and the orders queue."""
    tables = DynamoTables(
        "database",
        DynamoTablesArgs(
            tables=list(catalog.TABLES.values()),
            provisioned=ProvisionedCapacity(config.dynamodb_min_capacity, config.dynamodb_max_capacity, config.dynamodb_target_utilization)
            if config.provisioned
            else None,
            deletion_protection=config.dynamodb_deletion_protection,
            protect=config.protect_stateful_resources,
        ),
    )
    database = PostgresDatabase(
        "database",
        PostgresDatabaseArgs(
            network=network,
            database_name=catalog.DATABASE_NAME,
            physical_prefix=name_prefix,
            master_username=catalog.MIGRATOR_DB_USER,
            app_user=catalog.APP_DB_USER,
            label="users",
            description="todo-platform Aurora PostgreSQL: TLS only",
            cluster=ClusterSettings(
                min_capacity=config.db_min_capacity,
                max_capacity=config.db_max_capacity,
                seconds_until_auto_pause=config.db_seconds_until_auto_pause,
                reader_instances=config.db_reader_instances,
                deletion_protection=config.db_deletion_protection,
                backup_retention_days=config.db_backup_retention_days,
            ),
            protect=config.protect_stateful_resources,
        ),
    )
    queue = QueueTier(
        "queue",
        QueueTierArgs(
            spec=catalog.ORDERS_QUEUE,
            worker_timeout_seconds=catalog.FUNCTIONS["worker"].timeout,
            batch=BatchSettings(config.worker_batch_size, config.worker_batch_window_seconds, config.worker_max_concurrency),
        ),
    )
    return tables, database, queue


def _functions(
    config: StackConfig, name_prefix: str, tables: DynamoTables, database: PostgresDatabase, queue: QueueTier, mail: MailSender
) -> tuple[aws.lambda_.LayerVersion, dict[str, LambdaFunction]]:
    """The shared code (the function archive, the dependency layer) and every catalog function over it."""
    archive = packaging.build_function_archive(packages=catalog.CODE_PACKAGES)
    layer_zip = packaging.build_layer(config.architecture, packaging.runtime_python_version(config.python_runtime))
    layer = dependency_layer(
        name_prefix,
        str(layer_zip),
        config.python_runtime,
        config.architecture,
        description="Runtime dependencies of todo_app (functions/requirements.txt)",
    )
    functions = create_functions(
        config,
        name_prefix,
        SharedCode(archive=pulumi.FileArchive(str(archive)), layer_arn=layer.arn),
        FunctionResources(
            tables=tables.refs,
            queue=queue.ref,
            database=database.ref,
            vpc=database.vpc_placement,
            database_environment=database_environment(config, database.ref),
            admin_database_environment=catalog.admin_database_environment(
                access="data-api", secret_arn=database.ref.secret_arn, cluster_arn=database.ref.cluster_arn, name=database.ref.name
            ),
            mail=mail,
        ),
    )
    return layer, functions


def _api(config: StackConfig, name_prefix: str, functions: dict[str, LambdaFunction], web: WebTier) -> ApiTier:
    """The HTTP API (its CORS names the site's origin), then the site's files (config.json names the API)."""
    api = ApiTier(
        "api",
        ApiTierArgs(
            routes=catalog.ROUTES,
            functions=functions,
            authorizer=functions["authorizer"],
            physical_name=f"{name_prefix}-http",
            throttling=Throttling(config.api_throttle_rate_limit, config.api_throttle_burst_limit),
            log_retention_days=config.log_retention_days,
            cors_origins=config.cors_origins,
            web_origin=web.url,
            detailed_metrics=False,  # nothing reads per-route metrics (see ApiTierArgs.detailed_metrics)
            description="todo-platform HTTP API",
            authorizer_name="session-token",
            auth_header=catalog.AUTH_HEADER,
        ),
    )
    web.publish(api.url)
    return api


@dataclass(frozen=True)
class _Monitored:
    """What the alarms watch."""

    functions: dict[str, LambdaFunction]
    api: ApiTier
    queue: QueueTier
    tables: DynamoTables
    database: PostgresDatabase


def _observability(
    config: StackConfig, name_prefix: str, region: pulumi.Output[str], monitored: _Monitored
) -> tuple[Observability, dict[str, FunctionAlarms]]:
    """The alarm topic, an alarm set per function (rolling back a gradual deployment), the API's, the queue's,
    each table's and the database's alarms, and the dashboard where the stack has one."""
    observability = Observability(
        "observability",
        ObservabilityArgs(
            name_prefix=name_prefix,
            alarm_email=config.alarm_email,
            region=region,
            sampling=SamplingSettings(rate=config.xray_sampling_rate, reservoir=config.xray_sampling_reservoir),
        ),
    )
    function_alarms = {
        name: observability.monitor_function(fn, rollback=config.gradual_deployment and fn.spec.kind in TRAFFIC_KINDS)
        for name, fn in monitored.functions.items()
    }
    observability.monitor_http_api(monitored.api.api.id, STAGE)
    observability.monitor_queue(catalog.ORDERS_QUEUE.name, monitored.queue)
    for key, table in monitored.tables.tables.items():
        observability.monitor_table(key, table.name)
    observability.monitor_database(monitored.database.cluster.cluster_identifier, config.db_max_capacity)
    if config.dashboard:
        observability.add_dashboard()
    return observability, function_alarms


@dataclass(frozen=True)
class _Exported:
    """The tiers the stack outputs name."""

    api: ApiTier
    database: PostgresDatabase
    tables: DynamoTables
    queue: QueueTier
    observability: Observability
    web: WebTier


def _outputs(stack: str, region: pulumi.Output[str], tiers: _Exported) -> dict[str, pulumi.Input[str]]:
    """The stack outputs (catalog.StackOutputs), exported and returned."""
    outputs = catalog.StackOutputs[pulumi.Input[str]](
        api_url=tiers.api.url,
        region=region,
        stack=stack,
        users_db_endpoint=tiers.database.endpoint,
        users_db_name=tiers.database.ref.name,
        users_db_secret_arn=tiers.database.secret_arn,
        users_db_user=catalog.APP_DB_USER,
        todos_table_name=tiers.tables.tables["todos"].name,
        sessions_table_name=tiers.tables.tables["sessions"].name,
        orders_table_name=tiers.tables.tables["orders"].name,
        orders_queue_url=tiers.queue.queue.url,
        orders_dlq_url=tiers.queue.dlq.url,
        alarm_topic_arn=tiers.observability.topic.arn,
        dashboard_name=tiers.observability.dashboard_name,
        web_url=tiers.web.url,
    ).as_dict()
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def mail_sender(config: StackConfig, region: pulumi.Input[str], web_url: pulumi.Input[str]) -> MailSender:
    """The SES identity of `mailFrom` (verified outside the program) and the mailer's settings: the sender and the web
    app's origin, which the reset link starts with."""
    account = aws.get_caller_identity_output().account_id
    arn = pulumi.Output.concat("arn:aws:ses:", region, ":", account, ":identity/", config.mail_from)
    return MailSender(identity_arn=arn, environment={"MAIL_FROM": config.mail_from, "WEB_URL": web_url})


def create_functions(config: StackConfig, name_prefix: str, code: SharedCode, resources: FunctionResources) -> dict[str, LambdaFunction]:
    """Every catalog function, each with the stack's settings for its kind and the resources its spec names."""
    common = catalog.common_environment(config.session_ttl_seconds, login_throttle=config.login_throttle)
    functions = {}
    for spec in catalog.FUNCTIONS.values():
        settings = FunctionSettings(
            runtime=config.python_runtime,
            architecture=config.architecture,
            memory_mb=config.function_memory_mb(spec.kind),
            reserved_concurrency=reserved_concurrency(config, spec),
            log_retention_days=config.log_retention_days,
            environment=common,
            cold_start=cold_start(config, spec),
            provisioned_concurrency=config.provisioned_concurrency if cold_start(config, spec) == "provisioned" else 0,
            gradual_deployment=config.gradual_deployment and spec.kind in TRAFFIC_KINDS,
            tracing_mode=config.authorizer_tracing if spec.kind == "authorizer" else "Active",
            application_log_level=config.lambda_application_log_level,
            system_log_level=config.lambda_system_log_level,
            timeout=config.sql_function_timeout(spec.timeout) if spec.database else spec.timeout,
        )
        functions[spec.name] = LambdaFunction(
            spec.name,
            LambdaFunctionArgs(spec=spec, physical_name=f"{name_prefix}-{spec.name}", code=code, settings=settings, resources=resources),
        )
    return functions


def database_environment(config: StackConfig, db: DatabaseRef) -> dict[str, pulumi.Input[str]]:
    """How the database functions connect: as the application role with IAM tokens, over TLS (forced by the
    cluster; verify-full would need a CA bundle shipped with the code), with the stack's timeouts."""
    return catalog.database_environment(
        host=db.host,
        port=db.port,
        name=db.name,
        user=db.user,
        auth="iam",
        sslmode="require",
        connect_timeout=config.db_connect_timeout_seconds,
        idle_timeout=config.db_idle_timeout_seconds,
        health="last-known" if config.db_health == "last-known" else "connect",
    )


def sql_functions() -> list[str]:
    """The catalog functions that connect to PostgreSQL: one connection per execution environment each."""
    return [name for name, spec in catalog.FUNCTIONS.items() if spec.database]


def reserved_concurrency(config: StackConfig, spec: catalog.FunctionSpec) -> int:
    """SQL functions: the connection budget's share (both stacks); other API functions: the stack's setting."""
    return config.reserved_concurrency(spec)


def cold_start(config: StackConfig, spec: catalog.FunctionSpec) -> str:
    """SnapStart only on the functions listed in `snapstartFunctions`; provisioned concurrency on every API
    function and the authorizer; nothing on the others."""
    if spec.kind not in COLD_START_KINDS:
        return "none"
    if config.cold_start_mitigation == "snapstart":
        return "snapstart" if spec.name in config.snapstart_functions else "none"
    return config.cold_start_mitigation


def deploy_gradually(
    config: StackConfig,
    name_prefix: str,
    functions: Mapping[str, LambdaFunction],
    alarms: Mapping[str, FunctionAlarms],
    region: pulumi.Input[str],
    after: list[pulumi.Resource],
) -> CodeDeployApplication:
    """One CodeDeploy application; a deployment group per traffic-serving function, rolled back by its alias's
    errors and throttles alarms. Traffic shifts only after `after` (the schema migration): new code may need it."""
    codedeploy = CodeDeployApplication("deployments", name_prefix)
    for name, fn in functions.items():
        if fn.spec.kind not in TRAFFIC_KINDS:
            continue
        fn.deploy_gradually(
            GradualDeploymentArgs(
                application=codedeploy.application,
                service_role=codedeploy.service_role,
                deployment_config_name=config.deployment_config,
                alarms=alarms[name].rollback,
                region=region,
                after=after,
            )
        )
    return codedeploy


# --------------------------------------------------------------------------- state compatibility

# Until this layout, one DatabaseTier ("database") owned the tables, PostgreSQL and the migration, and the
# functions were children of the tier that used them. Moving a resource to another parent changes its URN,
# and Pulumi would then create the "new" resource and delete the old one: a replaced table loses its data,
# and a function or log group with the same physical name fails to create. These aliases tell Pulumi that
# each moved resource is the one it already manages.
_FORMER_PARENTS: Mapping[str, tuple[str, str]] = {
    # type of the new parent -> (type, name) of the former parent of its children
    "serverless:database:DynamoTables": ("todo:database:DatabaseTier", "database"),
    "serverless:database:PostgresDatabase": ("todo:database:DatabaseTier", "database"),
    "serverless:database:SchemaMigration": ("todo:database:DatabaseTier", "database"),
}
# the tier each function used to belong to (the others were the ApiTier's)
_FORMER_FUNCTION_TIERS: Mapping[str, tuple[str, str]] = {
    "migrate": ("todo:database:DatabaseTier", "database"),
    "worker": ("todo:queue:QueueTier", "queue"),
}
_API_TIER = ("todo:api:ApiTier", "api")


def keep_urns_of_the_single_tier_layout() -> None:
    """Register the stack transformation that aliases every moved resource to its former parent.

    A stack transformation (not a `transform`) runs in this process, so the infra tests see its aliases.
    """

    def add_former_parent(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        former: tuple[str, str] | None = None
        if args.type_ == "serverless:compute:LambdaFunction":
            former = _FORMER_FUNCTION_TIERS.get(args.name, _API_TIER)  # its children follow it
            # then a todo:compute:LambdaFunction: one alias names its former type and parent together
            alias = pulumi.Alias(type_=former_token(args.type_), parent=pulumi.create_urn(former[1], former[0]))
        elif args.opts.parent is not None and (former := _FORMER_PARENTS.get(args.opts.parent.pulumi_resource_type)) is not None:
            alias = pulumi.Alias(parent=pulumi.create_urn(former[1], former[0]))
        else:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(aliases=[alias]))
        )

    pulumi.runtime.register_stack_transformation(add_former_parent)
