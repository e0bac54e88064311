"""Versioned SQL migrations (`todo_app/migrations/NNNN_name.sql`, applied in order) and the application role.

One run is ONE transaction, under `pg_advisory_xact_lock` (concurrent runs, e.g. two deploys or the local
runtime and a test, wait for each other and apply each migration once):
1. `schema_migrations(version, name, checksum, applied_at)` is created if missing;
2. applied migrations are checked: one whose file changed (checksum) or disappeared is an error
   (migrations are append-only);
3. each pending file is split into statements (`split_statements`) and run statement by statement, with
   its version row;
4. the application role (DB_USER, catalog.APP_DB_USER) is maintained, idempotently: created LOGIN if
   missing, `rds_iam` granted (IAM authentication on Aurora; a NOLOGIN stand-in locally), CONNECT on the
   database, USAGE on schema public, SELECT/INSERT/UPDATE/DELETE on every application table (never on
   schema_migrations), default privileges for tables and sequences created later, sequences usage, and
   CREATE on schema public revoked from PUBLIC. The role gets no DDL, no TRUNCATE, no role management.
A failure anywhere rolls everything back: nothing half-applied, no version row without its schema.

Two executors behind one interface (`Executor`), so both paths run the same statements:
- `ConnectionExecutor`: a psycopg connection as the master user (locally, and in tests);
- `DataApiExecutor`: the RDS Data API (BeginTransaction / ExecuteStatement per statement /
  CommitTransaction, RollbackTransaction on failure), which needs no VPC and no connection. A paused
  cluster answers DatabaseResumingException: each call is retried for up to RESUME_WAIT_SECONDS. The
  client's read timeout exceeds the Data API's 45 s statement limit; continueAfterTimeout is never set
  (a timed-out statement would run on after the error).
Statements use `:name` parameters (the Data API's style); values are strings.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypedDict

import psycopg

from todo_app import catalog

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
LOCK_KEY = 7_451_002_001  # arbitrary, fixed: this application's migration lock
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
BOOKKEEPING_TABLE = "schema_migrations"

Row = tuple[Any, ...]


class MigrationError(Exception):
    pass


class MigrationRun(TypedDict):
    applied: list[str]  # the versions this run applied, in order
    current: str | None  # the latest applied version, None while nothing is


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        return split_statements(self.sql)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not understood: {path.name} (want NNNN_name.sql)")
        found.append(Migration(match.group(1), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version")
    return found


# --------------------------------------------------------------------------- the statement splitter

# Hand-written rather than a dependency (sqlparse would do): it is the one piece of SQL lexing we need
# (where a statement ends), PostgreSQL's rules for that are few and stable, and the Lambda archive stays
# as small as it is (its size and import time are benchmarked). It knows: '...' strings (with '' inside,
# and E'...' escapes), "..." identifiers, -- and (nested) /* */ comments, and $$ / $tag$ dollar quoting.
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(sql: str) -> list[str]:  # noqa: C901, PLR0912  # one scanner loop, a branch per lexical case: split, its position would be shared state
    """The statements of `sql`, each without its terminating `;`; empty and comment-only ones dropped."""
    statements: list[str] = []
    start, i, n = 0, 0, len(sql)
    meaningful = False  # the current statement has something besides whitespace and comments
    while i < n:
        c = sql[i]
        if c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if c == "/" and sql.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                raise MigrationError("unterminated /* comment")
            continue
        if c == ";":
            if meaningful:
                statements.append(sql[start:i].strip())
            start, i, meaningful = i + 1, i + 1, False
            continue
        if not c.isspace():
            meaningful = True
        if c == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            i = _end_of_quoted(sql, i, "'", backslash=escapes)
        elif c == '"':
            i = _end_of_quoted(sql, i, '"', backslash=False)
        elif c == "$" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1  # a positional parameter ($1) or a lone dollar
                continue
            close = sql.find(tag.group(0), tag.end())
            if close < 0:
                raise MigrationError(f"unterminated dollar-quoted string {tag.group(0)}")
            i = close + len(tag.group(0))
        else:
            i += 1
    if meaningful:
        statements.append(sql[start:].strip())
    return statements


def _end_of_quoted(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    """The index after the quoted text opening at `i` (a doubled quote stays inside; with `backslash`, so
    does an escaped one)."""
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if sql.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    raise MigrationError(f"unterminated {quote}-quoted text")


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    def transaction(self) -> AbstractContextManager[Any]:
        """Commits on a clean exit, rolls back on an exception."""
        ...

    def execute(self, sql: str, params: Mapping[str, str] | None = None) -> list[Row]:
        """Run one statement (`:name` parameters); the rows it returns, if any."""
        ...


class ConnectionExecutor:
    """Statements on a psycopg connection (autocommit; `transaction()` opens the one transaction)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def transaction(self) -> AbstractContextManager[Any]:
        return self.conn.transaction()

    def execute(self, sql: str, params: Mapping[str, str] | None = None) -> list[Row]:
        if params:
            cursor = self.conn.execute(_PARAM.sub(r"%(\1)s", sql).encode("utf-8"), dict(params))
        else:
            cursor = self.conn.execute(sql.encode("utf-8"))  # no parameters: a % in the SQL stays literal
        return list(cursor.fetchall()) if cursor.description else []


RESUME_WAIT_SECONDS = 60.0  # a paused Aurora cluster resumes in ~15 s, ~30 s after a long pause
RESUME_RETRY_INTERVAL = 5.0
DATA_API_READ_TIMEOUT = 70  # seconds; the Data API ends a call after 45 s


def data_api_client() -> Any:
    """An `rds-data` client whose read timeout outlasts the Data API's own limit, without automatic retries: a
    statement that failed after it ran (a 5xx, a dropped answer) must not run twice in the transaction (a data
    migration such as `SET n = n + 1` would apply twice). A failed call fails the run, which rolls back whole
    and can be run again; only DatabaseResumingException, which runs nothing, is retried (`_call`)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "rds-data",
        config=Config(connect_timeout=5, read_timeout=DATA_API_READ_TIMEOUT, retries={"mode": "standard", "total_max_attempts": 1}),
    )


class DataApiExecutor:
    """Statements through the RDS Data API, all in one Data API transaction."""

    def __init__(
        self,
        client: Any,
        *,
        resource_arn: str,
        secret_arn: str,
        database: str,
        resume_wait: float = RESUME_WAIT_SECONDS,
        retry_interval: float = RESUME_RETRY_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.target = {"resourceArn": resource_arn, "secretArn": secret_arn}
        self.database = database
        self.resume_wait, self.retry_interval = resume_wait, retry_interval
        self.sleep, self.clock = sleep, clock
        self.transaction_id: str | None = None
        self.resume_retries = 0

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """`operation`, retried while the cluster resumes (DatabaseResumingException) for up to resume_wait."""
        deadline = self.clock() + self.resume_wait
        while True:
            try:
                return getattr(self.client, operation)(**self.target, **kwargs)
            except self.client.exceptions.DatabaseResumingException:
                if self.clock() + self.retry_interval > deadline:
                    raise
                self.resume_retries += 1
                self.sleep(self.retry_interval)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.transaction_id = self._call("begin_transaction", database=self.database)["transactionId"]
        try:
            yield
        except BaseException as failure:
            try:
                self._call("rollback_transaction", transactionId=self.transaction_id)
            except Exception as rollback_failure:  # noqa: BLE001 - the run's own failure is the one to report
                # e.g. the Data API already ended the transaction (TransactionNotFoundException)
                failure.add_note(f"the rollback failed too: {rollback_failure!r}")
            finally:
                self.transaction_id = None
            raise
        self._call("commit_transaction", transactionId=self.transaction_id)
        self.transaction_id = None

    def execute(self, sql: str, params: Mapping[str, str] | None = None) -> list[Row]:
        kwargs: dict[str, Any] = {"sql": sql, "database": self.database}
        if self.transaction_id is not None:
            kwargs["transactionId"] = self.transaction_id
        if params:
            kwargs["parameters"] = [{"name": k, "value": {"stringValue": v}} for k, v in params.items()]
        answer = self._call("execute_statement", **kwargs)
        return [tuple(_field_value(f) for f in record) for record in answer.get("records", [])]


def _field_value(field: Mapping[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "booleanValue", "doubleValue", "blobValue"):
        if key in field:
            return field[key]
    raise MigrationError(f"a Data API value of a kind not handled: {sorted(field)}")


# --------------------------------------------------------------------------- the run


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _role(name: str) -> str:
    if not _ROLE_NAME.match(name):
        raise MigrationError(f"not a plain role name: {name!r}")
    return quote_identifier(name)


def migrate(
    target: Executor | psycopg.Connection, migrations: list[Migration] | None = None, *, app_user: str = catalog.APP_DB_USER
) -> MigrationRun:
    """Apply pending migrations and maintain the application role, in one transaction (see the module doc);
    returns {"applied": [versions], "current": version or None}."""
    executor: Executor = ConnectionExecutor(target) if isinstance(target, psycopg.Connection) else target
    migrations = discover() if migrations is None else migrations
    with executor.transaction():
        executor.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")  # released at the commit or rollback
        executor.execute(
            f"""CREATE TABLE IF NOT EXISTS {BOOKKEEPING_TABLE} (
                   version    text PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now()
               )"""
        )
        applied: dict[str, str] = {str(v): str(c) for v, c in executor.execute(f"SELECT version, checksum FROM {BOOKKEEPING_TABLE}")}
        known = {m.version: m for m in migrations}
        for version, checksum in sorted(applied.items()):
            if version not in known:
                raise MigrationError(f"migration {version} was applied but its file is missing")
            if known[version].checksum != checksum:
                raise MigrationError(f"migration {version} changed after it was applied (checksum mismatch)")
        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            for statement in migration.statements():
                executor.execute(statement)
            executor.execute(
                f"INSERT INTO {BOOKKEEPING_TABLE} (version, name, checksum) VALUES (:version, :name, :checksum)",
                {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
            )
            done.append(migration.version)
        for statement in role_statements(executor, app_user):
            executor.execute(statement)
    # under the lock, what was applied before and what this run applied are all there is
    return {"applied": done, "current": max([*applied, *done], default=None)}


def role_statements(executor: Executor, app_user: str) -> list[str]:
    """The statements that bring the application role to exactly its privileges (idempotent)."""
    role = _role(app_user)
    database = quote_identifier(str(executor.execute("SELECT current_database()")[0][0]))
    tables = [
        str(row[0])
        for row in executor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> :bookkeeping ORDER BY tablename",
            {"bookkeeping": BOOKKEEPING_TABLE},
        )
    ]
    statements = [
        # a DO block: CREATE ROLE has no IF NOT EXISTS (the name is checked above: a plain identifier)
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app_user}') THEN CREATE ROLE {role} LOGIN; END IF; END $$",
        f"ALTER ROLE {role} WITH LOGIN",  # created without CREATEDB, CREATEROLE, SUPERUSER (the defaults)
        f"GRANT rds_iam TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"REVOKE CREATE, TEMPORARY ON DATABASE {database} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        *(f"GRANT {APP_PRIVILEGES} ON TABLE public.{quote_identifier(t)} TO {role}" for t in tables),
        f"REVOKE ALL ON TABLE public.{BOOKKEEPING_TABLE} FROM {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {APP_PRIVILEGES} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return statements
