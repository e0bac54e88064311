"""Todos (DynamoDB); creation also checks the owner in PostgreSQL.

- POST /users/{userId}/todos (self): in ONE PostgreSQL transaction, `SELECT ... FOR SHARE` on the
  user row (missing or being deleted → 404, nothing written), the DynamoDB PutItem, then COMMIT: a
  creation cannot interleave with a deletion's tombstone, so no todo is left orphaned. 201 todo.
- GET /users/{userId}/todos (self): a Query, newest first; `status` open|done queries the status
  index (catalog.TODOS_BY_STATUS); `limit` 1..100 (default 20), `cursor` opaque (base64url of the last key). 200 {items,
  nextCursor}. DynamoDB only.
- GET/PUT/DELETE /todos/{todoId} (owner): the caller's item by key; if absent, the todo-id index
  (catalog.TODOS_BY_TODO_ID) tells someone else's (403) from unknown (404). PUT takes at least one field and keeps statusKey in
  sync; null description/dueDate removes them. DynamoDB only: these work while PostgreSQL is down.

Env: TODOS_TABLE, DB_*.
"""

from __future__ import annotations

import psycopg

from todo_app import db, http_api, ids, todo_items, user_rows
from todo_app.models import TodoCreate, TodoUpdate
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import now_iso
from todo_app.todo_items import status_key, todo_json

router = http_api.Router("todos")
app = router.app


@router.operation
def create_todo(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    body = http_api.parse(app, TodoCreate)
    todo_id, now = ids.new_id(), now_iso()
    item = {
        "userId": userId,
        "todoId": todo_id,
        "statusKey": status_key("open", todo_id),
        "title": body.title,
        "status": "open",
        "priority": body.priority,
        "createdAt": now,
        "updatedAt": now,
    }
    if body.description is not None:
        item["description"] = body.description
    if body.dueDate is not None:
        item["dueDate"] = body.dueDate

    def create(conn: psycopg.Connection) -> bool:
        # Safe to run twice (db.run retries on a stale connection): the id is fixed outside, and a
        # repeated PutItem of the same item is caught by its condition.
        with conn.transaction():
            if not user_rows.lock_active_user(conn, userId):
                return False
            todo_items.put_new(item)
            return True

    if not db.run(create):
        raise http_api.not_found("user")
    metrics.add_metric(name="TodosCreated", unit=MetricUnit.Count, value=1)
    return http_api.json_response(201, todo_json(item))


@router.operation
def list_todos(userId: str) -> http_api.HttpResponse:
    http_api.require_self(app, userId)
    status = http_api.query_param(app, "status")
    if status is not None and status not in ("open", "done"):
        raise http_api.bad_request("status", "must be open or done")
    limit = http_api.limit_param(app)
    cursor = http_api.decode_cursor(app, todo_items.page_key_names(status))
    if cursor is not None:
        if cursor["userId"] != userId or not ids.is_id(cursor["todoId"]):
            raise http_api.bad_request("cursor", "is not a cursor this API returned")
        if status is not None and cursor["statusKey"] != status_key(status, cursor["todoId"]):
            raise http_api.bad_request("cursor", "is not a cursor this API returned")
    items, last = todo_items.query_page(userId, status, limit, cursor)
    next_cursor = http_api.encode_cursor(last) if last else None
    return http_api.json_response(200, {"items": [todo_json(i) for i in items], "nextCursor": next_cursor})


def _missing(todo_id: str) -> http_api.ApiError:
    """Absent from the caller's partition: someone else's (403) or unknown (404)?"""
    return http_api.forbidden("This todo belongs to someone else") if todo_items.exists(todo_id) else http_api.not_found("todo")


@router.operation
def get_todo(todoId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(todoId):
        raise http_api.not_found("todo")
    item = todo_items.get(caller, todoId)
    if item is None:
        raise _missing(todoId)
    return http_api.json_response(200, todo_json(item))


@router.operation
def update_todo(todoId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(todoId):
        raise http_api.not_found("todo")
    body = http_api.parse(app, TodoUpdate)
    sets, removes = {"updatedAt": now_iso()}, []
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            removes.append(name)  # description or dueDate: null removes it
        else:
            sets[name] = value
    item = todo_items.update(caller, todoId, sets, removes)
    if item is None:
        raise _missing(todoId)
    return http_api.json_response(200, todo_json(item))


@router.operation
def delete_todo(todoId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(todoId):
        raise http_api.not_found("todo")
    if not todo_items.delete(caller, todoId):
        raise _missing(todoId)
    return http_api.no_content()


handler = router.lambda_handler()
