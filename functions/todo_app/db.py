"""PostgreSQL access with psycopg 3 as the application role: one connection per warm container.

- Opened lazily on first use, never at import (DynamoDB-only routes keep working while PostgreSQL is
  down or paused, and a cold start does not wait for the database).
- Settings (all required, read when a connection opens; see catalog.database_environment): DB_HOST,
  DB_PORT, DB_NAME, DB_USER (the application role), DB_SSLMODE, DB_CONNECT_TIMEOUT (seconds: where the
  database pauses it covers a resume), DB_IDLE_TIMEOUT (seconds, 0 = never) and DB_AUTH:
  - `iam`: an IAM database authentication token from boto3's `generate_db_auth_token`, signed locally (no
    network call, no Secrets Manager). A token lives 15 minutes; it is cached for TOKEN_REUSE_SECONDS and is
    needed only when a connection opens (an open connection outlives its token). A refused token (e.g. the
    clock or the role's credentials changed) is re-signed once.
  - `password`: DB_PASSWORD (only the local runtime and the tests set it: there is no IAM there).
- DB_IDLE_TIMEOUT > 0 (a database that pauses, which it does only without connections): the session gets
  `idle_session_timeout`, so the server closes a warm but idle container's connection, and a connection
  idle that long is closed and reopened here before use, so no query meets the closed one.
- A connection found broken when used is dropped; `run()` then retries the work once on a fresh
  connection if the connection had been reused (a stale connection from before a database restart,
  failover or idle timeout), so callers pass work that is safe to repeat. Otherwise the error becomes
  `DependencyUnavailable("postgres")` → 503.
- Each new connection's outcome ("ok" / "unavailable") is recorded in the status table
  (`todo_app.dependency_status`), which GET /health reads where the database pauses.
- Autocommit; transactions are explicit (`with conn.transaction()`). Queries are parameterised.
- Under SnapStart the connection is closed and the token forgotten before the snapshot
  (`todo_app.snapstart`); both come back lazily after a restore.
- prepare_threshold=None: no server-side prepared statements (safe behind any connection pooler).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg

from todo_app import aws, dependency_status, settings, snapstart
from todo_app.aws import DependencyUnavailable
from todo_app.telemetry import logger

T = TypeVar("T")

AUTH_MODES = frozenset({"iam", "password"})
SSL_MODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})  # libpq's
TOKEN_REUSE_SECONDS = 600  # an IAM token is valid for 15 minutes; a fresh one 5 minutes before that
IDLE_MARGIN_SECONDS = 1.0  # reopen a connection this much before the server's idle_session_timeout would close it
_AUTH_SQLSTATES = frozenset({"28P01", "28000"})  # invalid password; invalid authorization (PAM, as IAM tokens use)

_conn: psycopg.Connection | None = None
_last_used = 0.0  # time.monotonic() of the connection's last use
_token: tuple[str, float] | None = None  # (IAM token, time.monotonic() when it was signed)


def reset() -> None:
    """Close the connection and forget the cached token (before a SnapStart snapshot; tests; a new database)."""
    global _token
    reset_connection()
    _token = None


snapstart.forget_before_snapshot("the PostgreSQL connection and the database token", reset)


def _auth() -> str:
    return settings.choice("DB_AUTH", AUTH_MODES)


def iam_token(*, fresh: bool = False) -> str:
    """The IAM token a connection opens with under DB_AUTH `iam`: for DB_USER@DB_HOST:DB_PORT, signed
    locally with the function's credentials, cached for TOKEN_REUSE_SECONDS unless `fresh` (see module doc)."""
    global _token
    if _token is not None and not fresh and time.monotonic() - _token[1] < TOKEN_REUSE_SECONDS:
        return _token[0]
    try:
        token: str = aws.client("rds").generate_db_auth_token(
            DBHostname=settings.text("DB_HOST"),
            Port=settings.integer("DB_PORT", minimum=1, maximum=65535),
            DBUsername=settings.text("DB_USER"),
            Region=settings.text("AWS_REGION"),
        )
    except aws.errors() as exc:  # e.g. no credentials: signing is local, so nothing else can fail here
        raise DependencyUnavailable("postgres", "no database token could be signed") from exc
    _token = (token, time.monotonic())
    return token


def _password(*, fresh: bool = False) -> str:
    return iam_token(fresh=fresh) if _auth() == "iam" else settings.text("DB_PASSWORD")


def _auth_failed(exc: psycopg.OperationalError) -> bool:
    return getattr(exc, "sqlstate", None) in _AUTH_SQLSTATES or "authentication failed" in str(exc)


def idle_timeout() -> int:
    """DB_IDLE_TIMEOUT in seconds (0: connections are kept however long they idle)."""
    return settings.integer("DB_IDLE_TIMEOUT", minimum=0)


def _open(password: str) -> psycopg.Connection:
    idle = idle_timeout()
    return psycopg.connect(
        host=settings.text("DB_HOST"),
        port=settings.integer("DB_PORT", minimum=1, maximum=65535),
        dbname=settings.text("DB_NAME"),
        user=settings.text("DB_USER"),
        sslmode=settings.choice("DB_SSLMODE", SSL_MODES),
        password=password,
        connect_timeout=settings.integer("DB_CONNECT_TIMEOUT", minimum=1),
        # the server closes the session once it idles this long, so that an idle container lets the database pause
        options=f"-c idle_session_timeout={idle * 1000}" if idle else None,
        # only a label in pg_stat_activity: Lambda sets the variable, elsewhere any name will do
        application_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "todo-platform"),
        autocommit=True,
        prepare_threshold=None,
    )


def _connect() -> psycopg.Connection:
    """A new connection, its outcome recorded in the status table."""
    try:
        conn = _connect_once()
    except DependencyUnavailable:
        dependency_status.record("unavailable")
        raise
    dependency_status.record("ok")
    return conn


def _connect_once() -> psycopg.Connection:
    try:
        return _open(_password())
    except psycopg.OperationalError as exc:
        if not _auth_failed(exc):
            raise DependencyUnavailable("postgres", "the database is unreachable") from exc
        if _auth() != "iam":
            raise DependencyUnavailable("postgres", "the database refused the credentials") from exc
    # the token was refused (e.g. signed with credentials that expired since): sign a fresh one, once
    logger.info("the database refused the IAM token; signing a fresh one")
    try:
        return _open(_password(fresh=True))
    except psycopg.OperationalError as exc:
        raise DependencyUnavailable("postgres", "the database refused the credentials") from exc


def connection() -> tuple[psycopg.Connection, bool]:
    """The container's connection and whether it was just opened."""
    global _conn, _last_used
    now = time.monotonic()
    if _conn is not None and not _conn.closed:  # a broken connection is closed too (psycopg)
        idle = idle_timeout()
        if not idle or now - _last_used < max(idle - IDLE_MARGIN_SECONDS, 0):
            _last_used = now
            return _conn, False
        # the server has closed it, or is about to (idle_session_timeout): a new one, no failed query
    if _conn is not None:
        reset_connection()
    _conn = _connect()
    _last_used = time.monotonic()
    return _conn, True


def reset_connection() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        except psycopg.Error:
            pass  # closing a dead connection may fail; there is nothing left to keep
    _conn = None


@contextmanager
def another_connection() -> Iterator[None]:
    """Within the block, `run` and `connection` use a connection of their own, as another container would;
    at its end that one is closed and the container's connection (left open, untouched) is back.

    For a test or a tool that needs two database sessions in one process (e.g. a race between two
    requests); not thread-safe, never for a handler."""
    global _conn, _last_used
    saved = _conn, _last_used
    _conn = None
    try:
        yield
    finally:
        reset_connection()
        _conn, _last_used = saved


def _used() -> None:
    global _last_used
    _last_used = time.monotonic()


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
    finally:
        _used()  # idle time counts from the end of the last use
    conn, _ = connection()
    try:
        return work(conn)
    except psycopg.OperationalError as exc:
        if conn.broken or conn.closed:
            reset_connection()
        raise DependencyUnavailable("postgres", "the database connection was lost") from exc
    finally:
        _used()
