"""GET /dashboard/{userId} (self): one view of a user.

{"user": profile (PostgreSQL; absent or being deleted → 404),
 "todos": {"counts": {"open": n, "done": n}, "overdue": n, "recent": [5 newest todos]},
 "orders": {"counts": {"CONFIRMED": n, ...}}}

Queries on the status index (catalog.TODOS_BY_STATUS), paged until done: the open todos projecting only
their dueDate give the open count and the overdue ones (dueDate < today, UTC) in one read; the done ones
are a Select=COUNT. Orders are a Query of the user's partition projecting only the status. The four
DynamoDB reads run at once (todo_app.pool) while the profile is read from PostgreSQL: the request waits
for about one round trip instead of four.

Env: TODOS_TABLE, ORDERS_TABLE, DB_*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from todo_app import aws, catalog, db, http_api, user_rows
from todo_app.pool import pool
from todo_app.todo_items import status_prefix, todo_json

router = http_api.Router("dashboard")
app = router.app


def _pages(**args: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = aws.client("dynamodb").query(**args)
        yield page
        if not page.get("LastEvaluatedKey"):
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _by_status(user_id: str, status: str, **args: Any) -> Iterator[dict[str, Any]]:
    return _pages(
        TableName=aws.table_name("todos"),
        IndexName=catalog.TODOS_BY_STATUS.name,
        KeyConditionExpression="userId = :u AND begins_with(statusKey, :s)",
        ExpressionAttributeValues={":u": {"S": user_id}, ":s": {"S": status_prefix(status)}},
        **args,
    )


def _open_and_overdue(user_id: str) -> tuple[int, int]:
    today = datetime.now(UTC).date().isoformat()
    dues = [i.get("dueDate", {}).get("S") for p in _by_status(user_id, "open", ProjectionExpression="dueDate") for i in p["Items"]]
    return len(dues), sum(1 for due in dues if due and due < today)


def _done(user_id: str) -> int:
    return sum(int(page.get("Count", 0)) for page in _by_status(user_id, "done", Select="COUNT"))


def _recent(user_id: str) -> list[dict[str, Any]]:
    recent = aws.client("dynamodb").query(
        TableName=aws.table_name("todos"),
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ScanIndexForward=False,
        Limit=5,
    )
    return [todo_json(aws.from_item(i)) for i in recent.get("Items", [])]


def _order_counts(user_id: str) -> dict[str, int]:
    pages = _pages(
        TableName=aws.table_name("orders"),
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ProjectionExpression="#s",
        ExpressionAttributeNames={"#s": "status"},
    )
    counts = Counter(item["status"]["S"] for page in pages for item in page.get("Items", []) if "status" in item)
    return dict(sorted(counts.items()))


@router.operation
def get_dashboard(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    aws.client("dynamodb")  # made here, not raced for by the pool's threads
    threads = pool()
    open_overdue, done = threads.submit(_open_and_overdue, userId), threads.submit(_done, userId)
    recent, orders = threads.submit(_recent, userId), threads.submit(_order_counts, userId)
    row = db.run(lambda conn: user_rows.get_active_user(conn, userId))
    if row is None:
        raise http_api.not_found("user")
    open_count, overdue = open_overdue.result()
    todos = {"counts": {"open": open_count, "done": done.result()}, "overdue": overdue, "recent": recent.result()}
    return http_api.json_response(200, {"user": user_rows.user_json(row), "todos": todos, "orders": {"counts": orders.result()}})


handler = router.lambda_handler()
