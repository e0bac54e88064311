"""HTTP API Lambda REQUEST authorizer with simple responses.

Reads `Authorization: Bearer <token>`, looks up sha256(token) in the sessions table (a consistent
GetItem: a token is usable right after login) and answers {"isAuthorized": true, "context":
{"userId": ...}}; an unknown, malformed or expired token (expiresAt < now: DynamoDB's TTL deletes
lazily) is {"isAuthorized": false}. A DynamoDB failure raises, so API Gateway answers 500 rather
than letting anyone in or logging everyone out.

Env: SESSIONS_TABLE.
"""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws
from todo_app.telemetry import logger
from todo_app.tokens import bearer_token, token_hash

DENY = {"isAuthorized": False}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    token = bearer_token(headers.get("authorization"))
    if token is None:
        return DENY
    result = aws.client("dynamodb").get_item(
        TableName=aws.table_name("sessions"),
        Key={"tokenHash": {"S": token_hash(token)}},
        ConsistentRead=True,
    )
    item = result.get("Item")
    if not item:
        return DENY
    session = aws.from_item(item)
    if int(session.get("expiresAt", 0)) < time.time():
        return DENY
    return {"isAuthorized": True, "context": {"userId": session["userId"]}}
