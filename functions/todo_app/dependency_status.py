"""The last known state of PostgreSQL, kept in the status table (STATUS_TABLE, item catalog.DATABASE_STATUS_KEY).

Every new connection a function opens (`todo_app.db`) and every migration run records its outcome:
{dependency: "postgres", state: "ok" | "unavailable", at: ISO time}. Where the database can pause, GET
/health reports this item instead of opening a connection (any connection attempt would wake it).

Recording never fails the caller: the request that opened the connection is what matters, so a failed
PutItem is logged and forgotten.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from todo_app import aws, catalog, timeutil
from todo_app.telemetry import logger

State = Literal["ok", "unavailable"]


class LastKnown(TypedDict):
    state: str  # "ok", "unavailable", or "unknown" when nothing was ever recorded
    at: str | None  # when it was recorded (ISO 8601), None when unknown


def record(state: State, dependency: str = catalog.DATABASE_STATUS_KEY) -> None:
    """PutItem {dependency, state, at}; a failure is logged, never raised."""
    try:
        aws.client("dynamodb").put_item(
            TableName=aws.table_name("dependencyStatus"),
            Item={"dependency": {"S": dependency}, "state": {"S": state}, "at": {"S": timeutil.now_iso()}},
        )
    except Exception as exc:  # noqa: BLE001 - recording is best effort: a missing setting, an AWS error, anything
        logger.warning("could not record the dependency's state", extra={"dependency": dependency, "state": state, "reason": repr(exc)})


def read(dependency: str = catalog.DATABASE_STATUS_KEY) -> LastKnown:
    """The recorded state (a consistent read); raises aws.errors() when DynamoDB cannot answer."""
    item = (
        aws.client("dynamodb")
        .get_item(TableName=aws.table_name("dependencyStatus"), Key={"dependency": {"S": dependency}}, ConsistentRead=True)
        .get("Item")
    )
    if not item:
        return {"state": "unknown", "at": None}
    return {"state": item.get("state", {}).get("S", "unknown"), "at": item.get("at", {}).get("S")}
