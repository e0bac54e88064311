"""HTTP API Lambda REQUEST authorizer with simple responses.

Reads `Authorization: Bearer <token>`, looks up sha256(token) in the sessions table and answers
{"isAuthorized": true, "context": {"userId": ...}}; an unknown, malformed or expired token
(expiresAt < now: DynamoDB's TTL deletes lazily) is {"isAuthorized": false}, and so is the token of a
deleted user: with the session, the user's deletion marker (catalog.DELETED_USER_PREFIX + user id,
written by DELETE /users/{id} before it answers) is read too, consistently. The marker is what makes a
deletion final whatever the interleaving: a log-in that read the user before the deletion may write its
session after the sweep, and that session is still refused.

The token names its user (tokens.py), so both items come in one consistent BatchGetItem
(`session_items.session_and_marker`): one round trip on every request instead of two. The user id is trusted
only when the session names the same user. A token issued before tokens named their user is read in two
steps (remove once those sessions expired).
A DynamoDB failure raises, so API Gateway answers 500 rather than letting anyone in or logging everyone out.

Env: SESSIONS_TABLE.
"""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws, session_items
from todo_app.telemetry import logger
from todo_app.tokens import bearer_token, token_hash, token_user

DENY = {"isAuthorized": False}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return DENY
    named = token_user(token)
    item, marker = session_items.session_and_marker(token_hash(token), named)
    if not item or marker:
        return DENY
    session = aws.from_item(item)
    if named is not None and session.get("userId") != named:
        return DENY
    if int(session.get("expiresAt", 0)) < time.time():
        return DENY
    return {"isAuthorized": True, "context": {"userId": session["userId"]}}
