"""The OpenAPI 3.1 document of the HTTP API, generated from the catalog's route declaration and the pydantic models.

`document()` walks catalog.ENDPOINTS, each of which names its request model, query and header parameters,
and every response it can give with its model. Request schemas are the JSON Schemas of the request models
that validate (models.py; `http_api.parse` refuses any other model for a route), so the document is never
looser or stricter than the code; response schemas are the models below, which mirror what the handlers
return. Besides each function's answers, a protected
route documents what API Gateway itself answers ({"message": ...}): 401 without a token, 403 when
the authorizer refuses it; any route may meet the gateway's 404 (an unmatched path) and 413.

The committed `openapi.json` at the repository's root is this document; a test regenerates it and
fails when it is stale (`python -m todo_app.openapi > openapi.json` rewrites it).

Not imported by any function: the document is built at development time.
"""

from __future__ import annotations

import json
import re
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
    deviceToken: str = Field(description="keep it and send it with the next log-ins from this device: they are then counted per device")


class SessionInfo(_Out):
    sessionId: str = Field(description="names the session; neither its token nor the token's hash")
    createdAt: str
    expiresAt: Time
    userAgent: str
    sourceIp: str
    current: bool = Field(description="the session of the token this request presented")


class SessionList(_Out):
    items: list[SessionInfo]


class ResetRequested(_Out):
    status: Literal["accepted"] = Field(description="the same for every address, known or not")
    message: str


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


def request_model(endpoint: catalog.Endpoint) -> type[BaseModel] | None:
    """The model that validates the endpoint's request body."""
    return None if endpoint.request is None else getattr(models, endpoint.request)


def _response_model(name: str | None) -> type[BaseModel] | None:
    if name is None:
        return None
    model = globals()[name]
    assert isinstance(model, type) and issubclass(model, BaseModel), name
    return model


def _operation(endpoint: catalog.Endpoint) -> dict[str, Any]:
    model, body = _response_model(endpoint.response), request_model(endpoint)
    errors = dict(endpoint.errors)
    responses: dict[str, Any] = {str(endpoint.status): {"description": endpoint.summary}}
    if model is not None:
        responses[str(endpoint.status)]["content"] = _content(_ref(model))
    if endpoint.operation in LINKS:
        responses[str(endpoint.status)]["links"] = LINKS[endpoint.operation]
    for code, why in errors.items():
        responses[str(code)] = {"description": why, "content": _content(_ref(Error))}
    for code, why, other in endpoint.other:
        responses[str(code)] = {"description": why, "content": _content(_ref(globals()[other]))}
    if body is not None:
        responses.setdefault("400", {"description": catalog.INVALID, "content": _content(_ref(Error))})
        responses["413"] = {
            "description": "body over 64 KiB (API Gateway's own over 10 MB)",
            "content": _content(_either(Error, GatewayMessage)),
        }
    if 429 in errors:
        responses["429"]["headers"] = {
            "Retry-After": {"description": "seconds until log-ins are accepted again", "schema": {"type": "integer"}}
        }
    protected = endpoint.auth != "none"
    if protected:
        responses["401"] = {"description": "no bearer token (API Gateway)", "content": _content(_either(GatewayMessage, Error))}
        mine = responses.get("403", {}).get("description")
        why = "the authorizer refused the token (API Gateway)" + (f"; {mine}" if mine else "")
        responses["403"] = {"description": why, "content": _content(_either(GatewayMessage, Error))}
    mine = responses.get("404", {}).get("description")
    responses["404"] = {
        "description": (f"{mine}; " if mine else "") + "an unmatched path (API Gateway)",
        "content": _content(_either(Error, GatewayMessage)),
    }
    if endpoint.database or endpoint.function in ("orders", "todos", "sessions", "dashboard", "users"):
        responses.setdefault("503", {"description": "a dependency is down, named in details", "content": _content(_ref(Error))})
    operation: dict[str, Any] = {
        "operationId": endpoint.operation,
        "summary": endpoint.summary,
        "tags": [endpoint.function],
        "responses": dict(sorted(responses.items())),
        "security": [{"bearerAuth": []}] if protected else [],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]} for name in re.findall(r"\{(\w+)\}", endpoint.path)
    ]
    parameters += [
        {"name": p.name, "in": p.where, "required": False, "schema": p.schema, **({"description": p.description} if p.description else {})}
        for p in endpoint.params
    ]
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _content(_ref(body))}
    return operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in catalog.ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    requests = {m for m in map(request_model, catalog.ENDPOINTS) if m is not None}
    names = [e.response for e in catalog.ENDPOINTS] + [other[2] for e in catalog.ENDPOINTS for other in e.other]
    responses: set[type[BaseModel]] = {m for m in map(_response_model, names) if m is not None} | {Error, GatewayMessage}
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
