"""HTTP API Lambda REQUEST authorizer with simple responses.

Reads `Authorization: Bearer <token>`, looks up sha256(token) in the sessions table and answers
{"isAuthorized": true, "context": {"userId": ...}}; an unknown, malformed or expired token
(expiresAt < now: DynamoDB's TTL deletes lazily) is {"isAuthorized": false}, and so is the token of a
deleted user: with the session, the user's deletion marker (catalog.DELETED_USER_PREFIX + user id,
written by DELETE /users/{id} before it answers) is read too, consistently. The marker is what makes a
deletion final whatever the interleaving: a log-in that read the user before the deletion may write its
session after the sweep, and that session is still refused.

The token names its user (tokens.py), so both items come in one consistent BatchGetItem: one round trip
on every request instead of two. The user id is trusted only when the session names the same user. A
token issued before tokens named their user is read in two steps (remove once those sessions expired).
A DynamoDB failure raises, so API Gateway answers 500 rather than letting anyone in or logging everyone out.

Env: SESSIONS_TABLE.
"""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws, catalog
from todo_app.telemetry import logger
from todo_app.tokens import bearer_token, token_hash, token_user

DENY = {"isAuthorized": False}
Item = dict[str, Any]
BATCH_ATTEMPTS = 3  # BatchGetItem may leave keys unprocessed under throttling


def _marker_key(user_id: str) -> Item:
    return {"tokenHash": {"S": catalog.DELETED_USER_PREFIX + user_id}}


def _read_together(table: str, session_key: Item, marker_key: Item) -> tuple[Item | None, Item | None]:
    """(session item, marker item), each None when absent, from consistent BatchGetItems."""
    found: dict[str, Item] = {}
    request: dict[str, Any] = {table: {"Keys": [session_key, marker_key], "ConsistentRead": True}}
    for _ in range(BATCH_ATTEMPTS):
        answer = aws.client("dynamodb").batch_get_item(RequestItems=request)
        for item in answer.get("Responses", {}).get(table, []):
            found[item["tokenHash"]["S"]] = item
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found.get(session_key["tokenHash"]["S"]), found.get(marker_key["tokenHash"]["S"])
    raise RuntimeError("sessions: BatchGetItem left keys unprocessed after retries")


def _read_in_turn(table: str, session_key: Item) -> tuple[Item | None, Item | None]:
    dynamodb = aws.client("dynamodb")
    session = dynamodb.get_item(TableName=table, Key=session_key, ConsistentRead=True).get("Item")
    if not session or "userId" not in session:
        return None, None
    marker = dynamodb.get_item(TableName=table, Key=_marker_key(session["userId"]["S"]), ConsistentRead=True).get("Item")
    return session, marker


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return DENY
    table, session_key = aws.table_name("sessions"), {"tokenHash": {"S": token_hash(token)}}
    named = token_user(token)
    item, marker = _read_in_turn(table, session_key) if named is None else _read_together(table, session_key, _marker_key(named))
    if not item or marker:
        return DENY
    session = aws.from_item(item)
    if named is not None and session.get("userId") != named:
        return DENY
    if int(session.get("expiresAt", 0)) < time.time():
        return DENY
    return {"isAuthorized": True, "context": {"userId": session["userId"]}}
