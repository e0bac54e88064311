"""The Pulumi program: read the stack config, compose the tiers, export the stack outputs.

`__main__.py` calls `create_stack()`; the infra tests call it too, after `set_mocks`, once per stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from . import packaging
from .api import STAGE, ApiTier, ApiTierArgs
from .compute import FunctionContext, SharedCode, dependency_layer
from .config import PROJECT, StackConfig
from .database import DatabaseTier, DatabaseTierArgs
from .network import Network
from .observability import Observability, ObservabilityArgs
from .queue import QueueTier, QueueTierArgs
from .web import WebTier, WebTierArgs



@dataclass(frozen=True)
class TodoStack:
    config: StackConfig
    layer: aws.lambda_.LayerVersion
    network: Network
    database: DatabaseTier
    queue: QueueTier
    api: ApiTier
    observability: Observability
    web: WebTier
    outputs: dict[str, pulumi.Input[str]]


def create_stack(config: StackConfig | None = None) -> TodoStack:
    config = config or StackConfig.from_pulumi()
    stack = pulumi.get_stack()
    name_prefix = f"{PROJECT}-{stack}"

    archive = packaging.build_function_archive()
    layer_zip = packaging.build_layer(config.architecture, packaging.runtime_python_version(config.python_runtime))
    layer = dependency_layer(config, name_prefix, str(layer_zip))
    code = SharedCode(archive=pulumi.FileArchive(str(archive)), layer_arn=layer.arn)

    network = Network("network")
    database = DatabaseTier(
        "database",
        DatabaseTierArgs(config=config, network=network, function_context=FunctionContext(config=config, name_prefix=name_prefix, code=code)),
    )
    queue = QueueTier("queue", QueueTierArgs(config=config, function_context=database.function_context))
    # web app hook: the site first, since the API's CORS names its origin; its files after the API,
    # since config.json names the API's URL (no cycle: see components/web.py)
    web = WebTier("web", WebTierArgs(name_prefix=name_prefix, region=aws.get_region_output().region))
    api = ApiTier("api", ApiTierArgs(config=config, function_context=queue.function_context, web_origin=web.url))
    web.publish(api.url)  # web app hook

    functions = [database.migrate, queue.worker, api.authorizer_function, *api.functions.values()]
    region = aws.get_region_output().region
    observability = Observability(
        "observability",
        ObservabilityArgs(
            config=config,
            name_prefix=name_prefix,
            region=region,
            functions=functions,
            api_id=api.api.id,
            api_stage=STAGE,
            queue_name=queue.queue.name,
            dlq_name=queue.dlq.name,
            visibility_timeout_seconds=queue.visibility_timeout_seconds,
            table_names={key: table.name for key, table in database.tables.items()},
            db_instance_id=database.instance.identifier,
        ),
    )

    outputs: dict[str, pulumi.Input[str]] = {
        "apiUrl": api.url,
        "region": region,
        "stack": stack,
        "usersDbEndpoint": database.endpoint,
        "usersDbName": database.database_ref.name,
        "usersDbSecretArn": database.secret_arn,
        "todosTableName": database.tables["todos"].name,
        "sessionsTableName": database.tables["sessions"].name,
        "ordersTableName": database.tables["orders"].name,
        "ordersQueueUrl": queue.queue.url,
        "ordersDlqUrl": queue.dlq.url,
        "alarmTopicArn": observability.topic.arn,
        "dashboardName": observability.dashboard.dashboard_name,
        "webUrl": web.url,  # web app hook
    }
    assert tuple(outputs) == catalog.OUTPUT_KEYS
    for key, value in outputs.items():
        pulumi.export(key, value)
    return TodoStack(
        config=config, layer=layer, network=network, database=database, queue=queue, api=api, observability=observability, web=web, outputs=outputs
    )
