"""The application's contract, as plain data: tables, the queue, functions, routes and IAM needs.

This module is the one source of truth that three readers share:
- `components.program` hands it to the tiers (`components/`, which know only the `tierspec` types), which
  turn it into DynamoDB tables, SQS queues, Lambda functions, routes and IAM policies;
- `local/` creates the same tables and queues in the emulator and routes requests the same way;
- the handlers in `todo_app.handlers` bind their route functions to the routes declared here.

It imports nothing but the standard library and `tierspec` (shipped beside it in the archive), so every
reader can load it cheaply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

import tierspec
from tierspec import Index as Index
from tierspec import KeySchema as KeySchema
from tierspec import QueueSpec as QueueSpec
from tierspec import Route as Route
from tierspec import Table as Table
from tierspec import TableAccess as TableAccess

T = TypeVar("T")

# --------------------------------------------------------------------------- DynamoDB


# The indexes the handlers query by name.
TODOS_BY_TODO_ID = Index("byTodoId", hash_key="todoId", projection="KEYS_ONLY")
TODOS_BY_STATUS = Index("byStatus", hash_key="userId", range_key="statusKey")
SESSIONS_BY_USER = Index("byUser", hash_key="userId", projection="KEYS_ONLY")

TABLES: dict[str, Table] = {
    t.key: t
    for t in (
        # todos: one partition per user, sorted by a time-ordered id, so a user's list is a Query.
        Table(
            key="todos",
            env="TODOS_TABLE",
            hash_key="userId",
            range_key="todoId",
            indexes=(
                # finds a todo's owner from its id alone, to tell 403 (someone else's) from 404
                TODOS_BY_TODO_ID,
                # a user's todos of one status, newest first: `statusKey` is "<status>#<todoId>"
                TODOS_BY_STATUS,
            ),
        ),
        # sessions: only a hash of the token is stored; DynamoDB's TTL removes expired ones. A deleted
        # user's marker (key DELETED_USER_PREFIX + user id, no userId attribute) lives here too: the
        # authorizer reads it with the session.
        Table(
            key="sessions",
            env="SESSIONS_TABLE",
            hash_key="tokenHash",
            indexes=(SESSIONS_BY_USER,),
            ttl_attribute="expiresAt",
        ),
        # orders: keyed by owner, so an owner-scoped read is a GetItem and a per-user list a Query.
        Table(key="orders", env="ORDERS_TABLE", hash_key="userId", range_key="orderId"),
        # Powertools idempotency records (its default attribute names).
        Table(key="idempotency", env="IDEMPOTENCY_TABLE", hash_key="id", ttl_attribute="expiration"),
        # failed log-ins per e-mail (keyed by a hash of the normalised address), for log-in throttling;
        # an item lives until its window ends
        Table(key="loginAttempts", env="LOGIN_ATTEMPTS_TABLE", hash_key="emailHash", ttl_attribute="expiresAt"),
        # failed log-ins per source IP and per device token (keyed by a hash of "ip:<address>" or
        # "device:<token hash>"), the same counters as loginAttempts'
        Table(key="loginSources", env="LOGIN_SOURCES_TABLE", hash_key="sourceHash", ttl_attribute="expiresAt"),
        # device tokens (OWASP device cookies): only a hash of the token is stored, with the user and the
        # hash of the e-mail it was issued for; DynamoDB's TTL removes it when it expires
        Table(key="devices", env="DEVICES_TABLE", hash_key="tokenHash", ttl_attribute="expiresAt"),
        # the last known state of each dependency (item DATABASE_STATUS_KEY: PostgreSQL), written by the
        # functions that connect to it and by the migrator; where the database pauses, GET /health reads
        # this instead of opening a connection (any connection attempt would wake the database)
        Table(key="dependencyStatus", env="STATUS_TABLE", hash_key="dependency", always_on_demand=True),
        # the password-reset outbox: POST /password-resets writes one item per request (the user id and address, or a
        # decoy for an unknown address: never a token); its stream feeds the mailer outside the VPC
        Table(
            key="resetOutbox",
            env="RESET_OUTBOX_TABLE",
            hash_key="requestId",
            ttl_attribute="expiresAt",
            always_on_demand=True,
            stream="NEW_IMAGE",
        ),
        # reset tokens, only as their SHA-256 (with the user id) for 30 minutes; the mailer's marks of the stream
        # records it has sent and each user's last reset (RESET_SENT_PREFIX, RESET_SPENT_PREFIX: never a token hash,
        # those are 64 hex digits)
        Table(key="resetTokens", env="RESET_TOKENS_TABLE", hash_key="tokenHash", ttl_attribute="expiresAt", always_on_demand=True),
    )
}

# The status-table item that holds PostgreSQL's last known state.
DATABASE_STATUS_KEY = "postgres"

# The resetTokens-table key prefixes of the mailer's mark of a stream record it has sent, and of a user's last reset
# (every token of the user made before it is spent).
RESET_SENT_PREFIX = "sent#"
RESET_SPENT_PREFIX = "spent#"
# The web app's reset screen, after the web URL: the token follows.
RESET_LINK_PATH = "/#/reset-password?token="
# The mailer's settings: the verified SES sender identity (an address) and the web app's origin.
MAILER_ENV = ("MAIL_FROM", "WEB_URL")

# The sessions-table key of a deleted user's marker: never a token hash (those are 64 hex digits).
DELETED_USER_PREFIX = "deleted-user#"

# --------------------------------------------------------------------------- SQS


ORDERS_QUEUE = QueueSpec(name="orders", queue_url_env="ORDERS_QUEUE_URL")

# --------------------------------------------------------------------------- Functions and IAM

# PostgreSQL: the database every stack creates, its two users, and the settings a database function receives.
DATABASE_NAME = "todo"
# The RDS master user: the migrator, which owns the schema (its password is RDS-managed, in Secrets Manager).
MIGRATOR_DB_USER = "todo_admin"
# The application's role: DML on the application's tables only; on AWS it logs in with IAM database
# authentication tokens (GRANT rds_iam), locally with a password. The migrator creates and maintains it.
APP_DB_USER = "todo_app"

DatabaseAuth = Literal["iam", "password"]
DatabaseHealth = Literal["connect", "last-known"]


def database_environment(
    *,
    host: T,
    port: int,
    sslmode: str,
    auth: DatabaseAuth,
    connect_timeout: int,
    idle_timeout: int,
    health: DatabaseHealth,
    user: str = APP_DB_USER,
    name: str = DATABASE_NAME,
) -> dict[str, T | str]:
    """The settings of a function that connects to PostgreSQL as the application role.

    DB_AUTH `iam`: a token from generate_db_auth_token (signed locally, no network call); `password`: the
    local runtime's, in DB_PASSWORD (set only there). DB_CONNECT_TIMEOUT covers a paused database's resume
    where it can pause. DB_IDLE_TIMEOUT (seconds, 0 = never) closes a connection idle that long, on the
    server (idle_session_timeout) and before reuse, so that a database that pauses can. DB_HEALTH `connect`:
    GET /health opens a connection; `last-known`: it reads the status table instead (a connection attempt
    would wake a paused database)."""
    return {
        "DB_HOST": host,
        "DB_PORT": str(port),
        "DB_NAME": name,
        "DB_USER": user,
        "DB_SSLMODE": sslmode,
        "DB_AUTH": auth,
        "DB_CONNECT_TIMEOUT": str(connect_timeout),
        "DB_IDLE_TIMEOUT": str(idle_timeout),
        "DB_HEALTH": health,
    }


DATABASE_ENV = tuple(database_environment(host="", port=0, sslmode="", auth="iam", connect_timeout=0, idle_timeout=0, health="connect"))

DatabaseAdminAccess = Literal["data-api", "connection"]


def admin_database_environment(
    *, access: DatabaseAdminAccess, secret_arn: T, cluster_arn: T, app_user: str = APP_DB_USER, name: str = DATABASE_NAME
) -> dict[str, T | str]:
    """The settings of the migrator, which runs the migrations as the master user and maintains the
    application role (DB_USER). DB_SECRET_ARN names the master secret {"username", "password"} (RDS-managed).
    DB_ADMIN_ACCESS `data-api`: through the RDS Data API on DB_CLUSTER_ARN (no VPC, no connection);
    `connection`: a PostgreSQL connection (the local runtime; it also sets DB_HOST, DB_PORT, DB_SSLMODE)."""
    return {"DB_ADMIN_ACCESS": access, "DB_SECRET_ARN": secret_arn, "DB_CLUSTER_ARN": cluster_arn, "DB_NAME": name, "DB_USER": app_user}


ADMIN_DATABASE_ENV = tuple(admin_database_environment(access="data-api", secret_arn="", cluster_arn=""))


@dataclass(frozen=True)
class FunctionSpec(tierspec.FunctionSpec):
    """A `tierspec.FunctionSpec` of this application, which also knows the environment it is given."""

    @property
    def environment_keys(self) -> tuple[str, ...]:
        keys = [TABLES[a.table].env for a in self.tables]
        if self.queue_actions:
            keys.append(ORDERS_QUEUE.queue_url_env)
        if self.database:
            keys += DATABASE_ENV
        if self.database_admin:
            keys += ADMIN_DATABASE_ENV
        if self.sends_mail:
            keys += MAILER_ENV
        return tuple(dict.fromkeys(keys))


_READ_WRITE = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
# every function that connects to PostgreSQL records the outcome of each new connection (see DATABASE_STATUS_KEY)
_RECORDS_STATUS = TableAccess("dependencyStatus", ("PutItem",))
_RECORDS_STATUS_AND_READS = TableAccess("dependencyStatus", ("PutItem", "GetItem"))

FUNCTIONS: dict[str, FunctionSpec] = {
    f.name: f
    for f in (
        FunctionSpec(
            name="authorizer",
            handler="todo_app.handlers.authorizer.handler",
            kind="authorizer",
            description="HTTP API REQUEST authorizer: bearer token -> user id",
            timeout=5,
            # the session and its user's deletion marker, in one BatchGetItem (GetItem: older tokens)
            tables=(TableAccess("sessions", ("GetItem", "BatchGetItem")),),
        ),
        FunctionSpec(
            name="health",
            handler="todo_app.handlers.health.handler",
            kind="api",
            description="GET /health: checks PostgreSQL (or its last known state where it pauses) and DynamoDB",
            timeout=10,
            database=True,
            tables=(TableAccess("sessions", ("GetItem",)), _RECORDS_STATUS_AND_READS),
        ),
        FunctionSpec(
            name="users",
            handler="todo_app.handlers.users.handler",
            kind="api",
            description="Sign-up, profiles, password change and user deletion (PostgreSQL; sweeps todos and sessions)",
            timeout=15,
            database=True,
            tables=(
                # a wrong current password counts as a failed log-in for the e-mail
                TableAccess("loginAttempts", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
                TableAccess("todos", ("Query", "BatchWriteItem")),
                # PutItem: the deletion marker the authorizer checks
                TableAccess("sessions", ("Query", "BatchWriteItem", "DeleteItem", "PutItem"), indexes=True),
                _RECORDS_STATUS,
            ),
        ),
        FunctionSpec(
            name="sessions",
            handler="todo_app.handlers.sessions.handler",
            kind="api",
            description="Log in (throttled per e-mail, device and source IP), log out, the caller's sessions (devices), and password reset",
            timeout=10,
            database=True,
            tables=(
                TableAccess("sessions", ("PutItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem"), indexes=True),
                # the log-in counters, and the reset-request counters under keys of their own
                TableAccess("loginAttempts", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
                # POST /password-resets writes the mailer's outbox item; the confirmation spends a token
                TableAccess("resetOutbox", ("PutItem",)),
                # spends a token; reads and writes the user's last-reset mark (older tokens are spent with it)
                TableAccess("resetTokens", ("DeleteItem", "GetItem", "PutItem")),
                TableAccess("loginSources", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
                TableAccess("devices", ("GetItem", "PutItem", "DeleteItem")),
                _RECORDS_STATUS,
            ),
        ),
        FunctionSpec(
            name="todos",
            handler="todo_app.handlers.todos.handler",
            kind="api",
            description="Todos (DynamoDB); creation checks the owner in PostgreSQL",
            timeout=10,
            database=True,
            tables=(TableAccess("todos", _READ_WRITE, indexes=True), _RECORDS_STATUS),
        ),
        FunctionSpec(
            name="dashboard",
            handler="todo_app.handlers.dashboard.handler",
            kind="api",
            description="Profile from PostgreSQL with todo and order summaries from DynamoDB",
            timeout=10,
            database=True,
            tables=(TableAccess("todos", ("Query",), indexes=True), TableAccess("orders", ("Query",)), _RECORDS_STATUS),
        ),
        FunctionSpec(
            name="orders",
            handler="todo_app.handlers.orders.handler",
            kind="api",
            description="Accepts orders onto the queue; reads stored orders",
            timeout=10,
            tables=(
                TableAccess("orders", ("GetItem",)),
                TableAccess("idempotency", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
            ),
            queue_actions=("SendMessage",),
        ),
        FunctionSpec(
            name="worker",
            handler="todo_app.handlers.worker.handler",
            kind="worker",
            description="Stores queued orders with a conditional write, reporting partial batch failures",
            timeout=30,
            tables=(TableAccess("orders", ("PutItem",)),),
            # what an SQS event source mapping needs from the function's role
            queue_actions=("ReceiveMessage", "DeleteMessage", "GetQueueAttributes", "ChangeMessageVisibility"),
        ),
        FunctionSpec(
            name="mailer",
            handler="todo_app.handlers.mailer.handler",
            kind="worker",
            description="Sends password-reset mail through SES, fed by the reset outbox's stream (outside the VPC)",
            timeout=30,
            tables=(TableAccess("resetTokens", ("GetItem", "PutItem")),),
            stream="resetOutbox",
            sends_mail=True,
        ),
        FunctionSpec(
            name="migrate",
            handler="todo_app.handlers.migrate.handler",
            kind="migration",
            description="Applies the versioned SQL migrations as the master user (RDS Data API); invoked by the program on deploy",
            # a paused database is retried for up to a minute while it resumes
            timeout=120,
            database_admin=True,
            tables=(_RECORDS_STATUS,),
        ),
    )
}

# --------------------------------------------------------------------------- HTTP routes


Auth = Literal["none", "token", "self", "owner"]


@dataclass(frozen=True)
class Param:
    """A query or header parameter of an operation.

    Attributes:
        name: the parameter's name.
        where: "query" or "header".
        schema: its JSON Schema.
        description: what it does, for the OpenAPI document.
    """

    name: str
    where: Literal["query", "header"]
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Endpoint:
    """Everything true of one route, declared once: the router, the authorizer's routes, openapi.json, the README's
    route table, the Python client, web/js/routes.js, the bench's mix and the API Gateway routes come from it.

    Attributes:
        method: the HTTP method.
        path: API Gateway's path syntax, each variable one whole segment: "/users/{userId}".
        function: the API function that serves it (a key of FUNCTIONS).
        operation: the handler's route function's name in that function's module (`@router.operation`), also the
            OpenAPI operationId and the client's method name. Named, not imported: this module stays cheap to load.
        auth: "none" (public), "token" (any valid bearer token), "self" (the path's {userId} is the caller), "owner"
            (the resource named in the path is the caller's: 403 or 404 otherwise).
        summary: one line on what it does.
        status: the success status.
        response: the name of the success body's model in `todo_app.openapi`; None: no body.
        request: the name of the request body's model in `todo_app.models`, which validates it (`http_api.parse`
            refuses any other); None: no body.
        params: its query and header parameters.
        errors: the function's own error statuses, each with when it answers it.
        other: other statuses with a body of their own: (status, when, model name in `todo_app.openapi`).
        database: needs PostgreSQL or DynamoDB: it may answer 503 naming the dependency.
        client: the Python client's method name where it is not `operation`.
    """

    method: str
    path: str
    function: str
    operation: str
    auth: Auth
    summary: str
    status: int
    response: str | None = None
    request: str | None = None
    params: tuple[Param, ...] = ()
    errors: tuple[tuple[int, str], ...] = ()
    other: tuple[tuple[int, str, str], ...] = ()
    database: bool = False
    client: str = ""

    @property
    def route(self) -> Route:
        """The route the tiers take: API Gateway's route and the authorizer in front of it unless it is public."""
        return Route(self.method, self.path, self.function, auth=self.auth != "none", operation=self.operation)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "page size")
CURSOR = Param("cursor", "query", {"type": "string", "maxLength": 1024}, "the previous page's nextCursor (opaque)")
INVALID = "invalid input: each bad field named in details"
NOT_YOURS_USER, NO_USER = (403, "someone else's user"), (404, "no such user")
NOT_YOURS_TODO, NO_TODO = (403, "someone else's todo"), (404, "no such todo")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/health",
        "health",
        "health",
        "none",
        "Check PostgreSQL and DynamoDB",
        200,
        "Health",
        other=((503, "a dependency is down, named in checks", "HealthDown"),),
    ),
    Endpoint(
        "POST",
        "/users",
        "users",
        "create_user",
        "none",
        "Sign up",
        201,
        "User",
        request="UserCreate",
        errors=((400, INVALID), (409, "the e-mail is taken")),
        database=True,
        client="sign_up",
    ),
    Endpoint(
        "POST",
        "/sessions",
        "sessions",
        "log_in",
        "none",
        "Log in",
        201,
        "NewSession",
        request="SessionCreate",
        errors=(
            (400, INVALID),
            (401, "wrong e-mail or password"),
            (429, "too many failed log-ins for this e-mail, device or source IP (Retry-After)"),
        ),
        database=True,
    ),
    # before /sessions/{sessionId}: API Gateway prefers the literal segment, and so does the local router
    Endpoint("DELETE", "/sessions/current", "sessions", "log_out", "token", "Log out (this session)", 204),
    Endpoint("GET", "/sessions", "sessions", "list_sessions", "token", "My active sessions (devices)", 200, "SessionList"),
    Endpoint(
        "DELETE",
        "/sessions/{sessionId}",
        "sessions",
        "revoke_session",
        "owner",
        "Revoke one of my sessions",
        204,
        errors=((404, "no such session of mine"),),
    ),
    Endpoint("DELETE", "/sessions", "sessions", "log_out_everywhere", "token", "Log out every session of mine, this one included", 204),
    Endpoint(
        "GET",
        "/users",
        "users",
        "list_users",
        "token",
        "List users (id and name)",
        200,
        "UserPage",
        params=(LIMIT, CURSOR),
        errors=((400, INVALID),),
        database=True,
    ),
    Endpoint(
        "GET", "/users/{userId}", "users", "get_user", "self", "My profile", 200, "User", errors=(NOT_YOURS_USER, NO_USER), database=True
    ),
    Endpoint(
        "PUT",
        "/users/{userId}",
        "users",
        "update_user",
        "self",
        "Update my profile",
        200,
        "User",
        request="UserUpdate",
        errors=(
            (400, INVALID + "; currentPassword missing for an e-mail change"),
            (403, "someone else's user, or the current password is wrong (wrong_password)"),
            NO_USER,
            (409, "the e-mail is taken"),
            (429, "too many wrong passwords for this e-mail (Retry-After)"),
        ),
        database=True,
    ),
    Endpoint(
        "PUT",
        "/users/{userId}/password",
        "users",
        "change_password",
        "self",
        "Change my password (my other sessions are revoked)",
        204,
        request="PasswordChange",
        errors=(
            (400, INVALID),
            (403, "someone else's user, or the current password is wrong (wrong_password)"),
            NO_USER,
            (429, "too many wrong passwords for this e-mail (Retry-After)"),
        ),
        database=True,
    ),
    Endpoint(
        "DELETE",
        "/users/{userId}",
        "users",
        "delete_user",
        "self",
        "Delete me, my sessions and my todos",
        204,
        errors=(NOT_YOURS_USER,),
        database=True,
    ),
    Endpoint(
        "POST",
        "/users/{userId}/todos",
        "todos",
        "create_todo",
        "self",
        "Create a todo",
        201,
        "Todo",
        request="TodoCreate",
        errors=((400, INVALID), NOT_YOURS_USER, NO_USER),
        database=True,
    ),
    Endpoint(
        "GET",
        "/users/{userId}/todos",
        "todos",
        "list_todos",
        "self",
        "My todos, newest first",
        200,
        "TodoPage",
        params=(Param("status", "query", {"type": "string", "enum": ["open", "done"]}), LIMIT, CURSOR),
        errors=((400, INVALID), NOT_YOURS_USER),
    ),
    Endpoint("GET", "/todos/{todoId}", "todos", "get_todo", "owner", "One todo", 200, "Todo", errors=(NOT_YOURS_TODO, NO_TODO)),
    Endpoint(
        "PUT",
        "/todos/{todoId}",
        "todos",
        "update_todo",
        "owner",
        "Update a todo",
        200,
        "Todo",
        request="TodoUpdate",
        errors=((400, INVALID), NOT_YOURS_TODO, NO_TODO),
    ),
    Endpoint("DELETE", "/todos/{todoId}", "todos", "delete_todo", "owner", "Delete a todo", 204, errors=(NOT_YOURS_TODO, NO_TODO)),
    Endpoint(
        "GET",
        "/dashboard/{userId}",
        "dashboard",
        "get_dashboard",
        "self",
        "My profile with todo and order summaries",
        200,
        "Dashboard",
        errors=(NOT_YOURS_USER, NO_USER),
        database=True,
        client="dashboard",
    ),
    Endpoint(
        "POST",
        "/orders",
        "orders",
        "create_order",
        "token",
        "Place an order (queued)",
        202,
        "OrderAccepted",
        request="OrderCreate",
        params=(
            Param(
                "Idempotency-Key",
                "header",
                {"type": "string", "pattern": r"^[\x21-\x7e]{1,128}$"},
                "the same key and order within 24 h answer the same 202 and place one order",
            ),
        ),
        errors=((400, INVALID), (409, "the Idempotency-Key was used with another order, or its first request is still running")),
    ),
    Endpoint(
        "POST",
        "/password-resets",
        "sessions",
        "request_password_reset",
        "none",
        "E-mail me a password reset link (the same answer whether or not the address has an account)",
        202,
        "ResetRequested",
        request="PasswordResetRequest",
        errors=((400, INVALID), (429, "too many reset requests for this e-mail or from this source (Retry-After)")),
        database=True,
    ),
    Endpoint(
        "POST",
        "/password-resets/confirm",
        "sessions",
        "confirm_password_reset",
        "none",
        "Set a new password with a reset token; ends every session of the user",
        204,
        request="PasswordResetConfirm",
        errors=((400, INVALID + "; `token` unknown, expired or already used"),),
        database=True,
    ),
    Endpoint(
        "GET",
        "/orders/{orderId}",
        "orders",
        "get_order",
        "owner",
        "One of my orders, once stored",
        200,
        "Order",
        errors=((404, "not stored yet, unknown, or someone else's"),),
    ),
)
ROUTES: tuple[Route, ...] = tuple(endpoint.route for endpoint in ENDPOINTS)
_BY_OPERATION = {endpoint.operation: endpoint for endpoint in ENDPOINTS}


def endpoint(operation: str) -> Endpoint:
    """The declared endpoint of an operation."""
    return _BY_OPERATION[operation]


def path_of(operation: str, **params: str) -> str:
    """The operation's path with its {variables} filled in, each URL-quoted (a variable not given is an error)."""
    from urllib.parse import quote

    return re.sub(r"\{(\w+)\}", lambda m: quote(params[m.group(1)], safe=""), endpoint(operation).path)


# What a client shows for a failure whose body carries no message (API Gateway's own answers, a proxy's), and the
# code it reports for it: one map for the Python client and the web app (web/js/routes.js). Every status an
# endpoint declares has its entry (checked below).
STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is invalid."),
    401: ("unauthorized", "Please log in again."),
    403: ("forbidden", "That is not yours."),
    404: ("not_found", "Not found."),
    409: ("conflict", "That conflicts with what is already there."),
    413: ("payload_too_large", "The request is too large."),
    429: ("too_many_requests", "Too many attempts: wait a moment and try again."),
    500: ("internal_error", "Something went wrong on our side."),
    502: ("bad_gateway", "The service did not answer properly: try again."),
    503: ("service_unavailable", "The service is unavailable: try again in a moment."),
    504: ("gateway_timeout", "The service took too long: try again."),
}


@dataclass(frozen=True)
class StackOutputs(Generic[T]):
    """The flat stack outputs: the same keys from a deployed stack (Pulumi Outputs) and from the local
    runtime (strings). Each key is its field's name in camelCase."""

    api_url: T
    region: T
    stack: T
    users_db_endpoint: T  # the host only: the Aurora cluster's writer endpoint
    users_db_name: T
    users_db_secret_arn: T  # the master secret, for operators and migrations
    todos_table_name: T
    sessions_table_name: T
    orders_table_name: T
    orders_queue_url: T
    orders_dlq_url: T
    alarm_topic_arn: T
    dashboard_name: T
    web_url: T  # the web app's https origin (local: its http origin)
    users_db_user: T  # the application's database user (IAM authentication on AWS, no password)

    def as_dict(self) -> dict[str, T]:
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


OUTPUT_KEYS = tuple(_camel(f.name) for f in fields(StackOutputs))

# What the Lambda archive holds, each package at its root: the application and the spec types its catalog imports.
CODE_PACKAGES = ("tierspec", "todo_app")
# The application's SQL migrations, inside its package (the archive ships them; the deploy hashes them).
MIGRATIONS_DIR = "todo_app/migrations"

# The authorizer reads the token from this header; API Gateway answers 401 itself when it is absent.
AUTH_HEADER = "authorization"

# Environment every function gets besides its table, queue and database settings.
COMMON_ENV = (
    "SESSION_TTL_SECONDS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_WINDOW_SECONDS",
    "LOGIN_IP_MAX_FAILURES",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
)
SERVICE_NAME = "todo-platform"
METRICS_NAMESPACE = "TodoPlatform"


@dataclass(frozen=True)
class LoginThrottle:
    """Log-in throttling, from the stack config: after `max_failures` failed log-ins for an e-mail within
    `window_seconds`, log-ins for it answer 429 until the window ends; the same per device token, and after
    `ip_max_failures` failed log-ins from one source IP (any e-mails) without a valid device token."""

    max_failures: int
    window_seconds: int
    ip_max_failures: int


def common_environment(session_ttl_seconds: int, log_level: str = "INFO", *, login_throttle: LoginThrottle) -> dict[str, str]:
    """The COMMON_ENV values, as the stack and the local runtime both set them."""
    return {
        "SESSION_TTL_SECONDS": str(session_ttl_seconds),
        "LOGIN_MAX_FAILURES": str(login_throttle.max_failures),
        "LOGIN_WINDOW_SECONDS": str(login_throttle.window_seconds),
        "LOGIN_IP_MAX_FAILURES": str(login_throttle.ip_max_failures),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "LOG_LEVEL": log_level,
    }


def routes_for(function: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.function == function)


def api_functions() -> tuple[FunctionSpec, ...]:
    return tuple(f for f in FUNCTIONS.values() if f.kind == "api")


def _check() -> None:
    """A typo in the catalog fails at import, before any deploy."""
    errors = []
    for f in FUNCTIONS.values():
        errors += [f"{f.name}: unknown table {a.table!r}" for a in f.tables if a.table not in TABLES]
    errors += [f"{f.name}: unknown stream table {f.stream!r}" for f in FUNCTIONS.values() if f.stream and f.stream not in TABLES]
    errors += [
        f"{f.name}: table {f.stream!r} has no stream" for f in FUNCTIONS.values() if f.stream in TABLES and not TABLES[f.stream].stream
    ]
    errors += [f"{r.route_key}: unknown function {r.function!r}" for r in ROUTES if r.function not in FUNCTIONS]
    errors += [f"{r.route_key}: not an api function" for r in ROUTES if r.function in FUNCTIONS and FUNCTIONS[r.function].kind != "api"]
    errors += [f"{r.route_key}: no operation name" for r in ROUTES if not r.operation.isidentifier()]
    if len({(r.function, r.operation) for r in ROUTES}) != len(ROUTES):
        errors.append("duplicate operation names within a function")
    if len({r.route_key for r in ROUTES}) != len(ROUTES):
        errors.append("duplicate route keys")
    if len({e.operation for e in ENDPOINTS}) != len(ENDPOINTS):
        errors.append("duplicate operation names")
    statuses = {code for e in ENDPOINTS for code, _ in e.errors} | {code for e in ENDPOINTS for code, _, _ in e.other}
    errors += [f"status {code}: no entry in STATUS_MESSAGES" for code in sorted(statuses - set(STATUS_MESSAGES))]
    if errors:
        raise ValueError("catalog is inconsistent: " + "; ".join(errors))


_check()
