"""The orders repository: reads and writes of the DynamoDB orders table, the items' layout and JSON view
(the orders, worker and dashboard handlers call these; none builds a DynamoDB request itself).

Item: userId (hash), orderId (range, time-ordered), status ("CONFIRMED" once the worker stored it),
amount (a DynamoDB number, 2 decimals), currency, items [{sku, quantity}], createdAt, processedAt.
JSON shows the amount as a string with exactly 2 decimals ("12.50"), so no client parses money as
a float.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from todo_app import aws
from todo_app.models import format_amount


def order_json(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "orderId": item["orderId"],
        "userId": item["userId"],
        "status": item["status"],
        "amount": format_amount(item["amount"]),
        "currency": item["currency"],
        "items": [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in item.get("items", [])],
        "createdAt": item["createdAt"],
        "processedAt": item.get("processedAt"),
    }


def get(user_id: str, order_id: str) -> dict[str, Any] | None:
    """The user's stored order (owner-scoped: someone else's is None, like an unknown one)."""
    key = {"userId": {"S": user_id}, "orderId": {"S": order_id}}
    item = aws.client("dynamodb").get_item(TableName=aws.table_name("orders"), Key=key).get("Item")
    return aws.from_item(item) if item else None


def put_new(item: dict[str, Any]) -> bool:
    """Store an order once: True if stored now, False if it was already there (a duplicate delivery)."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.put_item(TableName=aws.table_name("orders"), Item=aws.to_item(item), ConditionExpression="attribute_not_exists(orderId)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def status_counts(user_id: str) -> dict[str, int]:
    """How many of the user's orders are in each status (a Query of the user's partition projecting the status)."""
    pages = aws.query_pages(
        TableName=aws.table_name("orders"),
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ProjectionExpression="#s",
        ExpressionAttributeNames={"#s": "status"},
    )
    counts = Counter(item["status"]["S"] for page in pages for item in page.get("Items", []) if "status" in item)
    return dict(sorted(counts.items()))
