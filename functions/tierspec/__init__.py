"""Spec types for serverless tiers: tables, functions, routes and queues, as plain frozen data.

The reusable Pulumi tiers (`components`) take these, and so does an application's own declaration of
what it needs (todo-platform's is `todo_app.catalog`). The package imports nothing but the standard
library, so the Lambda archive can ship it beside the application (whose declaration imports it at
run time) and a program can build its specs without the application.

Every field is described in its class's "Attributes" section, which `help()` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

__all__ = ["FunctionKind", "FunctionSpec", "Index", "KeySchema", "QueueSpec", "Route", "Table", "TableAccess"]

KeySchema = tuple[tuple[str, Literal["HASH", "RANGE"]], ...]
FunctionKind = Literal["api", "authorizer", "worker", "migration"]


def _key_schema(hash_key: str, range_key: str | None) -> KeySchema:
    return ((hash_key, "HASH"),) + (((range_key, "RANGE"),) if range_key else ())


@dataclass(frozen=True)
class Index:
    """A global secondary index of a DynamoDB table.

    Attributes:
        name: the index's name, as queries name it and as its ARN ends (`<table ARN>/index/<name>`).
        hash_key: the partition key attribute of the index.
        range_key: the sort key attribute of the index; None for an index without one.
        projection: "ALL" copies every attribute into the index; "KEYS_ONLY" only the table's and the index's keys.
    """

    name: str
    hash_key: str
    range_key: str | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"

    @property
    def key_schema(self) -> KeySchema:
        """(attribute, key type) pairs, as both CreateTable and the Pulumi table take them."""
        return _key_schema(self.hash_key, self.range_key)


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: its keys, indexes and TTL, and how its name reaches the functions.

    Attributes:
        key: the table's logical name: what a `TableAccess` names, and the Pulumi resource's name.
        env: the environment variable that carries the table's physical name to the functions that use it.
        hash_key: the partition key attribute.
        range_key: the sort key attribute; None for a table without one.
        indexes: the table's global secondary indexes.
        ttl_attribute: the attribute that holds each item's expiry (epoch seconds) for DynamoDB's TTL; None for no TTL.
        attribute_type: the type of every key attribute, the table's and its indexes' ("S" string, "N" number, "B" binary).
        always_on_demand: True keeps the table PAY_PER_REQUEST whatever the stack's billing mode (for traffic too small
            and bursty for provisioned capacity, its minimum and its autoscaling alarms, to pay).
        stream: the table's DynamoDB stream view type ("NEW_IMAGE", "KEYS_ONLY", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"), whose
            records (kept 24 hours) feed a function through an event source mapping; None: no stream.
    """

    key: str
    env: str
    hash_key: str
    range_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    attribute_type: str = "S"
    always_on_demand: bool = False
    stream: Literal["NEW_IMAGE", "KEYS_ONLY", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] | None = None

    @property
    def key_schema(self) -> KeySchema:
        """(attribute, key type) pairs, as both CreateTable and the Pulumi table take them."""
        return _key_schema(self.hash_key, self.range_key)

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every key attribute of the table and its indexes, each once."""
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            names += [index.hash_key, index.range_key]
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class QueueSpec:
    """A work queue with a dead-letter queue, consumed by one worker function.

    Attributes:
        name: the queue's logical name: its resources are named `<tier>-<name>` and `<tier>-<name>-dlq`, its alarms
            `<name>-queue-age` and `<name>-dlq-messages`.
        queue_url_env: the environment variable that carries the queue's URL to the functions that use it.
        max_receive_count: receives of a message before it moves to the DLQ.
        message_retention_seconds: how long the queue keeps a message.
        dlq_retention_seconds: how long the DLQ keeps a message; longer than the queue's, so nothing expires in transit.
        visibility_timeout_factor: the queue's visibility timeout as a multiple of the worker's timeout (AWS advises
            at least 6).
    """

    name: str = "work"
    queue_url_env: str = "QUEUE_URL"
    max_receive_count: int = 5
    message_retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = 14 * 24 * 3600
    visibility_timeout_factor: int = 6

    def visibility_timeout(self, worker_timeout_seconds: int) -> int:
        """Long enough that a batch still being processed is never handed to a second worker."""
        return self.visibility_timeout_factor * worker_timeout_seconds


@dataclass(frozen=True)
class TableAccess:
    """What a function may do on one table.

    Attributes:
        table: the `Table.key` of the table.
        actions: DynamoDB actions without the "dynamodb:" prefix, e.g. ("GetItem", "Query").
        indexes: also grant the actions on every index of the table (a Query on an index needs this).
    """

    table: str
    actions: tuple[str, ...]
    indexes: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its code's entry point, what it is for, and exactly what it may reach.

    Attributes:
        name: the function's logical name: routes name it, and its resources are named after it.
        handler: the entry point inside the code archive, as Lambda wants it: "package.module.function".
        kind: what the function is for, which the tiers check: "api" serves routes (`ApiTier` refuses any other
            kind behind a route), "authorizer" is an API's authorizer, "worker" consumes a queue (`QueueTier.subscribe`
            takes only a worker), "migration" runs on deploy. Only "api" and "authorizer" functions may get
            SnapStart or provisioned concurrency, and a "migration" function is never deployed gradually
            (`LambdaFunction` refuses both).
        description: a sentence on what the function does; the Lambda function's and its role's description.
        timeout: the function's timeout in seconds.
        database: connects to PostgreSQL as the application's database user (IAM token): the function runs in the VPC.
        database_admin: runs SQL as the master user through the RDS Data API (and reads the master secret):
            runs outside the VPC. Excludes `database`.
        tables: the tables the function uses and the actions it may take on each.
        queue_actions: SQS actions on the queue, without the "sqs:" prefix, e.g. ("SendMessage",).
        stream: the `Table.key` of a table whose stream feeds the function (an event source mapping, and the role's
            read of that stream); None: none. Such a function runs outside the VPC unless `database`.
        sends_mail: sends e-mail through SES, from the stack's sender identity only (the role may send from that
            identity and nothing else).
    """

    name: str
    handler: str
    kind: FunctionKind
    description: str
    timeout: int
    database: bool = False
    database_admin: bool = False
    tables: tuple[TableAccess, ...] = ()
    queue_actions: tuple[str, ...] = ()
    stream: str | None = None
    sends_mail: bool = False

    @property
    def module(self) -> str:
        """The handler's module ("package.module")."""
        return self.handler.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Route:
    """One HTTP API route and the function that serves it.

    Attributes:
        method: the HTTP method, e.g. "GET".
        path: the path in API Gateway's syntax, each variable one whole segment: "/users/{userId}".
        function: the `FunctionSpec.name` of the function that serves the route (of kind "api").
        auth: True puts the API's authorizer in front of the route; False makes it public.
        operation: the route's operation name, unique within its function: the handler binds its route function
            by this name, so the method and path are written in the declaration only.
    """

    method: str
    path: str
    function: str
    auth: bool = True
    operation: str = ""

    @property
    def route_key(self) -> str:
        """API Gateway's route key: "GET /users/{userId}"."""
        return f"{self.method} {self.path}"

    @cached_property
    def path_pattern(self) -> re.Pattern[str]:
        """How API Gateway matches a path to this route: each {variable} is one whole segment."""
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")
