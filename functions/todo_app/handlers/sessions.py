"""POST /sessions (log in) and DELETE /sessions/current (log out).

Log in: e-mail (case-insensitive) and password checked against PostgreSQL (a user being deleted
cannot log in); a new random token is returned once, 201 {token, userId, expiresAt (ISO 8601)}, and
only its SHA-256 is stored in the sessions table with `expiresAt` (epoch seconds, the TTL attribute)
SESSION_TTL_SECONDS ahead (required, no default). Wrong e-mail or password: 401 `invalid_credentials`,
the same answer for both.
Log out: deletes the session of the presented token; 204.

Env: SESSIONS_TABLE, SESSION_TTL_SECONDS, DB_*.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from todo_app import aws, db, http_api, settings, user_rows
from todo_app.models import SessionCreate
from todo_app.passwords import DUMMY_HASH, verify_password
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import iso, now_iso
from todo_app.tokens import bearer_token, new_token, token_hash

router = http_api.Router("sessions")
app = router.app


def session_ttl() -> int:
    return settings.integer("SESSION_TTL_SECONDS", minimum=1)


@router.operation
def log_in() -> http_api.HttpResponse:
    body = http_api.parse(app, SessionCreate)
    row = db.run(lambda conn: user_rows.find_login(conn, body.email))
    ok = verify_password(body.password, row["password_hash"] if row else DUMMY_HASH)
    if not row or not ok:
        raise http_api.ApiError(401, "invalid_credentials", "The e-mail or the password is wrong")
    user_id = str(row["id"])
    token = new_token()
    expires = int(time.time()) + session_ttl()
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("sessions"),
        Item=aws.to_item({"tokenHash": token_hash(token), "userId": user_id, "expiresAt": expires, "createdAt": now_iso()}),
    )
    metrics.add_metric(name="LogIns", unit=MetricUnit.Count, value=1)
    expires_at = iso(datetime.fromtimestamp(expires, tz=UTC))
    return http_api.json_response(201, {"token": token, "userId": user_id, "expiresAt": expires_at})


@router.operation
def log_out() -> http_api.HttpResponse:
    http_api.caller_id(app)
    token = bearer_token(http_api.header(app, "authorization"))
    if token is None:
        raise http_api.ApiError(401, "unauthorized", "A valid bearer token is required")
    aws.client("dynamodb").delete_item(TableName=aws.table_name("sessions"), Key={"tokenHash": {"S": token_hash(token)}})
    return http_api.no_content()


handler = router.lambda_handler()
