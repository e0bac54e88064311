"""Users: sign-up, list, profile, update, deletion (PostgreSQL; deletion sweeps DynamoDB).

- POST /users (public): 201 user JSON {id, name, email, age, createdAt, updatedAt}; 409
  `email_taken` (the same address after Unicode normalisation and case folding: `email_key`).
  Safe to repeat after a dropped connection (see create_user).
- GET /users: `{id, name}` only (no one else's e-mail or age); keyset pagination over id (UUID
  order), `limit` 1..100 (default 20), `cursor` the opaque value of the previous page's `nextCursor`;
  users being deleted are left out.
- GET/PUT/DELETE /users/{userId}: the caller only (403 otherwise); 404 when absent or being deleted.
  PUT takes at least one of name, email, age (age null clears it); 409 when the e-mail is taken.
- DELETE runs steps that a retry of the same request can resume at any point:
  (1) tombstone: UPDATE users SET deleted_at (waits for in-flight todo creations, which hold a share
      lock on the row; from then on the user is 404 everywhere and cannot log in);
  (2) delete every todo of the user (Query + BatchWriteItem, unprocessed items retried);
  (3) delete the user's other sessions (Query on the user index catalog.SESSIONS_BY_USER + BatchWriteItem);
  (4) DELETE the users row;
  (5) write the user's deletion marker in the sessions table (catalog.DELETED_USER_PREFIX + id): from
      then on the authorizer refuses every token of the user, including one that a log-in racing
      this deletion wrote behind the sweep (it read the row before the tombstone). The marker lives
      as long as any such session can (the session lifetime, plus a margin for a slow log-in);
  (6) delete the caller's own session LAST, so that a failure at any earlier step leaves the token
      valid for the retry. A retry after (4) finds no row and just finishes the sweeps. → 204.

Env: TODOS_TABLE, SESSIONS_TABLE, DB_*.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from todo_app import aws, catalog, db, http_api, session_items, settings, user_rows
from todo_app.models import UserCreate, UserUpdate, email_key
from todo_app.passwords import hash_password
from todo_app.telemetry import MetricUnit, logger, metrics
from todo_app.tokens import bearer_token, token_hash

router = http_api.Router("users")
app = router.app
EMAIL_INDEX = "users_email_key_key"
T = TypeVar("T")


def _email_taken() -> http_api.ApiError:
    return http_api.ApiError(
        409, "email_taken", "A user with this e-mail already exists", [{"field": "email", "message": "is already taken"}]
    )


def _run_unique_email(work: Callable[[psycopg.Connection], T]) -> T:
    """db.run(work), with the e-mail's unique index answered as 409 email_taken."""
    try:
        return db.run(work)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name == EMAIL_INDEX:
            raise _email_taken() from None
        raise


@router.operation
def create_user() -> http_api.HttpResponse:
    body = http_api.parse(app, UserCreate)
    user_id = str(uuid.uuid4())
    password_hash = hash_password(body.password)

    def insert(conn: psycopg.Connection) -> user_rows.UserRow | None:
        # Safe to repeat, as db.run may (a connection dropped after the commit): the id is fixed
        # outside, a conflict inserts nothing, and the row is then read back by that id. Found: this
        # sign-up created it (now or in the first attempt); absent: the e-mail belongs to someone else.
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"""INSERT INTO users (id, name, email, email_key, age, password_hash) VALUES (%s, %s, %s, %s, %s, %s)
                    ON CONFLICT DO NOTHING RETURNING {user_rows.USER_COLUMNS}""",
                (user_id, body.name, body.email, email_key(body.email), body.age, password_hash),
            )
            return cur.fetchone() or user_rows.get_active_user(conn, user_id)

    row = db.run(insert)
    if row is None:
        raise _email_taken()
    metrics.add_metric(name="SignUps", unit=MetricUnit.Count, value=1)
    return http_api.json_response(201, user_rows.user_json(row))


@router.operation
def list_users() -> http_api.HttpResponse:
    http_api.caller_id(app)
    limit = http_api.limit_param(app)
    cursor = http_api.decode_cursor(app, {"id"})
    if cursor is not None and not user_rows.is_uuid(cursor["id"]):
        raise http_api.bad_request("cursor", "is not a cursor this API returned")

    def page(conn: psycopg.Connection) -> list[user_rows.UserRow]:
        # id and name only: anyone with an account may list users, so nothing private is selected
        with conn.cursor(row_factory=dict_row) as cur:
            if cursor is None:
                cur.execute("SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT %s", (limit + 1,))
            else:
                cur.execute(
                    "SELECT id, name FROM users WHERE deleted_at IS NULL AND id > %s ORDER BY id LIMIT %s",
                    (cursor["id"], limit + 1),
                )
            return cur.fetchall()

    rows = db.run(page)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = http_api.encode_cursor({"id": str(rows[-1]["id"])}) if more else None
    items = [{"id": str(r["id"]), "name": r["name"]} for r in rows]
    return http_api.json_response(200, {"items": items, "nextCursor": next_cursor})


@router.operation
def get_user(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    row = db.run(lambda conn: user_rows.get_active_user(conn, userId))
    if row is None:
        raise http_api.not_found("user")
    return http_api.json_response(200, user_rows.user_json(row))


@router.operation
def update_user(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    body = http_api.parse(app, UserUpdate)
    fields: dict[str, Any] = {name: getattr(body, name) for name in ("name", "email", "age") if name in body.model_fields_set}
    if "email" in fields:
        fields["email_key"] = email_key(fields["email"])
    assignments = ", ".join(f"{name} = %s" for name in fields)

    def update(conn: psycopg.Connection) -> user_rows.UserRow | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"""UPDATE users SET {assignments}, updated_at = now()
                    WHERE id = %s AND deleted_at IS NULL RETURNING {user_rows.USER_COLUMNS}""",
                (*fields.values(), userId),
            )
            return cur.fetchone()

    row = _run_unique_email(update)
    if row is None:
        raise http_api.not_found("user")
    return http_api.json_response(200, user_rows.user_json(row))


# --------------------------------------------------------------------------- deletion


def tombstone_user(user_id: str) -> bool:
    """Step 1; False when the row is already gone (a retry after step 4)."""

    def mark(conn: psycopg.Connection) -> tuple[Any, ...] | None:
        return conn.execute("UPDATE users SET deleted_at = coalesce(deleted_at, now()) WHERE id = %s RETURNING id", (user_id,)).fetchone()

    return db.run(mark) is not None


def _batch_delete(table: str, keys: list[dict[str, Any]]) -> None:
    """BatchWriteItem deletes in chunks of 25, retrying unprocessed items with a short backoff."""
    dynamodb = aws.client("dynamodb")
    for start in range(0, len(keys), 25):
        requests = {table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
        for attempt in range(8):
            unprocessed = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            requests = unprocessed
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError(f"{table}: items still unprocessed after retries")


def delete_todos(user_id: str) -> int:
    """Step 2: every todo of the user, page by page."""
    dynamodb, table, deleted, start = aws.client("dynamodb"), aws.table_name("todos"), 0, None
    while True:
        args = {
            "TableName": table,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ProjectionExpression": "userId, todoId",
        }
        if start:
            args["ExclusiveStartKey"] = start
        page = dynamodb.query(**args)
        keys = page.get("Items", [])
        _batch_delete(table, keys)
        deleted += len(keys)
        start = page.get("LastEvaluatedKey")
        if not start:
            return deleted


def delete_other_sessions(user_id: str, keep_hash: str | None) -> int:
    """Step 3: the user's sessions except the caller's own (deleted last, step 5)."""
    keys = [{"tokenHash": {"S": h}} for h in session_items.user_session_hashes(user_id) if h != keep_hash]
    _batch_delete(aws.table_name("sessions"), keys)
    return len(keys)


def delete_user_row(user_id: str) -> None:
    """Step 4."""
    db.run(lambda conn: conn.execute("DELETE FROM users WHERE id = %s AND deleted_at IS NOT NULL", (user_id,)))


MARKER_MARGIN_SECONDS = 3600  # far beyond the sessions function's timeout: a log-in never writes later than that


def write_deletion_marker(user_id: str) -> None:
    """Step 5."""
    expires = int(time.time()) + settings.integer("SESSION_TTL_SECONDS", minimum=1) + MARKER_MARGIN_SECONDS
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("sessions"),
        Item={"tokenHash": {"S": catalog.DELETED_USER_PREFIX + user_id}, "expiresAt": {"N": str(expires)}},
    )


def delete_own_session(keep_hash: str | None) -> None:
    """Step 6."""
    if keep_hash:
        aws.client("dynamodb").delete_item(TableName=aws.table_name("sessions"), Key={"tokenHash": {"S": keep_hash}})


@router.operation
def delete_user(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    token = bearer_token(http_api.header(app, "authorization"))
    own_hash = token_hash(token) if token else None
    existed = tombstone_user(userId)
    todos = delete_todos(userId)
    sessions = delete_other_sessions(userId, own_hash)
    delete_user_row(userId)
    write_deletion_marker(userId)
    delete_own_session(own_hash)
    logger.info("user deleted", extra={"userId": userId, "resumed": not existed, "todos": todos, "sessions": sessions})
    metrics.add_metric(name="UsersDeleted", unit=MetricUnit.Count, value=1)
    return http_api.no_content()


handler = router.lambda_handler()
