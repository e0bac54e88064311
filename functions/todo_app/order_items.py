"""Items of the DynamoDB orders table: their layout and JSON view (orders and worker functions).

Item: userId (hash), orderId (range, time-ordered), status ("CONFIRMED" once the worker stored it),
amount (a DynamoDB number, 2 decimals), currency, items [{sku, quantity}], createdAt, processedAt.
JSON shows the amount as a string with exactly 2 decimals ("12.50"), so no client parses money as
a float.
"""

from __future__ import annotations

from typing import Any

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
