"""GET /dashboard/{userId} (self): one view of a user.

{"user": profile (PostgreSQL; absent or being deleted → 404),
 "todos": {"counts": {"open": n, "done": n}, "overdue": n, "recent": [5 newest todos]},
 "orders": {"counts": {"CONFIRMED": n, ...}}}

Counts are Select=COUNT Queries on the status index (catalog.TODOS_BY_STATUS) (paged until done); overdue = open todos with
dueDate < today (UTC); orders are a Query of the user's partition projecting only the status.

Env: TODOS_TABLE, ORDERS_TABLE, DB_*.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from todo_app import aws, catalog, db, http_api, user_rows
from todo_app.todo_items import status_prefix, todo_json

router = http_api.Router("dashboard")
app = router.app
STATUSES = ("open", "done")


def _count(**args: Any) -> int:
    total, start = 0, None
    while True:
        if start:
            args["ExclusiveStartKey"] = start
        page = aws.client("dynamodb").query(Select="COUNT", **args)
        total += int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def _todo_summary(user_id: str) -> dict[str, Any]:
    table = aws.table_name("todos")
    counts = {
        status: _count(
            TableName=table,
            IndexName=catalog.TODOS_BY_STATUS.name,
            KeyConditionExpression="userId = :u AND begins_with(statusKey, :s)",
            ExpressionAttributeValues={":u": {"S": user_id}, ":s": {"S": status_prefix(status)}},
        )
        for status in STATUSES
    }
    today = datetime.now(UTC).date().isoformat()
    overdue = _count(
        TableName=table,
        IndexName=catalog.TODOS_BY_STATUS.name,
        KeyConditionExpression="userId = :u AND begins_with(statusKey, :s)",
        FilterExpression="dueDate < :today",
        ExpressionAttributeValues={":u": {"S": user_id}, ":s": {"S": status_prefix("open")}, ":today": {"S": today}},
    )
    recent = aws.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ScanIndexForward=False,
        Limit=5,
    )
    return {"counts": counts, "overdue": overdue, "recent": [todo_json(aws.from_item(i)) for i in recent.get("Items", [])]}


def _order_summary(user_id: str) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    start = None
    while True:
        args: dict[str, Any] = {
            "TableName": aws.table_name("orders"),
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ProjectionExpression": "#s",
            "ExpressionAttributeNames": {"#s": "status"},
        }
        if start:
            args["ExclusiveStartKey"] = start
        page = aws.client("dynamodb").query(**args)
        counts.update(item["status"]["S"] for item in page.get("Items", []) if "status" in item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return {"counts": dict(sorted(counts.items()))}


@router.operation
def get_dashboard(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    row = db.run(lambda conn: user_rows.get_active_user(conn, userId))
    if row is None:
        raise http_api.not_found("user")
    return http_api.json_response(200, {"user": user_rows.user_json(row), "todos": _todo_summary(userId), "orders": _order_summary(userId)})


handler = router.lambda_handler()
