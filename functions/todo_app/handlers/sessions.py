"""Sessions: log in, log out, and the caller's sessions (devices).

Log in (POST /sessions): throttled per e-mail first (login_throttle: the 6th attempt within the window
is a 429 `too_many_attempts` with Retry-After, known e-mail or not); then the e-mail (by its
normalised key, models.email_key) and password are checked against PostgreSQL (a user being deleted
cannot log in). A new random token is returned once, 201 {token, userId, expiresAt (ISO 8601)}, and
only its SHA-256 is stored in the sessions table with `expiresAt` (epoch seconds, the TTL attribute)
SESSION_TTL_SECONDS ahead (required, no default), a random `sessionId` (the public name of the
session: neither the token nor its hash), `createdAt`, and the client's user agent and source IP.
Wrong e-mail or password: 401 `invalid_credentials`, the same answer for both; a success resets the
e-mail's failure count.
Log out (DELETE /sessions/current): deletes the session of the presented token; 204.
GET /sessions: the caller's unexpired sessions, newest first: {items: [{sessionId, createdAt,
expiresAt, userAgent, sourceIp, current}]}. Found through the user index (eventually consistent on
AWS: a session created a moment ago may be missing for a moment), read back consistently.
DELETE /sessions/{sessionId}: revokes one of the caller's sessions; 404 for an unknown id or anyone
else's (the lookup only ever sees the caller's). DELETE /sessions: every session of the caller, the
presented one included; 204. A revoked token is refused at once (the authorizer reads the table).

Every response here carries Cache-Control: no-store (http_api adds it to every response).

Env: SESSIONS_TABLE, LOGIN_ATTEMPTS_TABLE, SESSION_TTL_SECONDS, LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS, DB_*.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from todo_app import db, http_api, ids, login_throttle, password_reset, session_items, settings, user_rows
from todo_app.models import PasswordResetConfirm, PasswordResetRequest, SessionCreate, email_key
from todo_app.passwords import DUMMY_HASH, verify_password
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import iso, now_iso
from todo_app.tokens import bearer_token, new_token, token_hash

router = http_api.Router("sessions")
app = router.app
MAX_USER_AGENT = 256  # characters of the User-Agent kept with a session


def session_ttl() -> int:
    return settings.integer("SESSION_TTL_SECONDS", minimum=1)


@router.operation
def log_in() -> http_api.HttpResponse:
    body = http_api.parse(app, SessionCreate)
    key = email_key(body.email)
    try:
        login_throttle.reserve(key)
    except login_throttle.Throttled as throttled:
        metrics.add_metric(name="LogInsThrottled", unit=MetricUnit.Count, value=1)
        raise http_api.ApiError(
            429,
            "too_many_attempts",
            "Too many failed log-ins for this e-mail; try again later",
            headers={"Retry-After": str(throttled.retry_after)},
        ) from None
    row = db.run(lambda conn: user_rows.find_login(conn, key))
    ok = verify_password(body.password, row["password_hash"] if row else DUMMY_HASH)
    if not row or not ok:
        raise http_api.ApiError(401, "invalid_credentials", "The e-mail or the password is wrong")
    login_throttle.reset(key)
    user_id = str(row["id"])
    token = new_token(user_id)
    expires = int(time.time()) + session_ttl()
    context = app.event.get("requestContext", {}).get("http", {})
    session_items.put(
        {
            "tokenHash": token_hash(token),
            "sessionId": ids.new_id(),
            "userId": user_id,
            "expiresAt": expires,
            "createdAt": now_iso(),
            "userAgent": str(context.get("userAgent") or "")[:MAX_USER_AGENT],
            "sourceIp": str(context.get("sourceIp") or ""),
        }
    )
    metrics.add_metric(name="LogIns", unit=MetricUnit.Count, value=1)
    expires_at = iso(datetime.fromtimestamp(expires, tz=UTC))
    return http_api.json_response(201, {"token": token, "userId": user_id, "expiresAt": expires_at})


def _own_hash() -> str:
    token = bearer_token(http_api.header(app, "authorization"))
    if token is None:
        raise http_api.ApiError(401, "unauthorized", "A valid bearer token is required")
    return token_hash(token)


@router.operation
def log_out() -> http_api.HttpResponse:
    http_api.caller_id(app)
    session_items.delete(_own_hash())
    return http_api.no_content()


def _session_id(session: dict[str, Any]) -> str:
    # sessions created before session ids existed are named by a hash of their token hash, in the
    # shape of the others ("0" and 25 hex digits: a time-ordered id's alphabet)
    return str(session.get("sessionId") or "0" + token_hash("session:" + str(session["tokenHash"]))[:25].upper())


@router.operation
def list_sessions() -> http_api.HttpResponse:
    caller, own = http_api.caller_id(app), _own_hash()
    items = [
        {
            "sessionId": _session_id(s),
            "createdAt": str(s.get("createdAt", "")),
            "expiresAt": iso(datetime.fromtimestamp(int(s["expiresAt"]), tz=UTC)),
            "userAgent": str(s.get("userAgent", "")),
            "sourceIp": str(s.get("sourceIp", "")),
            "current": s["tokenHash"] == own,
        }
        for s in session_items.live_sessions(caller)
    ]
    items.sort(key=lambda item: (item["createdAt"], item["sessionId"]), reverse=True)
    return http_api.json_response(200, {"items": items})


@router.operation
def revoke_session(sessionId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    target = next((s for s in session_items.live_sessions(caller) if _session_id(s) == sessionId), None)
    if target is None:
        raise http_api.not_found("session")
    if not session_items.revoke(str(target["tokenHash"]), caller):
        raise http_api.not_found("session")
    return http_api.no_content()


@router.operation
def log_out_everywhere() -> http_api.HttpResponse:
    caller, own = http_api.caller_id(app), _own_hash()
    # the presented session by its key (the index may not show it yet), then every other one
    session_items.delete(own)
    session_items.delete_user_sessions(caller, own, unavailable="sessions could not be deleted")
    return http_api.no_content()


@router.operation
def request_password_reset() -> http_api.HttpResponse:
    """POST /password-resets: see todo_app.password_reset."""
    return password_reset.request(app, http_api.parse(app, PasswordResetRequest))


@router.operation
def confirm_password_reset() -> http_api.HttpResponse:
    """POST /password-resets/confirm: see todo_app.password_reset."""
    return password_reset.confirm(http_api.parse(app, PasswordResetConfirm))


handler = router.lambda_handler()
