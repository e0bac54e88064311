"""The whole application on one machine: PostgreSQL, the AWS emulator, the functions, the HTTP API, the poller.

Start-up order, two branches in parallel: PostgreSQL -> the database, and the emulator -> the stack's
resources in it (catalog tables, orders queue and DLQ, the database secret, the alarm topic, a dashboard);
then the functions' environment -> the migrate function -> the HTTP server and the SQS poller -> outputs.json.
`stop()` undoes whatever was started, in reverse, and is safe to call after a failed or partial start.

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import psycopg

from todo_app.catalog import COMMON_ENV, DATABASE_NAME, OUTPUT_KEYS, common_environment, FUNCTIONS, ORDERS_QUEUE, TABLES

from . import snapshot
from .emulator import FAKE_CREDENTIALS, REGION, Emulator, create_queues, create_tables
from .gateway import Gateway, GatewayServer
from .lambdas import FunctionError, Functions
from .poller import Poller
from .postgres import SUPERUSER, PostgresServer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # components/ (the stack config), when run from another directory

from components.config import PROJECT, StackConfig  # noqa: E402

from .web import WebServer, serve_web_app  # noqa: E402  (web app hook; reads components/)

STACK = "local"
CONFIG_STACK = "staging"  # the stack whose configuration the local runtime mirrors
PREFIX = f"{PROJECT}-{STACK}"
DEFAULT_OUTPUTS = ROOT / ".local" / "outputs.json"
DEFAULT_FUNCTION_LOGS = ROOT / ".local" / "functions.log"
DASHBOARD_NAME = f"{PREFIX}-dashboard"
DB_USER, DB_PASSWORD = SUPERUSER, "postgres"  # the embedded server's superuser; the secret holds the same


def pid_alive(pid: int) -> bool:
    """Whether a process runs (a zombie has stopped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has stopped
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def sdk_environment(emulator_url: str) -> dict[str, str]:
    """boto3's settings: the emulator and fake credentials, never a real account."""
    return {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": emulator_url, "AWS_EC2_METADATA_DISABLED": "true"}


def local_environment(*, tables: dict[str, str], queue_url: str, postgres: PostgresServer, secret_arn: str,
                      emulator_url: str, session_ttl_seconds: int, log_level: str = "INFO") -> dict[str, str]:
    """Every catalog function's variables (their union: the values never conflict), pointed at the local
    servers, plus the SDK's."""
    values = {
        **tables,
        ORDERS_QUEUE.queue_url_env: queue_url,
        "DB_HOST": postgres.host,
        "DB_PORT": str(postgres.port),
        "DB_NAME": DATABASE_NAME,
        "DB_SECRET_ARN": secret_arn,
        "DB_SSLMODE": "disable",  # the embedded server has no TLS; RDS forces it on AWS
        **common_environment(session_ttl_seconds, log_level),
    }
    needed = set(COMMON_ENV).union(*(f.environment_keys for f in FUNCTIONS.values()))
    missing = needed - values.keys()
    if missing:
        raise RuntimeError(f"the local runtime has no value for {', '.join(sorted(missing))}")
    return {**{k: values[k] for k in sorted(needed)}, **sdk_environment(emulator_url)}


def default_visibility_timeout() -> int:
    return ORDERS_QUEUE.visibility_timeout_factor * FUNCTIONS["worker"].timeout


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path | None = None
    visibility_timeout: int | None = None  # None: the catalog's factor x the worker's timeout
    outputs: Path = DEFAULT_OUTPUTS
    log_level: str = "INFO"
    function_logs: Path | None = DEFAULT_FUNCTION_LOGS  # None: the functions print to the console
    web_port: int | None = None  # web app hook: None is the API port + 1 (a free port when --port is 0)


class Logger:
    """Whole lines, never interleaved, flushed at once (the e2e tests read them from a pipe)."""

    def __init__(self, stream=None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class Runtime:
    def __init__(self, options: Options, log: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.log = log or Logger()
        self.config = StackConfig.from_files(CONFIG_STACK)
        self.postgres: PostgresServer | None = None
        self.emulator: Emulator | None = None
        self.server: GatewayServer | None = None
        self.web: WebServer | None = None  # web app hook
        self.poller: Poller | None = None
        self.functions: Functions | None = None
        self.outputs: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self._postmaster_pid: int | None = None
        self._function_output = None
        self._saved_stdout = sys.stdout
        self.started_in: float | None = None

    # ----------------------------------------------------------------------------- start
    def start(self) -> "Runtime":
        """Start everything; on any failure (or KeyboardInterrupt) stop what was started and re-raise."""
        began = time.monotonic()
        try:
            resources = self._start_servers()
            self.environment = self._environment(resources)
            os.environ.update(self.environment)
            self._redirect_function_output()
            step = time.monotonic()
            self.functions = Functions(PREFIX, lambda spec: self.config.function_memory_mb(spec.kind), log=self.log)
            self._migrate()
            self.log(f"[local] migrations applied ({time.monotonic() - step:.2f}s)")
            self.server = GatewayServer(Gateway(self.functions, log=self.log), self.options.host, self.options.port, log=self.log)
            self.web = serve_web_app(self.server, self.config.cors_origins, host=self.options.host, api_port=self.options.port,  # web app hook
                                     web_port=self.options.web_port, log=self.log)
            self.poller = Poller(self._client("sqs"), resources["queue_url"], resources["queue_arn"], self.functions,
                                 batch_size=self.config.worker_batch_size, batch_window=self.config.worker_batch_window_seconds, log=self.log)
            self.server.start()
            self.poller.start()
            self.outputs = self._outputs(resources)
            self._write_outputs()
        except BaseException:
            self.log("[local] start-up failed; stopping what was started")
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        self.log(f"[local] outputs written to {self.options.outputs}")
        self.log(f"[local] ready in {self.started_in:.2f}s: API {self.server.url}  web app {self.web.url}  (Ctrl-C stops)")  # web app hook
        return self

    def _start_servers(self) -> dict[str, Any]:
        """Two branches in parallel: PostgreSQL then the database; the emulator then the stack's resources in it."""
        step = time.monotonic()
        with ThreadPoolExecutor(2, thread_name_prefix="start") as pool:
            branches = [pool.submit(self._start_postgres), pool.submit(self._start_emulator)]
            try:
                resources = branches[1].result()
                branches[0].result()
            finally:
                # on failure or interruption, let the other branch finish so that stop() stops what it started
                for branch in branches:
                    try:
                        branch.result()
                    except BaseException:
                        pass
        self.log(f"[local] ready after {time.monotonic() - step:.2f}s: PostgreSQL, database {DATABASE_NAME!r}, AWS emulator, "
                 f"{len(TABLES)} tables, orders queue + DLQ (visibility timeout {resources['visibility']} s), DB secret, alarm topic")
        return resources

    def _start_postgres(self) -> None:
        began = time.monotonic()
        self.postgres = PostgresServer.start(self.options.data_dir, password=DB_PASSWORD)
        self._postmaster_pid = self._read_postmaster_pid()
        self._create_database()
        where = f"data in {self.options.data_dir}" if self.options.data_dir else "temporary data"
        self.log(f"[local] PostgreSQL on {self.postgres.host}:{self.postgres.port} ({where}) ({time.monotonic() - began:.2f}s)")

    def _start_emulator(self) -> dict[str, Any]:
        began = time.monotonic()
        self.emulator = Emulator.start()
        resources = self._create_resources()
        self.log(f"[local] AWS emulator on {self.emulator.url} with the stack's resources ({time.monotonic() - began:.2f}s)")
        return resources

    def _read_postmaster_pid(self) -> int | None:
        try:
            return int((self.postgres.data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _create_database(self) -> None:
        with psycopg.connect(self.postgres.dsn, autocommit=True, connect_timeout=10) as connection:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone() is None:
                connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def _client(self, service: str):
        return self.emulator.client(service)

    def _create_resources(self) -> dict[str, Any]:
        tables = create_tables(self._client("dynamodb"), PREFIX)
        if self.options.data_dir:
            restored = snapshot.load(self._client("dynamodb"), PREFIX, self.options.data_dir)
            if restored:
                self.log(f"[local] restored {restored} DynamoDB items from {Path(self.options.data_dir) / snapshot.FILE}")
        sqs = self._client("sqs")
        visibility = self.options.visibility_timeout or default_visibility_timeout()
        queues = create_queues(sqs, PREFIX, visibility)
        queue_arn = sqs.get_queue_attributes(QueueUrl=queues["queue_url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        secret_arn = self._client("secretsmanager").create_secret(
            Name=f"{PREFIX}/users-db", SecretString=json.dumps({"username": DB_USER, "password": DB_PASSWORD})
        )["ARN"]
        topic_arn = self._client("sns").create_topic(Name=f"{PREFIX}-alarms")["TopicArn"]
        # moto keeps dashboards; an empty one gives dashboardName something real to name
        self._client("cloudwatch").put_dashboard(DashboardName=DASHBOARD_NAME, DashboardBody=json.dumps({"widgets": []}))
        return {"tables": tables, **queues, "queue_arn": queue_arn, "secret_arn": secret_arn, "topic_arn": topic_arn, "visibility": visibility}

    def _environment(self, resources: dict[str, Any]) -> dict[str, str]:
        """The union of every function's environment (see the module docstring), plus the SDK settings."""
        environment = local_environment(
            tables=resources["tables"],
            queue_url=resources["queue_url"],
            postgres=self.postgres,
            secret_arn=resources["secret_arn"],
            emulator_url=self.emulator.url,
            session_ttl_seconds=self.config.session_ttl_seconds,
            log_level=self.options.log_level,
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

    def _migrate(self) -> None:
        try:
            result = self.functions.invoke("migrate", {})
        except FunctionError as error:
            raise RuntimeError(f"the migrate function failed: {error}") from None
        if isinstance(result, dict) and isinstance(result.get("statusCode"), int) and result["statusCode"] >= 400:
            raise RuntimeError(f"the migrate function failed: {result}")
        self.log(f"[local] migrate: {json.dumps(result, default=str)[:300]}")

    def _outputs(self, resources: dict[str, Any]) -> dict[str, str]:
        tables = resources["tables"]
        outputs = {
            "apiUrl": self.server.url,
            "region": REGION,
            "stack": STACK,
            "usersDbEndpoint": self.postgres.host,
            "usersDbName": DATABASE_NAME,
            "usersDbSecretArn": resources["secret_arn"],
            "todosTableName": tables[TABLES["todos"].env],
            "sessionsTableName": tables[TABLES["sessions"].env],
            "ordersTableName": tables[TABLES["orders"].env],
            "ordersQueueUrl": resources["queue_url"],
            "ordersDlqUrl": resources["dlq_url"],
            "alarmTopicArn": resources["topic_arn"],
            "dashboardName": DASHBOARD_NAME,
            "webUrl": self.web.url,  # web app hook
        }
        assert tuple(outputs) == OUTPUT_KEYS  # the catalog's, as a deployed stack exports them
        return outputs

    def _write_outputs(self) -> None:
        path = Path(self.options.outputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.outputs, indent=2) + "\n")
        os.replace(temporary, path)  # readers never see half a file

    # ----------------------------------------------------------------------------- stop
    def stop(self) -> None:
        """Stop everything that was started, in reverse order; each step runs even if an earlier one fails."""
        steps: list[tuple[str, Callable[[], None]]] = []
        if self.server is not None:
            steps.append(("HTTP server", self.server.stop))
        if self.web is not None:  # web app hook
            steps.append(("web server", self.web.stop))
        if self.poller is not None:
            steps.append(("SQS poller", self.poller.stop))
        if self.outputs:
            steps.append(("outputs", self._remove_outputs))
        if self.emulator is not None and self.options.data_dir and self.outputs:
            steps.append(("DynamoDB snapshot", self._save_snapshot))
        if self.emulator is not None:
            steps.append(("AWS emulator", self.emulator.stop))
        if self.postgres is not None:
            steps.append(("PostgreSQL", self._stop_postgres))
        steps.append(("function log", self._restore_output))
        for name, step in steps:
            try:
                step()
            except Exception as error:
                self.log(f"[local] stopping the {name} failed: {error!r}")
        self.server = self.poller = self.emulator = self.postgres = None
        self.web = None  # web app hook
        if len(steps) > 1:
            self.log("[local] stopped")

    def _stop_postgres(self) -> None:
        """pg_ctl stop, then make sure: pg_ctl can fail (e.g. the data directory became unreadable to the
        server's system user) and leave the postmaster running, so it gets SIGINT (fast shutdown), then SIGKILL."""
        pid = self._postmaster_pid
        self.postgres.stop()
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

    def _save_snapshot(self) -> None:
        count = snapshot.save(self._client("dynamodb"), PREFIX, self.options.data_dir)
        self.log(f"[local] saved {count} DynamoDB items to {Path(self.options.data_dir) / snapshot.FILE}")
