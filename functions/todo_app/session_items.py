"""The sessions table: what the sessions and users functions both read from it."""

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
