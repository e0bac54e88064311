"""Reusable Pulumi components for a serverless API on AWS, and todo-platform's program built from them.

A program composes tiers from its own specs (the plain data types re-exported here from
`todo_app.catalog`): tables for `DynamoTables`, functions for `LambdaFunction`, a route table for
`ApiTier`, a queue spec for `QueueTier`. `examples/notes_api` composes two tiers this way;
`components.program` composes todo-platform's whole stack.
"""

from todo_app.catalog import FunctionSpec, Index, QueueSpec, Route, Table, TableAccess

from .api import ApiTier, ApiTierArgs, Throttling
from .compute import (
    DatabaseRef,
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
from .postgres import InstanceSettings, PostgresDatabase, PostgresDatabaseArgs, RdsProxy, SchemaMigration, SchemaMigrationArgs
from .queue import BatchSettings, QueueTier, QueueTierArgs
from .tables import DynamoTables, DynamoTablesArgs, ProvisionedCapacity

__all__ = [
    "ApiTier",
    "ApiTierArgs",
    "BatchSettings",
    "DatabaseRef",
    "DynamoTables",
    "DynamoTablesArgs",
    "FunctionResources",
    "FunctionSettings",
    "FunctionSpec",
    "Index",
    "InstanceSettings",
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
    "RdsProxy",
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
