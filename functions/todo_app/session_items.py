"""The sessions repository: reads and writes of the DynamoDB sessions table that the sessions and users
handlers share."""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws, catalog


def user_session_hashes(user_id: str) -> list[str]:
    """The token hashes of every session of the user, from the user index (keys only), page by page."""
    dynamodb, hashes = aws.client("dynamodb"), []
    args: dict[str, Any] = {
        "TableName": aws.table_name("sessions"),
        "IndexName": catalog.SESSIONS_BY_USER.name,
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": {"S": user_id}},
    }
    while True:
        page = dynamodb.query(**args)
        hashes += [str(item["tokenHash"]["S"]) for item in page.get("Items", [])]
        if not page.get("LastEvaluatedKey"):
            return hashes
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_user_sessions(user_id: str, keep_hash: str | None, *, unavailable: str = "") -> int:
    """Every session of the user except the one whose token hash is `keep_hash`; how many (see aws.batch_delete
    for `unavailable`)."""
    keys = [{"tokenHash": {"S": h}} for h in user_session_hashes(user_id) if h != keep_hash]
    aws.batch_delete(aws.table_name("sessions"), keys, unavailable=unavailable)
    return len(keys)


def write_deletion_marker(user_id: str, expires_at: int) -> None:
    """The deleted user's marker (catalog.DELETED_USER_PREFIX + id), which the authorizer reads with every
    session: from then on it refuses every token of the user. Kept until `expires_at` (epoch seconds)."""
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("sessions"),
        Item={"tokenHash": {"S": catalog.DELETED_USER_PREFIX + user_id}, "expiresAt": {"N": str(expires_at)}},
    )


def delete(token_hash: str) -> None:
    aws.client("dynamodb").delete_item(TableName=aws.table_name("sessions"), Key={"tokenHash": {"S": token_hash}})


def put(session: dict[str, Any]) -> None:
    """Store a new session (its `tokenHash` the key, `expiresAt` epoch seconds for the TTL)."""
    aws.client("dynamodb").put_item(TableName=aws.table_name("sessions"), Item=aws.to_item(session))


def live_sessions(user_id: str) -> list[dict[str, Any]]:
    """The user's unexpired sessions, read consistently by key (the user index may lag behind a revocation)."""
    dynamodb, table, found = aws.client("dynamodb"), aws.table_name("sessions"), []
    hashes = user_session_hashes(user_id)
    for start in range(0, len(hashes), 100):
        request: dict[str, Any] = {table: {"Keys": [{"tokenHash": {"S": h}} for h in hashes[start : start + 100]], "ConsistentRead": True}}
        for attempt in range(8):
            answer = dynamodb.batch_get_item(RequestItems=request)
            found += [aws.from_item(item) for item in answer.get("Responses", {}).get(table, [])]
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise aws.DependencyUnavailable("dynamodb", "sessions could not be read")
    now = time.time()
    return [s for s in found if s.get("userId") == user_id and int(s.get("expiresAt", 0)) >= now]


def revoke(token_hash: str, user_id: str) -> bool:
    """Delete the session if it is the user's; False when it is gone or someone else's."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.delete_item(
            TableName=aws.table_name("sessions"),
            Key={"tokenHash": {"S": token_hash}},
            ConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


Item = dict[str, Any]
BATCH_ATTEMPTS = 3  # BatchGetItem may leave keys unprocessed under throttling


def _marker_key(user_id: str) -> Item:
    return {"tokenHash": {"S": catalog.DELETED_USER_PREFIX + user_id}}


def session_and_marker(token_hash: str, named_user: str | None) -> tuple[Item | None, Item | None]:
    """(session item, its user's deletion marker), each None when absent, both read consistently (DynamoDB's
    item format). With the user the token names: one BatchGetItem (retried while keys stay unprocessed,
    then RuntimeError: a session unread is neither a yes nor a no); without (older tokens): the session,
    then its user's marker."""
    table, session_key = aws.table_name("sessions"), {"tokenHash": {"S": token_hash}}
    if named_user is None:
        dynamodb = aws.client("dynamodb")
        session = dynamodb.get_item(TableName=table, Key=session_key, ConsistentRead=True).get("Item")
        if not session or "userId" not in session:
            return None, None
        marker = dynamodb.get_item(TableName=table, Key=_marker_key(session["userId"]["S"]), ConsistentRead=True).get("Item")
        return session, marker
    marker_key = _marker_key(named_user)
    found: dict[str, Item] = {}
    request: dict[str, Any] = {table: {"Keys": [session_key, marker_key], "ConsistentRead": True}}
    for _ in range(BATCH_ATTEMPTS):
        answer = aws.client("dynamodb").batch_get_item(RequestItems=request)
        for item in answer.get("Responses", {}).get(table, []):
            found[item["tokenHash"]["S"]] = item
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found.get(token_hash), found.get(marker_key["tokenHash"]["S"])
    raise RuntimeError("sessions: BatchGetItem left keys unprocessed after retries")


PROBE_KEY = "health-check"  # never a token hash (those are 64 hex digits)


def probe() -> None:
    """One read of the sessions table (GET /health: DynamoDB answers); raises aws.errors() when it cannot."""
    aws.client("dynamodb").get_item(TableName=aws.table_name("sessions"), Key={"tokenHash": {"S": PROBE_KEY}})
