"""The todos repository: every read and write of the DynamoDB todos table, the items' layout and JSON view
(the todos, users and dashboard handlers call these; none builds a DynamoDB expression itself).

Item: userId (hash), todoId (range, time-ordered: newest first with ScanIndexForward=False),
statusKey "<status>#<todoId>" (the range key of catalog.TODOS_BY_STATUS), title, description?, status, dueDate? (YYYY-MM-DD,
so string comparison is date comparison), priority, createdAt, updatedAt. Optional values are left
out of the item rather than stored as null.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from todo_app import aws, catalog


def status_prefix(status: str) -> str:
    """What every statusKey of that status begins with: a Query's begins_with() condition on the status index."""
    return f"{status}#"


def status_key(status: str, todo_id: str) -> str:
    return status_prefix(status) + todo_id


def todo_json(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["todoId"],
        "userId": item["userId"],
        "title": item["title"],
        "description": item.get("description"),
        "status": item["status"],
        "dueDate": item.get("dueDate"),
        "priority": item["priority"],
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
    }


def _table() -> str:
    return aws.table_name("todos")


def _key(user_id: str, todo_id: str) -> dict[str, Any]:
    return {"userId": {"S": user_id}, "todoId": {"S": todo_id}}


def put_new(item: dict[str, Any]) -> None:
    """Store a new todo; a repeat of the same put (a retried unit of work, same id) is a no-op."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.put_item(TableName=_table(), Item=aws.to_item(item), ConditionExpression="attribute_not_exists(todoId)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # the first attempt's item


def page_key_names(status: str | None) -> set[str]:
    """The attributes of a page's last key: the table's, plus statusKey when the status index is queried."""
    return {"userId", "todoId"} if status is None else {"userId", "todoId", "statusKey"}


def query_page(
    user_id: str, status: str | None, limit: int, start: dict[str, str] | None
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """A user's todos, newest first (of one status: the status index), up to `limit` after the key `start`;
    and the key to continue from (None on the last page)."""
    args: dict[str, Any] = {"TableName": _table(), "Limit": limit, "ScanIndexForward": False}
    if status is None:
        args["KeyConditionExpression"] = "userId = :u"
        args["ExpressionAttributeValues"] = {":u": {"S": user_id}}
    else:
        args["IndexName"] = catalog.TODOS_BY_STATUS.name
        args["KeyConditionExpression"] = "userId = :u AND begins_with(statusKey, :s)"
        args["ExpressionAttributeValues"] = {":u": {"S": user_id}, ":s": {"S": status_prefix(status)}}
    if start is not None:
        args["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
    page = aws.client("dynamodb").query(**args)
    last = page.get("LastEvaluatedKey")
    return [aws.from_item(i) for i in page.get("Items", [])], ({k: v["S"] for k, v in last.items()} if last else None)


def exists(todo_id: str) -> bool:
    """Whether any user has a todo with this id (the todo-id index): someone else's, when not the caller's."""
    found = aws.client("dynamodb").query(
        TableName=_table(),
        IndexName=catalog.TODOS_BY_TODO_ID.name,
        KeyConditionExpression="todoId = :t",
        ExpressionAttributeValues={":t": {"S": todo_id}},
        Limit=1,
    )
    return bool(found.get("Items"))


def get(user_id: str, todo_id: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(TableName=_table(), Key=_key(user_id, todo_id)).get("Item")
    return aws.from_item(item) if item else None


def update(user_id: str, todo_id: str, sets: dict[str, Any], removes: list[str]) -> dict[str, Any] | None:
    """Set and remove attributes of the user's todo (statusKey follows status); the new item, None when absent."""
    sets = dict(sets)
    if "status" in sets:
        sets["statusKey"] = status_key(sets["status"], todo_id)
    names = {f"#{k}": k for k in [*sets, *removes]}
    expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
    if removes:
        expression += " REMOVE " + ", ".join(f"#{k}" for k in removes)
    dynamodb = aws.client("dynamodb")
    try:
        result = dynamodb.update_item(
            TableName=_table(),
            Key=_key(user_id, todo_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(todoId)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=aws.to_item({f":{k}": v for k, v in sets.items()}),
            ReturnValues="ALL_NEW",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    return aws.from_item(result["Attributes"])


def delete(user_id: str, todo_id: str) -> bool:
    """Delete the user's todo; False when absent."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.delete_item(TableName=_table(), Key=_key(user_id, todo_id), ConditionExpression="attribute_exists(todoId)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def delete_all(user_id: str) -> int:
    """Every todo of the user, page by page; how many."""
    dynamodb, table, deleted, start = aws.client("dynamodb"), _table(), 0, None
    while True:
        args = {
            "TableName": table,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ProjectionExpression": "userId, todoId",
        }
        if start:
            args["ExclusiveStartKey"] = start
        page = dynamodb.query(**args)
        keys = page.get("Items", [])
        aws.batch_delete(table, keys)
        deleted += len(keys)
        start = page.get("LastEvaluatedKey")
        if not start:
            return deleted


def _by_status(user_id: str, status: str, **args: Any) -> Iterator[dict[str, Any]]:
    return aws.query_pages(
        TableName=_table(),
        IndexName=catalog.TODOS_BY_STATUS.name,
        KeyConditionExpression="userId = :u AND begins_with(statusKey, :s)",
        ExpressionAttributeValues={":u": {"S": user_id}, ":s": {"S": status_prefix(status)}},
        **args,
    )


def open_and_overdue(user_id: str, today: str) -> tuple[int, int]:
    """The user's open todos, and how many of them are due before `today` (YYYY-MM-DD): one read of the status
    index projecting only the due date."""
    dues = [i.get("dueDate", {}).get("S") for p in _by_status(user_id, "open", ProjectionExpression="dueDate") for i in p["Items"]]
    return len(dues), sum(1 for due in dues if due and due < today)


def done_count(user_id: str) -> int:
    """The user's done todos (Select=COUNT on the status index)."""
    return sum(int(page.get("Count", 0)) for page in _by_status(user_id, "done", Select="COUNT"))


def newest(user_id: str, limit: int) -> list[dict[str, Any]]:
    """The user's `limit` newest todos."""
    recent = aws.client("dynamodb").query(
        TableName=_table(),
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [aws.from_item(i) for i in recent.get("Items", [])]
