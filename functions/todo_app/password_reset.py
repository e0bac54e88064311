"""Password reset: POST /password-resets and POST /password-resets/confirm, public routes of the sessions function
(in the VPC), which binds them to `request` and `confirm` here.

POST /password-resets {email}: always 202 {status: "accepted", message} with the same body, whether or not the
address has an account. The request is counted per e-mail (RESET_MAX_PER_EMAIL per RESET_WINDOW_SECONDS) and per
source IP (RESET_MAX_PER_SOURCE), known address or not (429 `too_many_requests` with Retry-After). Then, on one
path for both cases, the address is looked up in PostgreSQL and an outbox item is written (reset_items.put_outbox):
the user id and address, or a decoy for an unknown address. No token is made here and nothing leaves the VPC:
the mailer (handlers/mailer.py, outside the VPC, fed by the outbox table's stream) makes the token, stores its
hash and sends the mail through SES, so the answer's timing does not depend on SES.

POST /password-resets/confirm {token, newPassword}: the token's hash is deleted with a condition (unexpired, a
token): a token works once; and a reset spends every other token of the user made before it (the user's
last-reset mark); an outbox item asks the mailer to tell the address that the password was changed. An unknown,
expired, used or spent token is 400 `invalid_token` naming `token`. The new
password's hash is stored and every session of the user is deleted (204); no session is made (the user logs in).

Env (the sessions function's): RESET_OUTBOX_TABLE, RESET_TOKENS_TABLE, LOGIN_ATTEMPTS_TABLE, SESSIONS_TABLE, DB_*.
"""

from __future__ import annotations

from todo_app import db, http_api, ids, reset_items, session_items, user_rows
from todo_app.models import PasswordResetConfirm, PasswordResetRequest, email_key
from todo_app.passwords import hash_password
from todo_app.telemetry import MetricUnit, metrics
from todo_app.tokens import token_hash

RESET_MAX_PER_EMAIL = 3
RESET_MAX_PER_SOURCE = 20
RESET_WINDOW_SECONDS = 3600
ACCEPTED = {"status": "accepted", "message": "If the address has an account, a reset link is on its way."}


def _throttled(retry_after: int) -> http_api.ApiError:
    metrics.add_metric(name="ResetRequestsThrottled", unit=MetricUnit.Count, value=1)
    return http_api.ApiError(
        429, "too_many_requests", "Too many reset requests; try again later", headers={"Retry-After": str(retry_after)}
    )


def request(app: http_api.App, body: PasswordResetRequest) -> http_api.HttpResponse:
    key = email_key(body.email)
    source = str(app.event.get("requestContext", {}).get("http", {}).get("sourceIp") or "")
    try:
        reset_items.reserve("source", source, RESET_MAX_PER_SOURCE, RESET_WINDOW_SECONDS)
        reset_items.reserve("email", key, RESET_MAX_PER_EMAIL, RESET_WINDOW_SECONDS)
    except reset_items.Throttled as throttled:
        raise _throttled(throttled.retry_after) from None
    row = db.run(lambda conn: user_rows.find_login(conn, key))
    # the same write either way: a decoy for an unknown address, which the mailer drops
    reset_items.put_outbox(ids.new_id(), str(row["id"]) if row else None, body.email)
    metrics.add_metric(name="ResetRequests", unit=MetricUnit.Count, value=1)
    return http_api.json_response(202, ACCEPTED)


def confirm(body: PasswordResetConfirm) -> http_api.HttpResponse:
    found = reset_items.consume_token(token_hash(body.token))
    # a token made before the user's last reset is spent with it (a new password spends every outstanding link)
    if found is None or reset_items.spent_since(*found):
        raise http_api.bad_request("token", "unknown, expired or already used", code="invalid_token")
    user_id = found[0]
    new_hash = hash_password(body.newPassword)
    address = db.run(lambda conn: user_rows.set_password_hash(conn, user_id, new_hash))
    if address is None:
        raise http_api.bad_request("token", "unknown, expired or already used", code="invalid_token")
    reset_items.mark_spent(user_id)
    reset_items.put_outbox(ids.new_id(), user_id, address, notice=True)  # the mailer tells the owner it was changed
    session_items.delete_user_sessions(user_id, None, unavailable="sessions could not be deleted")
    metrics.add_metric(name="PasswordResets", unit=MetricUnit.Count, value=1)
    return http_api.no_content()
