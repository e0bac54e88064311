"""PostgreSQL access with psycopg 3: one connection per warm container.

- Opened lazily on first use, never at import (DynamoDB-only routes keep working while PostgreSQL is
  down, and a cold start does not wait for the database).
- Settings (all required, read when a connection opens): DB_HOST, DB_PORT, DB_NAME, DB_SSLMODE
  (the stack sets `require`, the local runtime `disable`), DB_SECRET_ARN names a Secrets Manager secret {"username", "password"} (RDS-managed
  format). connect_timeout is short (3 s): a dead database answers 503 quickly.
- The secret is cached; a failed authentication (SQLSTATE 28P01, e.g. after a rotation) re-reads it
  and retries the connection once.
- A connection found broken when used is dropped; `run()` then retries the work once on a fresh
  connection if the connection had been reused (a stale connection from before a database restart
  or failover), so callers pass work that is safe to repeat. Otherwise the error becomes
  `DependencyUnavailable("postgres")` → 503.
- Autocommit; transactions are explicit (`with conn.transaction()`). Queries are parameterised.
- Under SnapStart the connection is closed and the secret forgotten before the snapshot
  (`todo_app.snapstart`); both come back lazily after a restore.
- prepare_threshold=None: no server-side prepared statements, which keeps the connection usable
  through RDS Proxy without pinning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TypeVar

import psycopg

from todo_app import aws, settings, snapstart
from todo_app.aws import DependencyUnavailable

T = TypeVar("T")

CONNECT_TIMEOUT = 3
SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})  # libpq's
_conn: psycopg.Connection | None = None
_credentials: dict[str, str] | None = None


def reset() -> None:
    """Close the connection and forget the cached secret (before a SnapStart snapshot; tests; a new database)."""
    global _credentials
    reset_connection()
    _credentials = None


snapstart.forget_before_snapshot("the PostgreSQL connection and the database secret", reset)


def _read_secret() -> dict[str, str]:
    secrets = aws.client("secretsmanager")
    try:
        value = secrets.get_secret_value(SecretId=settings.text("DB_SECRET_ARN"))
    except aws.errors() as exc:
        if not aws.is_unavailable(exc):
            raise  # e.g. access denied: a fault of the deployment, not an outage
        raise DependencyUnavailable("postgres", "the database credentials could not be read") from exc
    secret = json.loads(value["SecretString"])
    return {"username": secret["username"], "password": secret["password"]}


def _auth_failed(exc: psycopg.OperationalError) -> bool:
    return getattr(exc, "sqlstate", None) == "28P01" or "password authentication failed" in str(exc)


def _open(credentials: dict[str, str]) -> psycopg.Connection:
    return psycopg.connect(
        host=settings.text("DB_HOST"),
        port=settings.integer("DB_PORT", minimum=1, maximum=65535),
        dbname=settings.text("DB_NAME"),
        sslmode=settings.choice("DB_SSLMODE", SSL_MODES),
        user=credentials["username"],
        password=credentials["password"],
        connect_timeout=CONNECT_TIMEOUT,
        # only a label in pg_stat_activity: Lambda sets the variable, elsewhere any name will do
        application_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "todo-platform"),
        autocommit=True,
        prepare_threshold=None,
    )


def _connect() -> psycopg.Connection:
    global _credentials
    if _credentials is None:
        _credentials = _read_secret()
    try:
        return _open(_credentials)
    except psycopg.OperationalError as exc:
        if not _auth_failed(exc):
            raise DependencyUnavailable("postgres", "the database is unreachable") from exc
    # the password changed (rotation): read the secret again and try once more
    _credentials = _read_secret()
    try:
        return _open(_credentials)
    except psycopg.OperationalError as exc:
        raise DependencyUnavailable("postgres", "the database refused the credentials") from exc


def connection() -> tuple[psycopg.Connection, bool]:
    """The container's connection and whether it was just opened."""
    global _conn
    if _conn is not None and not _conn.closed:  # a broken connection is closed too (psycopg)
        return _conn, False
    if _conn is not None:
        reset_connection()
    _conn = _connect()
    return _conn, True


def reset_connection() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        except psycopg.Error:
            pass  # closing a dead connection may fail; there is nothing left to keep
    _conn = None


def run(work: Callable[[psycopg.Connection], T]) -> T:
    """Run `work(conn)`; a broken connection becomes a retry (once, if reused) or a 503."""
    conn, fresh = connection()
    try:
        return work(conn)
    except psycopg.OperationalError as exc:
        if not (conn.broken or conn.closed):
            raise DependencyUnavailable("postgres", "the database failed the request") from exc
        reset_connection()
        if fresh:
            raise DependencyUnavailable("postgres", "the database connection was lost") from exc
    conn, _ = connection()
    try:
        return work(conn)
    except psycopg.OperationalError as exc:
        if conn.broken or conn.closed:
            reset_connection()
        raise DependencyUnavailable("postgres", "the database connection was lost") from exc
