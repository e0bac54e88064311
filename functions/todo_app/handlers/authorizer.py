"""HTTP API Lambda REQUEST authorizer with simple responses.

Reads `Authorization: Bearer <token>`, looks up sha256(token) in the sessions table and answers
{"isAuthorized": true, "context": {"userId": ...}}; an unknown, malformed or expired token
(expiresAt < now: DynamoDB's TTL deletes lazily) is {"isAuthorized": false}, and so is the token of a
deleted user: after the session, the user's deletion marker (catalog.DELETED_USER_PREFIX + user id,
written by DELETE /users/{id} before it answers) is read too, consistently (a second GetItem: its key
needs the session's user id). The marker is what makes a deletion final whatever the interleaving: a log-in that read
the user before the deletion may write its session after the sweep, and that session is still
refused. A DynamoDB failure raises, so API Gateway answers 500 rather than letting anyone in or
logging everyone out.

Env: SESSIONS_TABLE.
"""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws, catalog
from todo_app.telemetry import logger
from todo_app.tokens import bearer_token, token_hash

DENY = {"isAuthorized": False}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return DENY
    dynamodb, table = aws.client("dynamodb"), aws.table_name("sessions")
    item = dynamodb.get_item(TableName=table, Key={"tokenHash": {"S": token_hash(token)}}, ConsistentRead=True).get("Item")
    if not item:
        return DENY
    session = aws.from_item(item)
    if int(session.get("expiresAt", 0)) < time.time():
        return DENY
    marker = {"tokenHash": {"S": catalog.DELETED_USER_PREFIX + str(session["userId"])}}
    if dynamodb.get_item(TableName=table, Key=marker, ConsistentRead=True).get("Item"):
        return DENY
    return {"isAuthorized": True, "context": {"userId": session["userId"]}}
