"""The sessions repository: reads and writes of the DynamoDB sessions table that the sessions and users
handlers share."""

from __future__ import annotations

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


def delete_user_sessions(user_id: str, keep_hash: str | None) -> int:
    """Every session of the user except the one whose token hash is `keep_hash`; how many."""
    keys = [{"tokenHash": {"S": h}} for h in user_session_hashes(user_id) if h != keep_hash]
    aws.batch_delete(aws.table_name("sessions"), keys)
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
