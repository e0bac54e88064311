"""Baseline for cold init: the same routes served by FastAPI + Mangum, the common one-app approach.

A small but honest app: pydantic request and response models for each route, the authorizer's user id
taken from the API Gateway event (as our handlers do), one ASGI app per Lambda function wrapped with
Mangum. No business logic: the benchmark measures init, so the route bodies only return stub values.

The function whose routes to serve comes from BENCH_BASELINE_FUNCTION (a catalog name); unset or "all"
serves every route in one app, as that approach deploys it (one Lambda behind `$default`).
Like our handlers it imports boto3, and psycopg when the catalog says the function reaches PostgreSQL,
but it creates no AWS client or connection at import: a lower bound for the FastAPI approach.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

import boto3  # noqa: F401  (what the function needs anyway)
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field

from tierspec.email_address import EMAIL_PATTERN
from todo_app.catalog import FUNCTIONS, ROUTES

FUNCTION = os.environ.get("BENCH_BASELINE_FUNCTION", "all")
if FUNCTION == "all" or FUNCTIONS[FUNCTION].database:
    import psycopg  # noqa: F401

Email = Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class UserIn(Model):
    name: Name
    email: Email
    password: str = Field(min_length=8, max_length=200)
    age: int | None = Field(default=None, ge=0, le=150)


class UserUpdate(Model):
    name: Name | None = None
    email: Email | None = None
    age: int | None = Field(default=None, ge=0, le=150)
    currentPassword: str | None = Field(default=None, min_length=1, max_length=128)


class PasswordChange(Model):
    currentPassword: str = Field(min_length=1, max_length=128)
    newPassword: str = Field(min_length=8, max_length=128)


class User(Model):
    id: str
    name: str
    email: str
    age: int | None = None
    createdAt: datetime
    updatedAt: datetime


class UserPage(Model):
    items: list[User]
    cursor: str | None = None


class Login(Model):
    email: Email
    password: str
    deviceToken: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,128}$")


class SessionOut(Model):
    token: str
    userId: str
    expiresAt: datetime
    deviceToken: str


class Device(Model):
    sessionId: str
    createdAt: datetime
    expiresAt: datetime
    userAgent: str
    sourceIp: str
    current: bool


class DevicePage(Model):
    items: list[Device]


class TodoIn(Model):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    dueDate: datetime | None = None
    priority: Literal["low", "medium", "high"] = "medium"


class TodoUpdate(Model):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    status: Literal["open", "done"] | None = None
    dueDate: datetime | None = None
    priority: Literal["low", "medium", "high"] | None = None


class Todo(TodoIn):
    todoId: str
    userId: str
    status: Literal["open", "done"] = "open"
    createdAt: datetime


class TodoPage(Model):
    items: list[Todo]
    cursor: str | None = None


class Dashboard(Model):
    user: User
    todoCounts: dict[str, int]
    overdue: int
    recent: list[Todo]
    orderCounts: dict[str, int]


class OrderIn(Model):
    amount: Decimal = Field(gt=0, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: list[dict] | None = None


class OrderAccepted(Model):
    orderId: str
    status: Literal["PENDING"]


class Order(Model):
    orderId: str
    userId: str
    amount: Decimal
    currency: str
    status: str
    createdAt: datetime


class Health(Model):
    status: str
    checks: dict[str, str]


def caller(request: Request) -> str:
    """The user id the authorizer put in the request context; 401 when absent."""
    event = request.scope.get("aws.event") or {}
    user = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda", {}).get("userId")
    if not user:
        raise HTTPException(401, "unauthorized")
    return user


Caller = Annotated[str, Depends(caller)]
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def _user(user_id: str) -> User:
    return User(id=user_id, name="n", email="n@example.com", createdAt=NOW, updatedAt=NOW)


def _todo(user_id: str, todo_id: str) -> Todo:
    return Todo(todoId=todo_id, userId=user_id, title="t", createdAt=NOW)


# one endpoint per catalog route key
router_for: dict[str, APIRouter] = {}
ENDPOINTS: dict[str, tuple] = {}


def endpoint(route_key: str, **kwargs):
    def register(fn):
        ENDPOINTS[route_key] = (fn, kwargs)
        return fn

    return register


@endpoint("GET /health", response_model=Health)
def health() -> Health:
    return Health(status="ok", checks={"postgres": "ok", "dynamodb": "ok"})


@endpoint("POST /users", response_model=User, status_code=201)
def create_user(body: UserIn) -> User:
    return _user("u1")


@endpoint("POST /sessions", response_model=SessionOut, status_code=201)
def login(body: Login) -> SessionOut:
    return SessionOut(token="t", userId="u1", expiresAt=NOW, deviceToken="d")


class ResetRequest(Model):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirm(Model):
    token: str = Field(min_length=1, max_length=256)
    newPassword: str = Field(min_length=8, max_length=128)


class ResetAccepted(BaseModel):
    status: Literal["accepted"]
    message: str


@endpoint("POST /password-resets", response_model=ResetAccepted, status_code=202)
def request_password_reset(body: ResetRequest) -> ResetAccepted:
    return ResetAccepted(status="accepted", message="m")


@endpoint("POST /password-resets/confirm", status_code=204)
def confirm_password_reset(body: ResetConfirm) -> None:
    return None


@endpoint("DELETE /sessions/current", status_code=204)
def logout(user: Caller) -> None:
    return None


@endpoint("GET /sessions", response_model=DevicePage)
def list_sessions(user: Caller) -> DevicePage:
    return DevicePage(items=[])


@endpoint("DELETE /sessions/{sessionId}", status_code=204)
def revoke_session(sessionId: str, user: Caller) -> None:
    return None


@endpoint("DELETE /sessions", status_code=204)
def log_out_everywhere(user: Caller) -> None:
    return None


@endpoint("GET /users", response_model=UserPage)
def list_users(user: Caller, limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None) -> UserPage:
    return UserPage(items=[_user(user)])


@endpoint("GET /users/{userId}", response_model=User)
def get_user(userId: str, user: Caller) -> User:
    if userId != user:
        raise HTTPException(403, "forbidden")
    return _user(user)


@endpoint("PUT /users/{userId}", response_model=User)
def update_user(userId: str, body: UserUpdate, user: Caller) -> User:
    return _user(user)


@endpoint("PUT /users/{userId}/password", status_code=204)
def change_password(userId: str, body: PasswordChange, user: Caller) -> None:
    if userId != user:
        raise HTTPException(403, "forbidden")
    return None


@endpoint("DELETE /users/{userId}", status_code=204)
def delete_user(userId: str, user: Caller) -> None:
    return None


@endpoint("POST /users/{userId}/todos", response_model=Todo, status_code=201)
def create_todo(userId: str, body: TodoIn, user: Caller) -> Todo:
    return _todo(user, "t1")


@endpoint("GET /users/{userId}/todos", response_model=TodoPage)
def list_todos(
    userId: str,
    user: Caller,
    status: Literal["open", "done"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
) -> TodoPage:
    return TodoPage(items=[])


@endpoint("GET /todos/{todoId}", response_model=Todo)
def get_todo(todoId: str, user: Caller) -> Todo:
    return _todo(user, todoId)


@endpoint("PUT /todos/{todoId}", response_model=Todo)
def update_todo(todoId: str, body: TodoUpdate, user: Caller) -> Todo:
    return _todo(user, todoId)


@endpoint("DELETE /todos/{todoId}", status_code=204)
def delete_todo(todoId: str, user: Caller) -> None:
    return None


@endpoint("GET /dashboard/{userId}", response_model=Dashboard)
def dashboard(userId: str, user: Caller) -> Dashboard:
    return Dashboard(user=_user(user), todoCounts={}, overdue=0, recent=[], orderCounts={})


@endpoint("POST /orders", response_model=OrderAccepted, status_code=202)
def create_order(body: OrderIn, user: Caller) -> OrderAccepted:
    return OrderAccepted(orderId="o1", status="PENDING")


@endpoint("GET /orders/{orderId}", response_model=Order)
def get_order(orderId: str, user: Caller) -> Order:
    return Order(orderId=orderId, userId=user, amount=Decimal("1.00"), currency="EUR", status="STORED", createdAt=NOW)


def build_app(function: str = "all") -> FastAPI:
    app = FastAPI(title=f"todo-platform baseline ({function})", docs_url=None, redoc_url=None, openapi_url=None)
    for route in ROUTES:
        if function != "all" and route.function != function:
            continue
        fn, kwargs = ENDPOINTS[route.route_key]
        app.add_api_route(route.path, fn, methods=[route.method], **kwargs)
    return app


app = build_app(FUNCTION)
handler = Mangum(app, lifespan="off")
