"""The world a function sees, for the in-process benchmarks: the local runtime's servers and resources
(PostgreSQL with the database, the emulator with the catalog's tables, the orders queue and the database
secret), its functions' environment and its warm containers.

All of it is `local/`'s own code (the runtime started without its HTTP server and poller), so a figure
measured here is one of the application as `python -m local` runs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from components.config import StackConfig
from local.account import ACCOUNT_ID, REGION
from local.containers import Containers, Handler
from local.emulator import Emulator
from local.events import LambdaContext
from local.postgres_server import PostgresServer
from local.runtime import CONFIG_STACK, Options, Resources, Runtime, application_role_password, function_environment, local_environment
from todo_app.catalog import FUNCTIONS, ORDERS_QUEUE, TABLES

from .core import FUNCTIONS_DIR

PREFIX = "bench"  # in the resource names: bench-todos, bench-orders, ...


def lambda_env(function: str, union: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    """A child interpreter's environment for `function`: `base` (this process's by default), the variables
    the function gets on Lambda (taken from the runtime's `union`), and `todo_app` found on the path at the
    archive's root, as Lambda finds it (before the editable install's finder)."""
    env = dict(base if base is not None else os.environ)
    env.update(function_environment(FUNCTIONS[function], union))
    env["PYTHONPATH"] = str(FUNCTIONS_DIR)
    return env


def placeholder_env(function: str) -> dict[str, str]:
    """Without servers: the same variables with values that reach nothing (module-level set-up must not connect)."""
    unreachable = "http://127.0.0.1:9"
    queue = f"{PREFIX}-orders"
    resources = Resources(
        tables={t.env: f"{PREFIX}-{t.key}" for t in TABLES.values()},
        queue_url=f"{unreachable}/{ACCOUNT_ID}/{queue}",
        queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}",
        dlq_url=f"{unreachable}/{ACCOUNT_ID}/{queue}-dlq",
        secret_arn=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{PREFIX}",
        topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{PREFIX}-alarms",
        dashboard_name=f"{PREFIX}-dashboard",
        visibility_timeout=ORDERS_QUEUE.visibility_timeout(FUNCTIONS["worker"].timeout),
    )
    config = StackConfig.from_files(CONFIG_STACK)
    union = local_environment(
        resources,
        db_host="127.0.0.1",
        db_port=9,
        emulator_url=unreachable,
        session_ttl_seconds=config.session_ttl_seconds,
        login_throttle=config.login_throttle,
    )
    return lambda_env(function, union)


@dataclass
class World:
    runtime: Runtime  # started without its HTTP server and poller
    postgres: PostgresServer
    emulator: Emulator
    resources: Resources
    environment: dict[str, str]  # the union of every function's variables, as the runtime sets them

    def function_env(self, function: str, base: dict[str, str] | None = None) -> dict[str, str]:
        """The variables the function gets on Lambda, pointed at the local servers, for a child interpreter."""
        return lambda_env(function, self.environment, base)

    def stop(self) -> None:
        self.runtime.stop()


def start_world() -> World:
    """The local runtime's servers and resources, named with the bench's prefix."""
    runtime = Runtime(Options(), log=lambda line: None, prefix=PREFIX)
    try:
        postgres, emulator, resources = runtime.start_servers()
        environment = runtime.function_environment(postgres, emulator, resources)
    except BaseException:
        runtime.stop()
        raise
    return World(runtime, postgres, emulator, resources, environment)


class InProcess:
    """The functions in this process, one warm container each (as the local runtime holds them), with the
    union environment set; `invoke` calls the handler directly, without the container's lock and checks."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._saved = dict(os.environ)
        os.environ.update(world.environment)
        config = world.runtime.config
        self.containers = Containers(PREFIX, lambda spec: config.function_memory_mb(spec.kind), log=lambda line: None)

    def handler(self, function: str) -> Handler:
        return self.containers[function].handler

    def context(self, function: str) -> LambdaContext:
        return self.containers[function].new_context()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.handler(function)(event, self.context(function))

    def migrate(self) -> Any:
        """Apply the migrations with the migration function, as the program does on deploy; the application
        role it creates then gets its local password, as the local runtime gives it."""
        result = self.invoke("migrate", {})
        application_role_password(self.world.postgres)
        return result

    def close(self) -> None:
        os.environ.clear()
        os.environ.update(self._saved)
