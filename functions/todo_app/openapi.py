"""The OpenAPI 3.1 document of the HTTP API, generated from the catalog's route table and the pydantic models.

`document()` walks catalog.ROUTES; each route's operation (its `operation` name) has an `Operation`
here naming its request model, query and header parameters, and every response it can give with
its model. Request schemas are the request models' own (models.py); response schemas are the
models below, which mirror what the handlers return. Besides each function's answers, a protected
route documents what API Gateway itself answers ({"message": ...}): 401 without a token, 403 when
the authorizer refuses it; any route may meet the gateway's 404 (an unmatched path) and 413.

The committed `openapi.json` at the repository's root is this document; a test regenerates it and
fails when it is stale (`python -m todo_app.openapi > openapi.json` rewrites it).

Not imported by any function: the document is built at development time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from todo_app import catalog, models
from todo_app.ids import ID_PATTERN

REF = "#/components/schemas/{model}"
ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
Time = Annotated[str, Field(pattern=ISO_TIME, description="ISO 8601, UTC, milliseconds")]
Uuid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
Id = Annotated[str, Field(pattern=ID_PATTERN.pattern, description="time-ordered id (ULID layout)")]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    field: str | None = Field(default=None, description="the request field at fault, dotted (items.0.sku)")
    message: str | None = None


class ErrorInfo(_Out):
    code: str
    message: str
    details: list[ErrorDetail]


class Error(_Out):
    """Every error a function answers."""

    error: ErrorInfo


class GatewayMessage(_Out):
    """An answer API Gateway gives itself, before any function runs."""

    message: str


class User(_Out):
    id: Uuid
    name: str
    email: str
    age: int | None
    createdAt: Time
    updatedAt: Time


class UserSummary(_Out):
    id: Uuid
    name: str


class UserPage(_Out):
    items: list[UserSummary]
    nextCursor: str | None


class Todo(_Out):
    id: Id
    userId: Uuid
    title: str
    description: str | None
    status: models.Status
    dueDate: str | None
    priority: models.Priority
    createdAt: Time
    updatedAt: Time


class TodoPage(_Out):
    items: list[Todo]
    nextCursor: str | None


class NewSession(_Out):
    token: str
    userId: Uuid
    expiresAt: Time


class SessionInfo(_Out):
    sessionId: str = Field(description="names the session; neither its token nor the token's hash")
    createdAt: str
    expiresAt: Time
    userAgent: str
    sourceIp: str
    current: bool = Field(description="the session of the token this request presented")


class SessionList(_Out):
    items: list[SessionInfo]


class OrderAccepted(_Out):
    orderId: Id
    status: Literal["PENDING"]


class OrderLine(_Out):
    sku: str
    quantity: int


class Order(_Out):
    orderId: Id
    userId: Uuid
    status: str
    amount: Annotated[str, Field(pattern=r"^\d+\.\d{2}$")]
    currency: str
    items: list[OrderLine]
    createdAt: Time
    processedAt: str | None


class TodoSummary(_Out):
    counts: dict[str, int]
    overdue: int
    recent: list[Todo]


class OrderSummary(_Out):
    counts: dict[str, int]


class Dashboard(_Out):
    user: User
    todos: TodoSummary
    orders: OrderSummary


class LastKnown(_Out):
    state: Literal["ok", "unavailable", "unknown"]
    at: Time | None = Field(description="when the state was recorded; null while it is unknown")


class Health(_Out):
    status: Literal["ok"]
    checks: dict[str, Literal["ok", "unavailable", "unknown"]]
    lastKnown: dict[str, LastKnown] | None = Field(
        default=None,
        description="where the database can pause: its last recorded state, reported instead of a connection that would wake it",
    )


class HealthDown(_Out):
    status: Literal["unavailable"]
    checks: dict[str, Literal["ok", "unavailable", "unknown"]]
    lastKnown: dict[str, LastKnown] | None = None
    error: ErrorInfo


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "header"]
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Operation:
    summary: str
    ok: tuple[int, type[BaseModel] | None]  # the success status and its body (None: no body)
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    errors: dict[int, str] = field(default_factory=dict)  # the function's own error statuses -> when
    database: bool = False  # 503 when PostgreSQL (or DynamoDB) is down
    extra: dict[int, tuple[str, type[BaseModel]]] = field(default_factory=dict)  # other statuses with their own model


LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "page size")
CURSOR = Param("cursor", "query", {"type": "string", "maxLength": 1024}, "the previous page's nextCursor (opaque)")
INVALID = "invalid input: each bad field named in details"

OPERATIONS: dict[str, Operation] = {
    "health": Operation("Check PostgreSQL and DynamoDB", (200, Health), extra={503: ("a dependency is down, named in checks", HealthDown)}),
    "create_user": Operation(
        "Sign up", (201, User), body=models.UserCreate, errors={400: INVALID, 409: "the e-mail is taken"}, database=True
    ),
    "log_in": Operation(
        "Log in",
        (201, NewSession),
        body=models.SessionCreate,
        errors={400: INVALID, 401: "wrong e-mail or password", 429: "too many failed log-ins for this e-mail (Retry-After)"},
        database=True,
    ),
    "log_out": Operation("Log out (this session)", (204, None)),
    "list_sessions": Operation("My active sessions (devices)", (200, SessionList)),
    "revoke_session": Operation("Revoke one of my sessions", (204, None), errors={404: "no such session of mine"}),
    "log_out_everywhere": Operation("Log out every session of mine, this one included", (204, None)),
    "list_users": Operation("List users (id and name)", (200, UserPage), params=(LIMIT, CURSOR), errors={400: INVALID}, database=True),
    "get_user": Operation("My profile", (200, User), errors={403: "someone else's user", 404: "no such user"}, database=True),
    "update_user": Operation(
        "Update my profile",
        (200, User),
        body=models.UserUpdate,
        errors={400: INVALID, 403: "someone else's user", 404: "no such user", 409: "the e-mail is taken"},
        database=True,
    ),
    "delete_user": Operation("Delete me, my sessions and my todos", (204, None), errors={403: "someone else's user"}, database=True),
    "create_todo": Operation(
        "Create a todo",
        (201, Todo),
        body=models.TodoCreate,
        errors={400: INVALID, 403: "someone else's user", 404: "no such user"},
        database=True,
    ),
    "list_todos": Operation(
        "My todos, newest first",
        (200, TodoPage),
        params=(Param("status", "query", {"type": "string", "enum": ["open", "done"]}), LIMIT, CURSOR),
        errors={400: INVALID, 403: "someone else's user"},
    ),
    "get_todo": Operation("One todo", (200, Todo), errors={403: "someone else's todo", 404: "no such todo"}),
    "update_todo": Operation(
        "Update a todo", (200, Todo), body=models.TodoUpdate, errors={400: INVALID, 403: "someone else's todo", 404: "no such todo"}
    ),
    "delete_todo": Operation("Delete a todo", (204, None), errors={403: "someone else's todo", 404: "no such todo"}),
    "get_dashboard": Operation(
        "My profile with todo and order summaries",
        (200, Dashboard),
        errors={403: "someone else's user", 404: "no such user"},
        database=True,
    ),
    "create_order": Operation(
        "Place an order (queued)",
        (202, OrderAccepted),
        body=models.OrderCreate,
        params=(
            Param(
                "Idempotency-Key",
                "header",
                {"type": "string", "pattern": r"^[\x21-\x7e]{1,128}$"},
                "the same key and order within 24 h answer the same 202 and place one order",
            ),
        ),
        errors={400: INVALID, 409: "the Idempotency-Key was used with another order, or its first request is still running"},
    ),
    "get_order": Operation("One of my orders, once stored", (200, Order), errors={404: "not stored yet, unknown, or someone else's"}),
}

# OpenAPI links: what a success response lets a client call next (schemathesis's stateful runs follow them)
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "create_user": {
        "LogIn": {
            "operationId": "log_in",
            "requestBody": {"email": "$request.body#/email", "password": "$request.body#/password"},
        },
        "GetUser": {"operationId": "get_user", "parameters": {"userId": "$response.body#/id"}},
    },
    "create_todo": {
        "GetTodo": {"operationId": "get_todo", "parameters": {"todoId": "$response.body#/id"}},
        "UpdateTodo": {"operationId": "update_todo", "parameters": {"todoId": "$response.body#/id"}},
        "DeleteTodo": {"operationId": "delete_todo", "parameters": {"todoId": "$response.body#/id"}},
    },
    "update_todo": {"GetTodo": {"operationId": "get_todo", "parameters": {"todoId": "$response.body#/id"}}},
    "create_order": {"GetOrder": {"operationId": "get_order", "parameters": {"orderId": "$response.body#/orderId"}}},
}

PATH_PARAMS: dict[str, dict[str, Any]] = {
    "userId": {"type": "string", "format": "uuid"},
    "todoId": {"type": "string", "pattern": ID_PATTERN.pattern},
    "orderId": {"type": "string", "pattern": ID_PATTERN.pattern},
    "sessionId": {"type": "string", "pattern": ID_PATTERN.pattern},
}


def _content(ref: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": ref}}


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}


def _either(*choices: type[BaseModel]) -> dict[str, Any]:
    return {"anyOf": [_ref(m) for m in choices]} if len(choices) > 1 else _ref(choices[0])


def _operation(route: catalog.Route) -> dict[str, Any]:
    spec = OPERATIONS[route.operation]
    status, model = spec.ok
    responses: dict[str, Any] = {str(status): {"description": spec.summary}}
    if model is not None:
        responses[str(status)]["content"] = _content(_ref(model))
    if route.operation in LINKS:
        responses[str(status)]["links"] = LINKS[route.operation]
    for code, why in spec.errors.items():
        responses[str(code)] = {"description": why, "content": _content(_ref(Error))}
    for code, (why, other) in spec.extra.items():
        responses[str(code)] = {"description": why, "content": _content(_ref(other))}
    if spec.body is not None:
        responses.setdefault("400", {"description": INVALID, "content": _content(_ref(Error))})
        responses["413"] = {
            "description": "body over 64 KiB (API Gateway's own over 10 MB)",
            "content": _content(_either(Error, GatewayMessage)),
        }
    if 429 in spec.errors:
        responses["429"]["headers"] = {
            "Retry-After": {"description": "seconds until log-ins are accepted again", "schema": {"type": "integer"}}
        }
    if route.auth:
        responses["401"] = {"description": "no bearer token (API Gateway)", "content": _content(_either(GatewayMessage, Error))}
        mine = responses.get("403", {}).get("description")
        why = "the authorizer refused the token (API Gateway)" + (f"; {mine}" if mine else "")
        responses["403"] = {"description": why, "content": _content(_either(GatewayMessage, Error))}
    mine = responses.get("404", {}).get("description")
    responses["404"] = {
        "description": (f"{mine}; " if mine else "") + "an unmatched path (API Gateway)",
        "content": _content(_either(Error, GatewayMessage)),
    }
    if spec.database or route.function in ("orders", "todos", "sessions", "dashboard", "users"):
        responses.setdefault("503", {"description": "a dependency is down, named in details", "content": _content(_ref(Error))})
    operation: dict[str, Any] = {
        "operationId": route.operation,
        "summary": spec.summary,
        "tags": [route.function],
        "responses": dict(sorted(responses.items())),
        "security": [{"bearerAuth": []}] if route.auth else [],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]} for name in re.findall(r"\{(\w+)\}", route.path)
    ]
    parameters += [
        {"name": p.name, "in": p.where, "required": False, "schema": p.schema, **({"description": p.description} if p.description else {})}
        for p in spec.params
    ]
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": _content(_ref(spec.body))}
    return operation


def document() -> dict[str, Any]:
    missing = [r.route_key for r in catalog.ROUTES if r.operation not in OPERATIONS]
    if missing:
        raise ValueError(f"no OpenAPI operation for {', '.join(missing)}")
    paths: dict[str, dict[str, Any]] = {}
    for route in catalog.ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    requests = {spec.body for spec in OPERATIONS.values() if spec.body is not None}
    responses = {m for spec in OPERATIONS.values() for m in (spec.ok[1], *(e[1] for e in spec.extra.values())) if m is not None}
    responses |= {Error, GatewayMessage}
    entries: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (m, "validation") for m in sorted(requests, key=lambda m: m.__name__)
    ]
    entries += [(m, "serialization") for m in sorted(responses, key=lambda m: m.__name__)]
    _, schemas = models_json_schema(entries, ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "todo-platform",
            "version": "1",
            "description": "Todos and orders. JSON in, JSON out; errors are {error: {code, message, details}}, "
            "except the answers API Gateway gives itself ({message}).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.get("$defs", {}).items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "the token from POST /sessions"}},
        },
    }


def render() -> str:
    """The document as committed: stable key order, two-space indents, a final newline."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
