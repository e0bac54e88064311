"""The whole application on one machine: PostgreSQL, the AWS emulator, the functions, the HTTP API, the poller.

Start-up order, two branches in parallel: PostgreSQL -> its roles and the database (local/postgres_server.py's
bootstrap: the migrator role owning the database, an `rds_iam` stand-in), and the emulator -> the stack's
resources in it (catalog tables, orders queue and DLQ, the master secret with the migrator's credentials, the
alarm topic, a dashboard); then (with --pause-database-after) the pausing proxy in front of PostgreSQL
(local/pause.py) -> the functions' environment -> the migrate function (DB_ADMIN_ACCESS `connection`, as the
migrator; it creates the application role) -> the application role's local password -> the HTTP server and
the SQS poller -> outputs.json. `stop()` undoes whatever was started, in reverse, and is safe to call after a
failed or partial start.

Database access as on AWS, except for IAM: the serving functions connect as catalog.APP_DB_USER (DML only)
with DB_AUTH `password` and DB_PASSWORD (on AWS: an IAM token), with the staging stack's derived settings
(connect timeout, idle timeout, `last-known` health: staging's database pauses); only the migrate function
reads the master secret.

Environment decision: every function runs in this one process and shares `os.environ`. On AWS each
function receives only its catalog `environment_keys` plus `COMMON_ENV`; those values never conflict
(a table's name is the same for every function that uses it), so the runtime sets the UNION of all
functions' variables once, before any handler is imported. A function can therefore see variables it
would not have on AWS; the infra tests check each function's exact environment on the AWS side.
The AWS SDK reaches the emulator through the standard AWS_ENDPOINT_URL with fake credentials; the
function code has no local-only branch.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from components.config import PROJECT, ROOT, StackConfig, stack_values
from todo_app.catalog import (
    APP_DB_USER,
    COMMON_ENV,
    DATABASE_NAME,
    FUNCTIONS,
    MIGRATOR_DB_USER,
    ORDERS_QUEUE,
    TABLES,
    DatabaseHealth,
    FunctionSpec,
    LoginThrottle,
    StackOutputs,
    admin_database_environment,
    common_environment,
    database_environment,
)

from . import snapshot
from .account import ACCOUNT_ID, REGION, sdk_environment
from .containers import DEFAULT_CONCURRENCY, Containers, FunctionError
from .emulator import Emulator, create_database_secret, create_queues, create_tables, verify_sender
from .gateway import Gateway, GatewayServer
from .pause import PausingProxy
from .poller import Poller
from .postgres_server import PostgresServer, bootstrap_roles, set_password
from .stream_poller import StreamPoller
from .system import pid_alive
from .web_server import WebServer, serve_web_app

STACK = "local"
CONFIG_STACK = "staging"  # the stack whose configuration the local runtime mirrors
PREFIX = f"{PROJECT}-{STACK}"
DEFAULT_OUTPUTS = ROOT / ".local" / "outputs.json"
DEFAULT_FUNCTION_LOGS = ROOT / ".local" / "functions.log"
SUPERUSER_PASSWORD = "postgres"  # the embedded server's superuser: the bootstrap's, never a function's
MIGRATOR_PASSWORD = "todo-admin-local"  # the master secret holds the migrator's credentials (RDS-managed on AWS)
APP_DB_PASSWORD = "todo-app-local"  # the application role's local password (an IAM token on AWS)
CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:{PROJECT}-{STACK}"  # names nothing here: no Data API locally


@dataclass(frozen=True)
class Resources:
    """The stack's resources in the emulator: what the functions' environment and the outputs name."""

    tables: dict[str, str]  # a catalog table's env variable -> its name
    queue_url: str
    queue_arn: str
    dlq_url: str
    secret_arn: str  # the master secret: the migrator's credentials
    topic_arn: str  # the alarm topic
    dashboard_name: str
    visibility_timeout: int  # the orders queue's, in seconds


def create_resources(emulator: Emulator, prefix: str, visibility_timeout: int) -> Resources:
    """The catalog's tables, the orders queue and its DLQ, the master secret (the migrator's credentials),
    the alarm topic and an (empty) dashboard, as the stack creates them, with `prefix` in their names."""
    tables = create_tables(emulator.client("dynamodb"), prefix)
    queues = create_queues(emulator.client("sqs"), prefix, visibility_timeout)
    secret_arn = create_database_secret(emulator.client("secretsmanager"), f"{prefix}/users-db", MIGRATOR_DB_USER, MIGRATOR_PASSWORD)
    topic_arn = emulator.client("sns").create_topic(Name=f"{prefix}-alarms")["TopicArn"]
    # moto keeps dashboards; an empty one gives dashboardName something real to name
    dashboard_name = f"{prefix}-dashboard"
    emulator.client("cloudwatch").put_dashboard(DashboardName=dashboard_name, DashboardBody=json.dumps({"widgets": []}))
    return Resources(
        tables=tables,
        queue_url=queues["queue_url"],
        queue_arn=queues["queue_arn"],
        dlq_url=queues["dlq_url"],
        secret_arn=secret_arn,
        topic_arn=topic_arn,
        dashboard_name=dashboard_name,
        visibility_timeout=visibility_timeout,
    )


def local_environment(
    resources: Resources,
    *,
    db_host: str,
    db_port: int,
    emulator_url: str,
    session_ttl_seconds: int,
    login_throttle: LoginThrottle,
    log_level: str = "INFO",
    db_connect_timeout: int = 5,
    db_idle_timeout: int = 0,
    db_health: DatabaseHealth = "connect",
    mail_from: str = "",
    web_url: str = "",
) -> dict[str, str]:
    """Every catalog function's variables (their union: the values never conflict), pointed at the local
    servers, plus the SDK's. The serving functions log in as the application role with its local password
    (LOCAL_ONLY_ENV: there is no IAM here); the migrate function reads the master secret and connects."""
    values = {
        **resources.tables,
        ORDERS_QUEUE.queue_url_env: resources.queue_url,
        # the embedded server has no TLS; Aurora forces it on AWS (rds.force_ssl)
        **database_environment(
            host=db_host,
            port=db_port,
            sslmode="disable",
            auth="password",
            connect_timeout=db_connect_timeout,
            idle_timeout=db_idle_timeout,
            health=db_health,
        ),
        **admin_database_environment(access="connection", secret_arn=resources.secret_arn, cluster_arn=CLUSTER_ARN),
        **common_environment(session_ttl_seconds, log_level, login_throttle=login_throttle),
        # the mailer's: the stack's sender (verified in the emulator's SES first) and the web app's origin
        "MAIL_FROM": mail_from,
        "WEB_URL": web_url,
    }
    needed = set(COMMON_ENV).union(*(f.environment_keys for f in FUNCTIONS.values()))
    missing = needed - values.keys()
    if missing:
        raise RuntimeError(f"the local runtime has no value for {', '.join(sorted(missing))}")
    return {**{k: values[k] for k in sorted(needed)}, **LOCAL_ONLY_ENV, **sdk_environment(emulator_url)}


# What only the local runtime sets: the application role's password stands in for IAM authentication.
LOCAL_ONLY_ENV = {"DB_PASSWORD": APP_DB_PASSWORD}


def application_role_password(postgres: PostgresServer) -> None:
    """After the migrate function created the application role: its local password (there is no IAM here)."""
    set_password(postgres, APP_DB_USER, APP_DB_PASSWORD)


def function_environment(spec: FunctionSpec, union: dict[str, str]) -> dict[str, str]:
    """What `spec` alone receives on AWS (its catalog keys and COMMON_ENV), taken from `local_environment`'s
    union, with the SDK's settings (and, for a function that connects as the application role, its password)."""
    sdk = sdk_environment("")
    local = set(LOCAL_ONLY_ENV) if spec.database else set()
    return {k: v for k, v in union.items() if k in spec.environment_keys or k in COMMON_ENV or k in sdk or k in local}


def default_visibility_timeout() -> int:
    return ORDERS_QUEUE.visibility_timeout(FUNCTIONS["worker"].timeout)


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path | None = None
    visibility_timeout: int | None = None  # None: the catalog's factor x the worker's timeout
    outputs: Path = DEFAULT_OUTPUTS
    log_level: str = "INFO"
    function_logs: Path | None = DEFAULT_FUNCTION_LOGS  # None: the functions print to the console
    snapstart: bool = False  # run each function's SnapStart hooks: before-snapshot after init, after-restore before its first request
    web_port: int | None = None  # the web app's port; None: the API port + 1 (a free port when the API's is 0)
    pause_database_after: float | None = None  # seconds without connections before PostgreSQL pauses; None: never
    resume_seconds: float = 0.0  # how long a connection to a paused database is held while it resumes
    concurrency: int = DEFAULT_CONCURRENCY  # execution environments per function, capped by its reserved concurrency
    config_overrides: dict[str, Any] = field(default_factory=dict)  # stack config keys set for this run over staging's


class Logger:
    """Whole lines, never interleaved, flushed at once (the e2e tests read them from a pipe)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class Runtime:
    """The parts are None until started (and again after `stop()`)."""

    def __init__(self, options: Options, log: Callable[[str], None] | None = None, *, prefix: str = PREFIX) -> None:
        self.options = options
        self.log = log or Logger()
        self.prefix = prefix  # in every resource name, as the stack's prefix is
        # staging's config (ConfigError names a bad override's key)
        self.config = StackConfig.parse({**stack_values(CONFIG_STACK), **options.config_overrides})
        self.postgres: PostgresServer | None = None
        self.proxy: PausingProxy | None = None  # with --pause-database-after: in front of PostgreSQL
        self.emulator: Emulator | None = None
        self.resources: Resources | None = None
        self.server: GatewayServer | None = None
        self.web: WebServer | None = None
        self.poller: Poller | None = None
        self.stream_poller: StreamPoller | None = None
        self.containers: Containers | None = None
        self.outputs: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self._postmaster_pid: int | None = None
        self._function_output: TextIO | None = None
        self._saved_stdout: TextIO = sys.stdout
        self.started_in: float | None = None

    # ----------------------------------------------------------------------------- start
    def start(self) -> Runtime:
        """Start everything; on any failure (or KeyboardInterrupt) stop what was started and re-raise."""
        began = time.monotonic()
        try:
            postgres, emulator, resources = self.start_servers()
            if self.options.pause_database_after is not None:
                self.proxy = self._start_proxy(postgres, self.options.pause_database_after, self.options.resume_seconds)
            self.environment = self.function_environment(postgres, emulator, resources)
            os.environ.update(self.environment)
            self._redirect_function_output()
            step = time.monotonic()
            containers = self.containers = Containers(
                self.prefix,
                lambda spec: self.config.function_memory_mb(spec.kind),
                log=self.log,
                snapstart=self.options.snapstart,
                concurrency=self.options.concurrency,
                limits=self.config.reserved_concurrency,
            )
            self._migrate(containers)
            application_role_password(postgres)
            self.log(f"[local] migrations applied; {APP_DB_USER} logs in with its local password ({time.monotonic() - step:.2f}s)")
            server = self.server = GatewayServer(Gateway(containers, log=self.log), self.options.host, self.options.port, log=self.log)
            web = self.web = serve_web_app(
                server,
                self.config.cors_origins,
                host=self.options.host,
                api_port=self.options.port,
                web_port=self.options.web_port,
                log=self.log,
            )
            poller, stream_poller = self.poller, self.stream_poller = self._pollers(emulator, resources, containers, web.url)
            server.start()
            poller.start()
            stream_poller.start()
            self.outputs = self._outputs(server, web, postgres, resources)
            self._write_outputs()
        except BaseException:
            self.log("[local] start-up failed; stopping what was started")
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        self.log(f"[local] outputs written to {self.options.outputs}")
        self.log(f"[local] ready in {self.started_in:.2f}s: API {server.url}  web app {web.url}  (Ctrl-C stops)")
        return self

    def _pollers(self, emulator: Emulator, resources: Resources, containers: Containers, web_url: str) -> tuple[Poller, StreamPoller]:
        """The orders queue's event source mapping (the worker) and the reset outbox's stream (the mailer)."""
        poller = Poller(
            emulator.client("sqs"),
            resources.queue_url,
            resources.queue_arn,
            containers,
            batch_size=self.config.worker_batch_size,
            batch_window=self.config.worker_batch_window_seconds,
            log=self.log,
        )
        # the reset link's origin, as the stack's WEB_URL is the site's
        self.environment["WEB_URL"] = os.environ["WEB_URL"] = web_url
        stream_poller = StreamPoller(
            emulator.client("dynamodb"),
            emulator.client("dynamodbstreams"),
            self.prefix,
            "resetOutbox",
            containers,
            emulator_url=emulator.url,
            outbox_dir=self.options.outputs.parent / "outbox",
            log=self.log,
        )
        return poller, stream_poller

    def start_servers(self) -> tuple[PostgresServer, Emulator, Resources]:
        """PostgreSQL and the emulator with the stack's resources, without the functions: two branches in
        parallel, PostgreSQL then the database, the emulator then the resources in it. Each part is kept on
        the runtime as soon as it runs, so that `stop()` stops it even when the other branch failed."""
        step = time.monotonic()
        with ThreadPoolExecutor(2, thread_name_prefix="start") as pool:
            postgres_branch = pool.submit(self._start_postgres)
            emulator_branch = pool.submit(self._start_emulator)
            branches: list[Future[Any]] = [postgres_branch, emulator_branch]
            try:
                emulator, resources = emulator_branch.result()
                postgres = postgres_branch.result()
            finally:
                # on a failure or an interruption, let the other branch finish too: stop() then sees all it started
                wait_for(branches)
        self.log(
            f"[local] ready after {time.monotonic() - step:.2f}s: PostgreSQL, database {DATABASE_NAME!r}, AWS emulator, "
            f"{len(TABLES)} tables, orders queue + DLQ (visibility timeout {resources.visibility_timeout} s), DB secret, alarm topic"
        )
        return postgres, emulator, resources

    def _start_postgres(self) -> PostgresServer:
        began = time.monotonic()
        postgres = self.postgres = PostgresServer.start(self.options.data_dir, password=SUPERUSER_PASSWORD)
        self._postmaster_pid = postgres.postmaster_pid()
        bootstrap_roles(postgres, database=DATABASE_NAME, migrator=MIGRATOR_DB_USER, migrator_password=MIGRATOR_PASSWORD)
        where = f"data in {self.options.data_dir}" if self.options.data_dir else "temporary data"
        self.log(f"[local] PostgreSQL on {postgres.host}:{postgres.port} ({where}) ({time.monotonic() - began:.2f}s)")
        return postgres

    def _start_emulator(self) -> tuple[Emulator, Resources]:
        began = time.monotonic()
        emulator = self.emulator = Emulator.start()
        visibility = self.options.visibility_timeout
        resources = self.resources = create_resources(
            emulator, self.prefix, default_visibility_timeout() if visibility is None else visibility
        )
        # what the operator does outside the program on AWS: moto's SES refuses an unverified sender
        verify_sender(emulator.client("ses"), self.config.mail_from)
        if self.options.data_dir:
            restored = snapshot.load(emulator.client("dynamodb"), self.prefix, self.options.data_dir)
            if restored:
                self.log(f"[local] restored {restored} DynamoDB items from {self.options.data_dir / snapshot.FILE}")
        self.log(f"[local] AWS emulator on {emulator.url} with the stack's resources ({time.monotonic() - began:.2f}s)")
        return emulator, resources

    def _start_proxy(self, postgres: PostgresServer, pause_after: float, resume_seconds: float) -> PausingProxy:
        def resumed() -> None:
            self._postmaster_pid = postgres.postmaster_pid()  # a new postmaster: the one stop() must end

        proxy = PausingProxy(postgres, pause_after=pause_after, resume_seconds=resume_seconds, log=self.log, on_resume=resumed).start()
        self.log(
            f"[local] database pauses after {pause_after:g}s without connections, resumes in {resume_seconds:g}s: "
            f"the functions connect through {proxy.host}:{proxy.port}"
        )
        return proxy

    def database_settings(self) -> tuple[int, int, DatabaseHealth]:
        """The functions' connect timeout, idle timeout and health mode: the staging stack's (its database
        pauses), with the idle timeout at most the emulated pause period, so that warm containers let it pause."""
        config = self.config
        idle = config.db_idle_timeout_seconds
        pause_after = self.options.pause_database_after
        if pause_after is not None:
            idle = min(idle, max(1, int(pause_after))) if idle else max(1, int(pause_after))
        return config.db_connect_timeout_seconds, idle, "last-known" if config.db_health == "last-known" else "connect"

    def function_environment(self, postgres: PostgresServer, emulator: Emulator, resources: Resources) -> dict[str, str]:
        """The union of every function's environment (see the module docstring), plus the SDK settings; the
        settings that could send the SDK to a real account are taken out of this process's environment."""
        connect_timeout, idle_timeout, health = self.database_settings()
        environment = local_environment(
            resources,
            db_host=self.proxy.host if self.proxy else postgres.host,
            db_port=self.proxy.port if self.proxy else postgres.port,
            db_connect_timeout=connect_timeout,
            db_idle_timeout=idle_timeout,
            db_health=health,
            emulator_url=emulator.url,
            session_ttl_seconds=self.config.session_ttl_seconds,
            login_throttle=self.config.login_throttle,
            log_level=self.options.log_level,
            mail_from=self.config.mail_from,
            web_url="",  # set once the web app listens (before the stream poller starts: the mailer reads it when it sends)
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            os.environ.pop(name, None)
        return environment

    def _redirect_function_output(self) -> None:
        """The functions' own output (Powertools JSON logs, EMF metric lines: CloudWatch Logs on AWS) goes to a
        file, so that the console keeps one line per request; the runtime's lines keep the real stdout."""
        if self.options.function_logs is None:
            return
        path = Path(self.options.function_logs)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._function_output = open(path, "a", buffering=1, encoding="utf-8")
        self._saved_stdout, sys.stdout = sys.stdout, self._function_output
        self.log(f"[local] function logs (Powertools JSON, EMF metrics) go to {path}")

    def _restore_output(self) -> None:
        if self._function_output is not None:
            sys.stdout = self._saved_stdout
            self._function_output.close()
            self._function_output = None

    def _migrate(self, containers: Containers) -> None:
        try:
            result = containers.invoke("migrate", {})
        except FunctionError as error:
            raise RuntimeError(f"the migrate function failed: {error}") from None
        if isinstance(result, dict) and isinstance(result.get("statusCode"), int) and result["statusCode"] >= 400:
            raise RuntimeError(f"the migrate function failed: {result}")
        self.log(f"[local] migrate: {json.dumps(result, default=str)[:300]}")

    def _outputs(self, server: GatewayServer, web: WebServer, postgres: PostgresServer, resources: Resources) -> dict[str, str]:
        return StackOutputs(
            api_url=server.url,
            region=REGION,
            stack=STACK,
            users_db_endpoint=postgres.host,
            users_db_name=DATABASE_NAME,
            users_db_secret_arn=resources.secret_arn,
            todos_table_name=resources.tables[TABLES["todos"].env],
            sessions_table_name=resources.tables[TABLES["sessions"].env],
            orders_table_name=resources.tables[TABLES["orders"].env],
            orders_queue_url=resources.queue_url,
            orders_dlq_url=resources.dlq_url,
            alarm_topic_arn=resources.topic_arn,
            dashboard_name=resources.dashboard_name,
            web_url=web.url,
            users_db_user=APP_DB_USER,
        ).as_dict()

    def _write_outputs(self) -> None:
        path = Path(self.options.outputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.outputs, indent=2) + "\n")
        os.replace(temporary, path)  # readers never see half a file

    # ----------------------------------------------------------------------------- stop
    def stop(self) -> None:
        """Stop everything that was started, in reverse order; each step runs even if an earlier one fails."""
        steps = self._stop_steps()
        for name, step in steps:
            try:
                step()
            except Exception as error:  # noqa: BLE001 - the clean-up's boundary: every later step still runs
                self.log(f"[local] stopping the {name} failed: {error!r}")
        self.stream_poller = None
        self.server = self.poller = self.emulator = self.postgres = self.containers = self.resources = None
        self.proxy = None
        self.web = None
        if len(steps) > 1:
            self.log("[local] stopped")

    def _stop_steps(self) -> list[tuple[str, Callable[[], None]]]:
        """What `stop()` undoes, in reverse order of starting: only the parts that were started."""
        servers = (
            ("HTTP server", self.server),
            ("web server", self.web),
            ("stream poller", self.stream_poller),
            ("SQS poller", self.poller),
        )
        steps: list[tuple[str, Callable[[], None]]] = [(name, part.stop) for name, part in servers if part is not None]
        if self.outputs:
            steps.append(("outputs", self._remove_outputs))
        if self.emulator is not None and self.options.data_dir and self.outputs:
            steps.append(("DynamoDB snapshot", partial(self._save_snapshot, self.emulator, self.options.data_dir)))
        if self.emulator is not None:
            steps.append(("AWS emulator", self.emulator.stop))
        if self.proxy is not None:
            steps.append(("database proxy", self.proxy.stop))
        if self.postgres is not None:
            steps.append(("PostgreSQL", partial(self._stop_postgres, self.postgres)))
        steps.append(("function log", self._restore_output))
        return steps

    def _stop_postgres(self, postgres: PostgresServer) -> None:
        """pg_ctl stop, then make sure: pg_ctl can fail (e.g. the data directory became unreadable to the
        server's system user) and leave the postmaster running, so it gets SIGINT (fast shutdown), then SIGKILL."""
        pid = self._postmaster_pid
        postgres.stop()
        if pid is None or not pid_alive(pid):
            return
        self.log(f"[local] pg_ctl stop left PostgreSQL (pid {pid}) running; sending SIGINT")
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 15
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)

    def _remove_outputs(self) -> None:
        # the file describes a running system; a stopped one leaves none behind
        Path(self.options.outputs).unlink(missing_ok=True)

    def _save_snapshot(self, emulator: Emulator, data_dir: Path) -> None:
        count = snapshot.save(emulator.client("dynamodb"), self.prefix, data_dir)
        self.log(f"[local] saved {count} DynamoDB items to {data_dir / snapshot.FILE}")
