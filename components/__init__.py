"""Reusable Pulumi components for a serverless API on AWS, and todo-platform's program built from them.

A program composes tiers from its own specs (the plain data types of the dependency-free `tierspec`
package, re-exported here): tables for `DynamoTables`, functions for `LambdaFunction`, a route table for
`ApiTier`, a queue spec for `QueueTier`; `Observability` watches what the program hands its
`monitor_*` methods. No tier imports an application: `examples/notes_api` composes two tiers from its
own specs, and `components.program` composes todo-platform's whole stack from `todo_app.catalog`.
`components.testing` has the Pulumi mocks to test such a program with.

The names below are imported on first use, so that `import components.config` (the local runtime, the
benchmarks) does not pay for importing pulumi and pulumi_aws.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tierspec import FunctionSpec, Index, QueueSpec, Route, Table, TableAccess

    from .api import ApiTier, ApiTierArgs, Throttling
    from .compute import (
        DatabaseRef,
        FunctionResources,
        FunctionSettings,
        LambdaFunction,
        LambdaFunctionArgs,
        MailSender,
        QueueRef,
        SharedCode,
        TableRef,
        VpcPlacement,
    )
    from .network import Network, NetworkArgs
    from .observability import FunctionAlarms, Observability, ObservabilityArgs, SamplingSettings
    from .postgres import ClusterSettings, PostgresDatabase, PostgresDatabaseArgs, SchemaMigration, SchemaMigrationArgs
    from .queue import BatchSettings, QueueTier, QueueTierArgs
    from .tables import DynamoTables, DynamoTablesArgs, ProvisionedCapacity
    from .web import WebTier, WebTierArgs

# public name -> the module that defines it
_EXPORTS = {
    "FunctionSpec": "tierspec",
    "Index": "tierspec",
    "QueueSpec": "tierspec",
    "Route": "tierspec",
    "Table": "tierspec",
    "TableAccess": "tierspec",
    "ApiTier": ".api",
    "ApiTierArgs": ".api",
    "Throttling": ".api",
    "DatabaseRef": ".compute",
    "FunctionResources": ".compute",
    "FunctionSettings": ".compute",
    "LambdaFunction": ".compute",
    "LambdaFunctionArgs": ".compute",
    "MailSender": ".compute",
    "QueueRef": ".compute",
    "SharedCode": ".compute",
    "TableRef": ".compute",
    "VpcPlacement": ".compute",
    "Network": ".network",
    "NetworkArgs": ".network",
    "FunctionAlarms": ".observability",
    "Observability": ".observability",
    "SamplingSettings": ".observability",
    "WebTier": ".web",
    "WebTierArgs": ".web",
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
    "DynamoTables",
    "DynamoTablesArgs",
    "FunctionAlarms",
    "FunctionResources",
    "FunctionSettings",
    "FunctionSpec",
    "Index",
    "LambdaFunction",
    "LambdaFunctionArgs",
    "MailSender",
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
    "SamplingSettings",
    "SchemaMigration",
    "SchemaMigrationArgs",
    "SharedCode",
    "Table",
    "TableAccess",
    "TableRef",
    "Throttling",
    "VpcPlacement",
    "WebTier",
    "WebTierArgs",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value
