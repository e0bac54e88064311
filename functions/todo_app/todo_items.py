"""Items of the DynamoDB todos table: their layout and JSON view, shared by the todos and dashboard functions.

Item: userId (hash), todoId (range, time-ordered: newest first with ScanIndexForward=False),
statusKey "<status>#<todoId>" (the range key of catalog.TODOS_BY_STATUS), title, description?, status, dueDate? (YYYY-MM-DD,
so string comparison is date comparison), priority, createdAt, updatedAt. Optional values are left
out of the item rather than stored as null.
"""

from __future__ import annotations

from typing import Any


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
