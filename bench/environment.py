"""The world a function sees, for the in-process benchmarks: a real PostgreSQL, the AWS emulator, the
catalog's tables and queue, the database secret, the migrations, and each function's environment.

The servers and the table/queue definitions come from `local/` (the same code the local runtime and the
tests use). What is missing there (a function's environment variables) is the small adapter below.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.config import StackConfig
from local.runtime import default_visibility_timeout, local_environment, sdk_environment
from todo_app.catalog import COMMON_ENV, DATABASE_NAME, FUNCTIONS, FunctionSpec, common_environment

from .core import FUNCTIONS_DIR, ROOT, NotAvailable

PREFIX = "bench"


def handler_available(function: str) -> str:
    """'' when the function's handler module exists in the working tree, else the reason it doesn't."""
    spec = FUNCTIONS[function]
    path = FUNCTIONS_DIR / (spec.module.replace(".", "/") + ".py")
    return "" if path.exists() else f"{spec.module} not landed yet"


def common_env(stack: str = "staging") -> dict[str, str]:
    """COMMON_ENV values as the stack sets them."""
    return common_environment(StackConfig.from_files(stack).session_ttl_seconds)


@dataclass
class World:
    postgres: Any
    emulator: Any
    tables: dict[str, str]  # env var -> table name
    queues: dict[str, str]
    secret_arn: str
    queue_arn: str
    _stdenv: dict[str, str] = field(default_factory=dict)

    # -- environment --------------------------------------------------------------------------
    def function_env(self, function: str | FunctionSpec, base: dict[str, str] | None = None) -> dict[str, str]:
        """The variables the function gets on Lambda (catalog keys + COMMON_ENV), pointed at the local servers."""
        spec = FUNCTIONS[function] if isinstance(function, str) else function
        union = self.all_env()
        env = dict(base if base is not None else os.environ)
        env.update({k: union[k] for k in (*spec.environment_keys, *COMMON_ENV)})
        env.update(sdk_environment(self.emulator.url))
        env["PYTHONPATH"] = os.pathsep.join([str(FUNCTIONS_DIR), str(ROOT)])
        return env

    def all_env(self) -> dict[str, str]:
        """The union of every function's variables, as the local runtime sets them."""
        return local_environment(
            tables=self.tables,
            queue_url=self.queues["queue_url"],
            postgres=self.postgres,
            secret_arn=self.secret_arn,
            emulator_url=self.emulator.url,
            session_ttl_seconds=StackConfig.from_files("staging").session_ttl_seconds,
        )

    def stop(self) -> None:
        for server in (self.emulator, self.postgres):
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - stopping is best effort; the other server still stops
                pass


def start_world() -> World:
    """Start PostgreSQL and the emulator (in parallel), create the database, tables, queue and secret."""
    from local.emulator import Emulator, create_queues, create_tables
    from local.postgres import PostgresServer

    box: dict[str, Any] = {}

    def start_pg() -> None:
        try:
            box["pg"] = PostgresServer.start()
        except Exception as error:  # noqa: BLE001 - any start failure is reported below
            box["pg_error"] = error

    thread = threading.Thread(target=start_pg)
    thread.start()
    try:
        emulator = Emulator.start()
    finally:
        thread.join()
    if "pg_error" in box:
        emulator.stop()
        raise box["pg_error"]
    pg = box["pg"]
    try:
        import psycopg

        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone():
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        tables = create_tables(emulator.client("dynamodb"), PREFIX)
        sqs = emulator.client("sqs")
        queues = create_queues(sqs, PREFIX, default_visibility_timeout())
        queue_arn = sqs.get_queue_attributes(QueueUrl=queues["queue_url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        secret = emulator.client("secretsmanager").create_secret(
            Name=f"{PREFIX}-db", SecretString=json.dumps({"username": pg.user, "password": pg.password})
        )
        return World(pg, emulator, tables, queues, secret["ARN"], queue_arn)
    except Exception:
        emulator.stop()
        pg.stop()
        raise


class InProcess:
    """Handlers imported into this process (as a warm Lambda container holds them), with the union env."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._saved = dict(os.environ)
        os.environ.update(world.all_env())
        self._handlers: dict[str, Callable] = {}

    def handler(self, function: str) -> Callable[[dict, Any], Any]:
        reason = handler_available(function)
        if reason:
            raise NotAvailable(reason)
        if function not in self._handlers:
            spec = FUNCTIONS[function]
            module_name, _, attribute = spec.handler.rpartition(".")
            module = importlib.import_module(module_name)
            self._handlers[function] = getattr(module, attribute)
        return self._handlers[function]

    def context(self, function: str, memory_mb: int = 512):
        from local.events import LambdaContext

        return LambdaContext(
            function_name=f"{PREFIX}-{function}", memory_limit_in_mb=memory_mb, timeout_seconds=FUNCTIONS[function].timeout
        )

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.handler(function)(event, self.context(function))

    def migrate(self) -> Any:
        """Apply the migrations with the migration function, as the program does on deploy."""
        return self.invoke("migrate", {})

    def close(self) -> None:
        os.environ.clear()
        os.environ.update(self._saved)
