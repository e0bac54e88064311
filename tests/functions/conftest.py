"""Fixtures for the function tests: a real PostgreSQL, the AWS emulator, and an API Gateway stand-in.

- one PostgreSQL server and one emulator per session (stopped at the end). The server gets the roles the
  local runtime gives it (local.postgres_server.bootstrap_roles): the migrator (catalog.MIGRATOR_DB_USER, Aurora's
  master user) and an `rds_iam` stand-in; the migrations, run once as the migrator on a scratch database,
  create the application role (catalog.APP_DB_USER), which then gets a local password (no IAM here);
- per test: a fresh database (pytest-postgresql's DatabaseJanitor on the dynamic port) owned by the
  migrator, migrated by it; the handlers connect as the application role (DB_AUTH `password`); the
  emulator reset with the catalog's tables and queues and the master secret (the migrator's credentials,
  for the migrate function's `connection` path); the functions' module state (connection, cached token,
  boto3 clients) reset.
- `api` sends requests through the local runtime's API Gateway stand-in (local.gateway.Gateway):
  route matching from the catalog (404 when nothing matches), the REQUEST authorizer for protected
  routes (401 without a token, 403 when it says no), then the function with a payload 2.0 event
  carrying the authorizer's context; the functions run in this process.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from local import events
from local.emulator import FAKE_CREDENTIALS, Emulator, create_queues, create_tables
from local.gateway import Gateway, GatewayResponse
from local.postgres_server import PostgresServer, bootstrap_roles, give_database, set_password
from todo_app import aws, catalog, db, migrator

PREFIX = "fntest"
APP_ROLE, APP_PASSWORD = catalog.APP_DB_USER, "app-password"
MIGRATOR_ROLE, MIGRATOR_PASSWORD = catalog.MIGRATOR_DB_USER, "migrator-password"
CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:fntest"
TEST_VISIBILITY_TIMEOUT = 1  # seconds: lets a poison message be received 5 times quickly
_counter = itertools.count()


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer.start()
    try:
        prepare_roles(server)
        yield server
    finally:  # stopped even when the set-up fails
        server.stop()


@pytest.fixture(scope="session")
def base_env(emulator):
    values = {
        **FAKE_CREDENTIALS,
        "AWS_REGION": FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        "AWS_ENDPOINT_URL": emulator.url,
        "POWERTOOLS_SERVICE_NAME": "todo-platform-test",
        "POWERTOOLS_METRICS_NAMESPACE": "TodoPlatformTest",
        "SESSION_TTL_SECONDS": "3600",
        "LOGIN_MAX_FAILURES": "5",
        "LOGIN_WINDOW_SECONDS": "900",
        "LOGIN_IP_MAX_FAILURES": "20",
        "LOG_LEVEL": "WARNING",
        **{table.env: f"{PREFIX}-{table.key}" for table in catalog.TABLES.values()},
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    for k in ("AWS_PROFILE", "POWERTOOLS_IDEMPOTENCY_DISABLED"):
        os.environ.pop(k, None)
    yield values
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def migrator_connection(server: PostgresServer, dbname: str) -> psycopg.Connection:
    return psycopg.connect(
        host=server.host, port=server.port, user=MIGRATOR_ROLE, password=MIGRATOR_PASSWORD, dbname=dbname, autocommit=True
    )


def prepare_roles(server: PostgresServer) -> None:
    """What the local runtime does: the bootstrap's roles, a migration run as the migrator (which creates the
    application role), the application role's local password."""
    bootstrap_roles(server, database="todo_roles", migrator=MIGRATOR_ROLE, migrator_password=MIGRATOR_PASSWORD)
    with migrator_connection(server, "todo_roles") as conn:
        migrator.migrate(conn)
    set_password(server, APP_ROLE, APP_PASSWORD)


def reset_function_state() -> None:
    db.reset()
    aws.reset()


@dataclass
class Stack:
    emulator: Emulator
    pg: PostgresServer
    dbname: str
    secret_arn: str
    queue_url: str
    dlq_url: str

    def client(self, service: str):
        return self.emulator.client(service)

    def admin(self) -> psycopg.Connection:
        """A superuser connection to the test database."""
        return psycopg.connect(
            host=self.pg.host, port=self.pg.port, user=self.pg.user, password=self.pg.password, dbname=self.dbname, autocommit=True
        )

    def migrator(self) -> psycopg.Connection:
        """A connection to the test database as the migrator (the schema's owner)."""
        return migrator_connection(self.pg, self.dbname)

    def app(self) -> psycopg.Connection:
        """A connection to the test database as the application role."""
        return psycopg.connect(
            host=self.pg.host, port=self.pg.port, user=APP_ROLE, password=APP_PASSWORD, dbname=self.dbname, autocommit=True
        )

    def set_app_password(self, password: str) -> None:
        set_password(self.pg, APP_ROLE, password)

    def scan(self, key: str) -> list[dict]:
        items = self.client("dynamodb").scan(TableName=os.environ[catalog.TABLES[key].env]).get("Items", [])
        return [aws.from_item(i) for i in items]


@pytest.fixture
def database(pg_server, monkeypatch):
    """A fresh, empty database owned by the migrator, for this test only; the handlers' settings point at it."""
    name = f"todo_test_{os.getpid()}_{next(_counter)}"
    janitor = DatabaseJanitor(user=pg_server.user, host=pg_server.host, port=pg_server.port, dbname=name, password=pg_server.password)
    janitor.init()
    give_database(pg_server, name, MIGRATOR_ROLE)
    set_password(pg_server, APP_ROLE, APP_PASSWORD)  # a test may have changed it
    environment = {
        **catalog.database_environment(
            host=pg_server.host,
            port=pg_server.port,
            sslmode="disable",
            auth="password",
            connect_timeout=3,
            idle_timeout=0,
            health="connect",
            name=name,
        ),
        "DB_PASSWORD": APP_PASSWORD,
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    yield name
    db.reset()  # close the functions' connection before dropping the database
    janitor.drop()


@pytest.fixture
def bare_stack(base_env, emulator, pg_server, database, monkeypatch) -> Stack:
    """Tables, queues and the master secret in a clean emulator; the database not migrated."""
    reset_function_state()
    emulator.reset()
    create_tables(emulator.client("dynamodb"), PREFIX)
    queues = create_queues(emulator.client("sqs"), PREFIX, visibility_timeout=TEST_VISIBILITY_TIMEOUT)
    secret_arn = emulator.client("secretsmanager").create_secret(
        Name=f"{PREFIX}-db-{database}", SecretString=json.dumps({"username": MIGRATOR_ROLE, "password": MIGRATOR_PASSWORD})
    )["ARN"]
    for key, value in catalog.admin_database_environment(
        access="connection", secret_arn=secret_arn, cluster_arn=CLUSTER_ARN, name=database
    ).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(catalog.ORDERS_QUEUE.queue_url_env, queues["queue_url"])
    yield Stack(emulator, pg_server, database, secret_arn, queues["queue_url"], queues["dlq_url"])
    reset_function_state()


@pytest.fixture
def stack(bare_stack) -> Stack:
    """The bare stack with the schema migrated by the migrator (as the deploy's migration run does)."""
    with bare_stack.migrator() as conn:
        migrator.migrate(conn)
    return bare_stack


# --------------------------------------------------------------------------- invoking functions


def handler_of(function: str):
    return importlib.import_module(catalog.FUNCTIONS[function].module).handler


def context_for(function: str) -> events.LambdaContext:
    return events.LambdaContext(function_name=f"{PREFIX}-{function}", timeout_seconds=catalog.FUNCTIONS[function].timeout)


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict

    @property
    def error(self) -> dict:
        return self.body["error"]

    def fields(self) -> list[str]:
        return [d.get("field") for d in self.body["error"]["details"]]


def _json_or_text(raw: str | bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def reply_of(result: dict) -> Reply:
    """A function's payload 2.0 response, called directly (no gateway)."""
    return Reply(result["statusCode"], _json_or_text(result.get("body") or ""), result.get("headers") or {})


class InProcessFunctions:
    """The catalog's functions, called in this process the way Lambda calls them: what the gateway invokes.

    A handler's exception is not turned into a function error (the gateway's 500): it propagates,
    so that a failing test shows it.
    """

    def invoke(self, name: str, event: dict) -> Any:
        return handler_of(name)(event, context_for(name))


class Api:
    """API Gateway in front of the functions: the local runtime's own Gateway (routing, its 401, 403
    and 404 answers, the REQUEST authorizer, payload 2.0 events), without its HTTP server."""

    def __init__(self) -> None:
        self.gateway = Gateway(InProcessFunctions(), log=print)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: str | bytes | None = None,
        token: str | None = None,
        query: str = "",
        headers: dict | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Reply:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        raw = body.encode() if isinstance(body, str) else body or b""
        target = f"{path}?{query}" if query else path
        try:
            status, answer_headers, payload = self.gateway.handle(method, target, list(headers.items()), raw, source_ip)
        except GatewayResponse as answer:  # the gateway's own answer, as its HTTP server sends it
            status, answer_headers, payload = answer.to_http()
        return Reply(status, _json_or_text(payload), dict(answer_headers))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- conveniences
    def sign_up(self, email: str, name: str = "Ada", password: str = "correct horse", **extra) -> dict:
        reply = self.post("/users", json_body={"name": name, "email": email, "password": password, **extra})
        assert reply.status == 201, reply.body
        return reply.body

    def log_in(self, email: str, password: str = "correct horse") -> str:
        reply = self.post("/sessions", json_body={"email": email, "password": password})
        assert reply.status == 201, reply.body
        return reply.body["token"]

    def user_with_token(self, email: str, name: str = "Ada") -> tuple[dict, str]:
        user = self.sign_up(email, name=name)
        return user, self.log_in(email)


@pytest.fixture
def api(stack) -> Api:
    return Api()
