"""Handlers validate and decide; a repository module per store does the persistence (users in PostgreSQL:
user_rows; todos, sessions and orders in DynamoDB: todo_items, session_items, order_items). No handler runs
SQL or builds a DynamoDB request itself (the repositories are tested against real PostgreSQL and moto through
the handlers, tests/functions)."""

from __future__ import annotations

import ast

from components.config import ROOT

HANDLERS = ROOT / "functions" / "todo_app" / "handlers"
STORE_CALLS = {"execute", "get_item", "put_item", "query", "update_item", "delete_item", "batch_get_item", "batch_write_item", "scan"}


def persistence_in(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STORE_CALLS:
            found.append(f"line {node.lineno}: .{node.func.attr}(...)")
        if isinstance(node, ast.keyword) and node.arg and node.arg.endswith("Expression"):
            found.append(f"line {node.value.lineno}: {node.arg}=")
    return found


def test_no_handler_does_persistence_itself():
    found = {path.name: persistence_in(path.read_text()) for path in sorted(HANDLERS.glob("*.py"))}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_check_finds_persistence():
    assert persistence_in('conn.execute("SELECT 1")') == ["line 1: .execute(...)"]
    assert persistence_in("d.update_item(Key=k, UpdateExpression=e)") == ["line 1: .update_item(...)", "line 1: UpdateExpression="]
