"""Sessions: log in, log out, and the caller's sessions (devices).

Log in (POST /sessions): throttled first (login_throttle). An attempt presenting a valid `deviceToken`
(device_items: issued by an earlier log-in for this e-mail) is counted per device only; any other attempt
is counted per source IP (LOGIN_IP_MAX_FAILURES, across all e-mails) and per e-mail (the 6th attempt
within the window is a 429 `too_many_attempts` with Retry-After, known e-mail or not). Then the e-mail (by its
normalised key, models.email_key) and password are checked against PostgreSQL (a user being deleted
cannot log in). A new random token is returned once, 201 {token, userId, expiresAt (ISO 8601),
deviceToken (a new device token; the one presented, if valid, is replaced)}, and
only its SHA-256 is stored in the sessions table with `expiresAt` (epoch seconds, the TTL attribute)
SESSION_TTL_SECONDS ahead (required, no default), a random `sessionId` (the public name of the
session: neither the token nor its hash), `createdAt`, and the client's user agent (clean_user_agent: no
control, bidi or other format characters, bounded) and source IP.
Wrong e-mail or password: 401 `invalid_credentials`, the same answer for both; a success resets the
e-mail's (or the device's) failure count and takes its attempt back from the source IP's.
Log out (DELETE /sessions/current): deletes the session of the presented token; 204.
GET /sessions: the caller's unexpired sessions, newest first: {items: [{sessionId, createdAt,
expiresAt, userAgent, sourceIp, current}]}. Found through the user index (eventually consistent on
AWS: a session created a moment ago may be missing for a moment), read back consistently.
DELETE /sessions/{sessionId}: revokes one of the caller's sessions; 404 for an unknown id or anyone
else's (the lookup only ever sees the caller's). DELETE /sessions: every session of the caller, the
presented one included; 204. A revoked token is refused at once (the authorizer reads the table).

Every response here carries Cache-Control: no-store (http_api adds it to every response).

Env: SESSIONS_TABLE, LOGIN_ATTEMPTS_TABLE, LOGIN_SOURCES_TABLE, DEVICES_TABLE, SESSION_TTL_SECONDS, LOGIN_MAX_FAILURES,
LOGIN_WINDOW_SECONDS, LOGIN_IP_MAX_FAILURES, DB_*.
"""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

from todo_app import db, device_items, http_api, ids, login_throttle, password_reset, session_items, settings, user_rows
from todo_app.models import PasswordResetConfirm, PasswordResetRequest, SessionCreate, email_key
from todo_app.passwords import DUMMY_HASH, verify_password
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import iso, now_iso
from todo_app.tokens import bearer_token, new_token, token_hash

router = http_api.Router("sessions")
app = router.app
MAX_USER_AGENT = 256  # characters of the User-Agent kept with a session
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # control, format (zero-width, bidi), surrogates, line/paragraph separators


def clean_user_agent(value: object) -> str:
    """The User-Agent as the devices list shows it: control, format (bidi, zero-width) and separator characters
    removed, at most MAX_USER_AGENT characters, surrounding spaces trimmed."""
    text = str(value or "")
    if not text.isprintable():
        text = "".join(char for char in text if unicodedata.category(char) not in _HIDDEN)
    return text[:MAX_USER_AGENT].strip()


def session_ttl() -> int:
    return settings.integer("SESSION_TTL_SECONDS", minimum=1)


def _throttled(retry_after: int, what: str) -> http_api.ApiError:
    metrics.add_metric(name="LogInsThrottled", unit=MetricUnit.Count, value=1)
    return http_api.ApiError(
        429, "too_many_attempts", f"Too many failed log-ins {what}; try again later", headers={"Retry-After": str(retry_after)}
    )


def _reserve(key: str, device: str | None, source_ip: str) -> tuple[login_throttle.Counter, login_throttle.Counter | None]:
    """Count the attempt (see the module's docstring): the counter a success resets, and the source IP's (from
    which a success takes its attempt back), None for a device's attempt."""
    if device is not None:
        counter = login_throttle.per_device(device)
        _count(counter, login_throttle.max_failures(), "from this device")
        return counter, None
    source = login_throttle.per_ip(source_ip)
    _count(source, login_throttle.ip_max_failures(), "from this address")
    email = login_throttle.per_email(key)
    _count(email, login_throttle.max_failures(), "for this e-mail")
    return email, source


def _count(counter: login_throttle.Counter, limit: int, where: str) -> None:
    """Count one attempt on `counter`; a used-up window is the 429 saying where the attempts came from."""
    try:
        login_throttle.reserve_counter(counter, limit)
    except login_throttle.Throttled as throttled:
        raise _throttled(throttled.retry_after, where) from None


@router.operation
def log_in() -> http_api.HttpResponse:
    body = http_api.parse(app, SessionCreate)
    key = email_key(body.email)
    context = app.event.get("requestContext", {}).get("http", {})
    source_ip = str(context.get("sourceIp") or "")
    device = device_items.valid_for(body.deviceToken, key) if body.deviceToken else None
    counter, source = _reserve(key, device, source_ip)
    row = db.run(lambda conn: user_rows.find_login(conn, key))
    ok = verify_password(body.password, row["password_hash"] if row else DUMMY_HASH)
    if not row or not ok:
        raise http_api.ApiError(401, "invalid_credentials", "The e-mail or the password is wrong")
    login_throttle.reset_counter(counter)
    if source is not None:
        login_throttle.release(source)
    user_id = str(row["id"])
    if device is not None:
        device_items.delete(device)
    device_token = device_items.issue(user_id, key)
    token = new_token(user_id)
    expires = int(time.time()) + session_ttl()
    session_items.put(
        {
            "tokenHash": token_hash(token),
            "sessionId": ids.new_id(),
            "userId": user_id,
            "expiresAt": expires,
            "createdAt": now_iso(),
            "userAgent": clean_user_agent(context.get("userAgent")),
            "sourceIp": source_ip,
        }
    )
    metrics.add_metric(name="LogIns", unit=MetricUnit.Count, value=1)
    expires_at = iso(datetime.fromtimestamp(expires, tz=UTC))
    return http_api.json_response(201, {"token": token, "userId": user_id, "expiresAt": expires_at, "deviceToken": device_token})


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
            "userAgent": clean_user_agent(s.get("userAgent")),
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
