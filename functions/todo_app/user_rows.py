"""Rows of the PostgreSQL `users` table: the columns the API shows, the JSON view, and the queries
the users, sessions and dashboard functions share.

A user whose row carries `deleted_at` (a deletion in progress) is absent for every reader.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.rows import dict_row

from todo_app.timeutil import iso

USER_COLUMNS = "id, name, email, age, created_at, updated_at"
UserRow = dict[str, Any]  # a row of USER_COLUMNS, by column name


def user_json(row: UserRow) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "email": row["email"],
        "age": row["age"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


# a UUID in its canonical form, either case (what str(uuid.UUID(value)) == value.lower() accepts, in a
# third of the time)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_uuid(value: str) -> bool:
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


_ACTIVE_USER = f"SELECT {USER_COLUMNS} FROM users WHERE id = %s AND deleted_at IS NULL"


def get_active_user(conn: psycopg.Connection, user_id: str) -> UserRow | None:
    if not is_uuid(user_id):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_ACTIVE_USER, (user_id,))
        return cur.fetchone()


def find_login(conn: psycopg.Connection, email_key: str) -> dict[str, Any] | None:
    """The id and password hash of the active user whose e-mail has that key (models.email_key)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT id, password_hash FROM users WHERE email_key = %s AND deleted_at IS NULL", (email_key,))
        return cur.fetchone()
