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

from typing import Any

import psycopg

from todo_app import aws, catalog, db, http_api, ids
from todo_app.models import TodoCreate, TodoUpdate
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import now_iso
from todo_app.todo_items import status_key, status_prefix, todo_json

router = http_api.Router("todos")
app = router.app


def _table() -> str:
    return aws.table_name("todos")


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
            row = conn.execute("SELECT 1 FROM users WHERE id = %s AND deleted_at IS NULL FOR SHARE", (userId,)).fetchone()
            if row is None:
                return False
            dynamodb = aws.client("dynamodb")
            try:
                dynamodb.put_item(TableName=_table(), Item=aws.to_item(item), ConditionExpression="attribute_not_exists(todoId)")
            except dynamodb.exceptions.ConditionalCheckFailedException:
                pass  # the first attempt's item
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
    args = {"TableName": _table(), "Limit": limit, "ScanIndexForward": False}
    if status is None:
        expected = {"userId", "todoId"}
        args["KeyConditionExpression"] = "userId = :u"
        args["ExpressionAttributeValues"] = {":u": {"S": userId}}
    else:
        expected = {"userId", "todoId", "statusKey"}
        args["IndexName"] = catalog.TODOS_BY_STATUS.name
        args["KeyConditionExpression"] = "userId = :u AND begins_with(statusKey, :s)"
        args["ExpressionAttributeValues"] = {":u": {"S": userId}, ":s": {"S": status_prefix(status)}}
    cursor = http_api.decode_cursor(app, expected)
    if cursor is not None:
        if cursor["userId"] != userId or not ids.is_id(cursor["todoId"]):
            raise http_api.bad_request("cursor", "is not a cursor this API returned")
        if status is not None and cursor["statusKey"] != status_key(status, cursor["todoId"]):
            raise http_api.bad_request("cursor", "is not a cursor this API returned")
        args["ExclusiveStartKey"] = {k: {"S": v} for k, v in cursor.items()}
    page = aws.client("dynamodb").query(**args)
    items = [todo_json(aws.from_item(i)) for i in page.get("Items", [])]
    last = page.get("LastEvaluatedKey")
    next_cursor = http_api.encode_cursor({k: v["S"] for k, v in last.items()}) if last else None
    return http_api.json_response(200, {"items": items, "nextCursor": next_cursor})


def _missing(todo_id: str) -> http_api.ApiError:
    """Absent from the caller's partition: someone else's (403) or unknown (404)?"""
    found = aws.client("dynamodb").query(
        TableName=_table(),
        IndexName=catalog.TODOS_BY_TODO_ID.name,
        KeyConditionExpression="todoId = :t",
        ExpressionAttributeValues={":t": {"S": todo_id}},
        Limit=1,
    )
    return http_api.forbidden("This todo belongs to someone else") if found.get("Items") else http_api.not_found("todo")


def _key(caller: str, todo_id: str) -> dict[str, Any]:
    return {"userId": {"S": caller}, "todoId": {"S": todo_id}}


@router.operation
def get_todo(todoId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(todoId):
        raise http_api.not_found("todo")
    item = aws.client("dynamodb").get_item(TableName=_table(), Key=_key(caller, todoId)).get("Item")
    if not item:
        raise _missing(todoId)
    return http_api.json_response(200, todo_json(aws.from_item(item)))


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
    if "status" in sets:
        sets["statusKey"] = status_key(sets["status"], todoId)
    names = {f"#{k}": k for k in [*sets, *removes]}
    expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
    if removes:
        expression += " REMOVE " + ", ".join(f"#{k}" for k in removes)
    dynamodb = aws.client("dynamodb")
    try:
        result = dynamodb.update_item(
            TableName=_table(),
            Key=_key(caller, todoId),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(todoId)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=aws.to_item({f":{k}": v for k, v in sets.items()}),
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise _missing(todoId) from None
    return http_api.json_response(200, todo_json(aws.from_item(result["Attributes"])))


@router.operation
def delete_todo(todoId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(todoId):
        raise http_api.not_found("todo")
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.delete_item(TableName=_table(), Key=_key(caller, todoId), ConditionExpression="attribute_exists(todoId)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        raise _missing(todoId) from None
    return http_api.no_content()


handler = router.lambda_handler()
