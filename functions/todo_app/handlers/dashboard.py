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

from datetime import UTC, datetime
from typing import Any

from todo_app import aws, db, http_api, order_items, todo_items, user_rows
from todo_app.pool import pool

router = http_api.Router("dashboard")
app = router.app


def _open_and_overdue(user_id: str) -> tuple[int, int]:
    return todo_items.open_and_overdue(user_id, datetime.now(UTC).date().isoformat())


def _recent(user_id: str) -> list[dict[str, Any]]:
    return [todo_items.todo_json(item) for item in todo_items.newest(user_id, 5)]


@router.operation
def get_dashboard(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    aws.client("dynamodb")  # made here, not raced for by the pool's threads
    threads = pool()
    open_overdue, done = threads.submit(_open_and_overdue, userId), threads.submit(todo_items.done_count, userId)
    recent, orders = threads.submit(_recent, userId), threads.submit(order_items.status_counts, userId)
    row = db.run(lambda conn: user_rows.get_active_user(conn, userId))
    if row is None:
        raise http_api.not_found("user")
    open_count, overdue = open_overdue.result()
    todos = {"counts": {"open": open_count, "done": done.result()}, "overdue": overdue, "recent": recent.result()}
    return http_api.json_response(200, {"user": user_rows.user_json(row), "todos": todos, "orders": {"counts": orders.result()}})


handler = router.lambda_handler()
