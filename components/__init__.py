"""Reusable Pulumi components for a serverless API on AWS, and todo-platform's program built from them.

A program composes tiers from its own specs (the plain data types re-exported here from
`todo_app.catalog`): tables for `DynamoTables`, functions for `LambdaFunction`, a route table for
`ApiTier`, a queue spec for `QueueTier`. `examples/notes_api` composes two tiers this way;
`components.program` composes todo-platform's whole stack.

The names below are imported on first use, so that `import components.config` (the local runtime, the
benchmarks) does not pay for importing pulumi and pulumi_aws.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from todo_app.catalog import FunctionSpec, Index, QueueSpec, Route, Table, TableAccess

    from .api import ApiTier, ApiTierArgs, Throttling
    from .compute import (
        DatabaseRef,
        DatabaseSettings,
        FunctionResources,
        FunctionSettings,
        LambdaFunction,
        LambdaFunctionArgs,
        QueueRef,
        SharedCode,
        TableRef,
        VpcPlacement,
    )
    from .network import Network, NetworkArgs
    from .observability import Observability, ObservabilityArgs
    from .postgres import ClusterSettings, PostgresDatabase, PostgresDatabaseArgs, SchemaMigration, SchemaMigrationArgs
    from .queue import BatchSettings, QueueTier, QueueTierArgs
    from .tables import DynamoTables, DynamoTablesArgs, ProvisionedCapacity

# public name -> the module that defines it
_EXPORTS = {
    "FunctionSpec": "todo_app.catalog",
    "Index": "todo_app.catalog",
    "QueueSpec": "todo_app.catalog",
    "Route": "todo_app.catalog",
    "Table": "todo_app.catalog",
    "TableAccess": "todo_app.catalog",
    "ApiTier": ".api",
    "ApiTierArgs": ".api",
    "Throttling": ".api",
    "DatabaseRef": ".compute",
    "DatabaseSettings": ".compute",
    "FunctionResources": ".compute",
    "FunctionSettings": ".compute",
    "LambdaFunction": ".compute",
    "LambdaFunctionArgs": ".compute",
    "QueueRef": ".compute",
    "SharedCode": ".compute",
    "TableRef": ".compute",
    "VpcPlacement": ".compute",
    "Network": ".network",
    "NetworkArgs": ".network",
    "Observability": ".observability",
    "ObservabilityArgs": ".observability",
    "ClusterSettings": ".postgres",
    "PostgresDatabase": ".postgres",
    "PostgresDatabaseArgs": ".postgres",
    "SchemaMigration": ".postgres",
    "SchemaMigrationArgs": ".postgres",
    "BatchSettings": ".queue",
    "QueueTier": ".queue",
    "QueueTierArgs": ".queue",
    "DynamoTables": ".tables",
    "DynamoTablesArgs": ".tables",
    "ProvisionedCapacity": ".tables",
}
__all__ = [
    "ApiTier",
    "ApiTierArgs",
    "BatchSettings",
    "ClusterSettings",
    "DatabaseRef",
    "DatabaseSettings",
    "DynamoTables",
    "DynamoTablesArgs",
    "FunctionResources",
    "FunctionSettings",
    "FunctionSpec",
    "Index",
    "LambdaFunction",
    "LambdaFunctionArgs",
    "Network",
    "NetworkArgs",
    "Observability",
    "ObservabilityArgs",
    "PostgresDatabase",
    "PostgresDatabaseArgs",
    "ProvisionedCapacity",
    "QueueRef",
    "QueueSpec",
    "QueueTier",
    "QueueTierArgs",
    "Route",
    "SchemaMigration",
    "SchemaMigrationArgs",
    "SharedCode",
    "Table",
    "TableAccess",
    "TableRef",
    "Throttling",
    "VpcPlacement",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value
