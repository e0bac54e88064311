"""Users: sign-up, list, profile, update, deletion (PostgreSQL; deletion sweeps DynamoDB).

- POST /users (public): 201 user JSON {id, name, email, age, createdAt, updatedAt}; 409
  `email_taken` (the same address after Unicode normalisation and case folding: `email_key`).
  Safe to repeat after a dropped connection (see create_user).
- GET /users: `{id, name}` only (no one else's e-mail or age); keyset pagination over id (UUID
  order), `limit` 1..100 (default 20), `cursor` the opaque value of the previous page's `nextCursor`;
  users being deleted are left out.
- GET/PUT/DELETE /users/{userId}: the caller only (403 otherwise); 404 when absent or being deleted.
  PUT takes at least one of name, email, age (age null clears it); 409 when the e-mail is taken. Changing
  the e-mail needs `currentPassword` (400 naming it when missing, 403 `wrong_password` when wrong) and
  revokes every other session of the user.
- PUT /users/{userId}/password (self) {currentPassword, newPassword}: 204; every other session of the user
  is revoked, the presented one stays. A wrong current password is 403 `wrong_password` and counts as a
  failed log-in for the user's e-mail (login_throttle: counted before the check; over the limit, 429).
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

Env: TODOS_TABLE, SESSIONS_TABLE, LOGIN_ATTEMPTS_TABLE, LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS, DB_*.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from todo_app import db, http_api, login_throttle, session_items, settings, todo_items, user_rows
from todo_app.models import PasswordChange, UserCreate, UserUpdate, email_key
from todo_app.passwords import hash_password, verify_password
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

    # safe to repeat, as db.run may: the id is fixed here (see user_rows.insert_user)
    row = db.run(lambda conn: user_rows.insert_user(conn, user_id, body.name, body.email, email_key(body.email), body.age, password_hash))
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

    # id and name only: anyone with an account may list users
    rows = db.run(lambda conn: user_rows.list_page(conn, cursor["id"] if cursor else None, limit + 1))
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


def _own_hash() -> str | None:
    token = bearer_token(http_api.header(app, "authorization"))
    return token_hash(token) if token else None


def _reauthenticate(user_id: str, password: str) -> None:
    """The caller's current password, counted as a log-in attempt for their e-mail: 404 when the user is
    absent, 429 over the e-mail's limit, 403 `wrong_password` when wrong."""
    row = db.run(lambda conn: user_rows.find_credentials(conn, user_id))
    if row is None:
        raise http_api.not_found("user")
    try:
        login_throttle.reserve(row["email_key"])
    except login_throttle.Throttled as throttled:
        metrics.add_metric(name="LogInsThrottled", unit=MetricUnit.Count, value=1)
        raise http_api.ApiError(
            429,
            "too_many_attempts",
            "Too many failed log-ins for this e-mail; try again later",
            headers={"Retry-After": str(throttled.retry_after)},
        ) from None
    if not verify_password(password, row["password_hash"]):
        raise http_api.ApiError(
            403, "wrong_password", "The current password is wrong", [{"field": "currentPassword", "message": "is wrong"}]
        )
    login_throttle.reset(row["email_key"])


@router.operation
def update_user(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    body = http_api.parse(app, UserUpdate)
    fields: dict[str, Any] = {name: getattr(body, name) for name in ("name", "email", "age") if name in body.model_fields_set}
    if "email" in fields:
        if body.currentPassword is None:
            raise http_api.bad_request("currentPassword", "is required to change the e-mail")
        fields["email_key"] = email_key(fields["email"])
    if body.currentPassword is not None:
        _reauthenticate(userId, body.currentPassword)
    row = _run_unique_email(lambda conn: user_rows.update_user(conn, userId, fields))
    if row is None:
        raise http_api.not_found("user")
    if "email" in fields:  # whoever else holds a session of this account loses it
        session_items.delete_user_sessions(userId, _own_hash(), unavailable="other sessions could not be revoked")
    return http_api.json_response(200, user_rows.user_json(row))


@router.operation
def change_password(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    body = http_api.parse(app, PasswordChange)
    _reauthenticate(userId, body.currentPassword)
    password_hash = hash_password(body.newPassword)
    if not db.run(lambda conn: user_rows.set_password_hash(conn, userId, password_hash)):
        raise http_api.not_found("user")
    session_items.delete_user_sessions(userId, _own_hash(), unavailable="other sessions could not be revoked")
    metrics.add_metric(name="PasswordChanges", unit=MetricUnit.Count, value=1)
    return http_api.no_content()


# --------------------------------------------------------------------------- deletion


def tombstone_user(user_id: str) -> bool:
    """Step 1; False when the row is already gone (a retry after step 4)."""
    return db.run(lambda conn: user_rows.tombstone_user(conn, user_id))


def delete_todos(user_id: str) -> int:
    """Step 2: every todo of the user."""
    return todo_items.delete_all(user_id)


def delete_other_sessions(user_id: str, keep_hash: str | None) -> int:
    """Step 3: the user's sessions except the caller's own (deleted last, step 6)."""
    return session_items.delete_user_sessions(user_id, keep_hash)


def delete_user_row(user_id: str) -> None:
    """Step 4."""
    db.run(lambda conn: user_rows.delete_tombstoned_user(conn, user_id))


MARKER_MARGIN_SECONDS = 3600  # far beyond the sessions function's timeout: a log-in never writes later than that


def write_deletion_marker(user_id: str) -> None:
    """Step 5."""
    expires = int(time.time()) + settings.integer("SESSION_TTL_SECONDS", minimum=1) + MARKER_MARGIN_SECONDS
    session_items.write_deletion_marker(user_id, expires)


def delete_own_session(keep_hash: str | None) -> None:
    """Step 6."""
    if keep_hash:
        session_items.delete(keep_hash)


@router.operation
def delete_user(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    own_hash = _own_hash()
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
