"""Lookups over an evaluated stack: functions, their roles and policies, by catalog name."""

from __future__ import annotations

import json
from typing import Any

from todo_app import catalog

from .mocks import Evaluation, Resource

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TABLE = "aws:dynamodb/table:Table"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def function(ev: Evaluation, name: str) -> Resource:
    return ev.named(FUNCTION, f"{name}-function")


def alias(ev: Evaluation, name: str) -> Resource:
    """The `live` alias of a catalog function: what every caller invokes."""
    return ev.named(ALIAS, f"{name}-live")


def functions(ev: Evaluation) -> dict[str, Resource]:
    return {name: function(ev, name) for name in catalog.FUNCTIONS}


def policy_document(ev: Evaluation, function_name: str) -> dict[str, Any]:
    return json.loads(ev.named(ROLE_POLICY, f"{function_name}-policy").inputs["policy"])


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def all_policy_documents(ev: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    """Every identity policy the program attaches (inline role policies)."""
    return [(r.name, json.loads(r.inputs["policy"])) for r in ev.of_type(ROLE_POLICY)]


def table(ev: Evaluation, key: str) -> Resource:
    return ev.named(TABLE, key)
