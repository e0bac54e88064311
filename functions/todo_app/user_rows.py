"""The users repository: every statement on the PostgreSQL `users` table, the columns the API shows and
their JSON view. The users, sessions, todos and dashboard handlers call these; none writes SQL itself.

Each function takes an open connection (the handlers run it through `db.run`, which may retry a unit of
work on a stale connection: each is safe to repeat). A user whose row carries `deleted_at` (a deletion in
progress) is absent for every reader.
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


def find_credentials(conn: psycopg.Connection, user_id: str) -> dict[str, Any] | None:
    """The e-mail key and password hash of the active user, for a re-authentication."""
    if not is_uuid(user_id):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT email_key, password_hash FROM users WHERE id = %s AND deleted_at IS NULL", (user_id,))
        return cur.fetchone()


def insert_user(
    conn: psycopg.Connection, user_id: str, name: str, email: str, email_key: str, age: int | None, password_hash: str
) -> UserRow | None:
    """A new user; None when the e-mail's key is taken by someone else.

    Safe to repeat (a connection dropped after the commit): the id is fixed by the caller, a conflict inserts
    nothing, and the row is then read back by that id. Found: this sign-up created it (now or in the first
    attempt); absent: the e-mail belongs to someone else."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"""INSERT INTO users (id, name, email, email_key, age, password_hash) VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}""",
            (user_id, name, email, email_key, age, password_hash),
        )
        return cur.fetchone() or get_active_user(conn, user_id)


def list_page(conn: psycopg.Connection, after_id: str | None, limit: int) -> list[UserRow]:
    """Up to `limit` active users (id and name only: nothing private), in id order, after `after_id`."""
    with conn.cursor(row_factory=dict_row) as cur:
        if after_id is None:
            cur.execute("SELECT id, name FROM users WHERE deleted_at IS NULL ORDER BY id LIMIT %s", (limit,))
        else:
            cur.execute("SELECT id, name FROM users WHERE deleted_at IS NULL AND id > %s ORDER BY id LIMIT %s", (after_id, limit))
        return cur.fetchall()


UPDATABLE = ("name", "email", "email_key", "age")


def update_user(conn: psycopg.Connection, user_id: str, fields: dict[str, Any]) -> UserRow | None:
    """Set `fields` (of UPDATABLE) on the active user; None when absent. A taken e-mail raises UniqueViolation."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown or not fields:
        raise ValueError(f"not updatable: {sorted(unknown) or 'nothing given'}")
    assignments = ", ".join(f"{name} = %s" for name in fields)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"UPDATE users SET {assignments}, updated_at = now() WHERE id = %s AND deleted_at IS NULL RETURNING {USER_COLUMNS}",
            (*fields.values(), user_id),
        )
        return cur.fetchone()


def lock_active_user(conn: psycopg.Connection, user_id: str) -> bool:
    """In the caller's transaction, a share lock on the active user's row (a deletion's tombstone waits for it);
    False when the user is absent or being deleted."""
    return conn.execute("SELECT 1 FROM users WHERE id = %s AND deleted_at IS NULL FOR SHARE", (user_id,)).fetchone() is not None


def tombstone_user(conn: psycopg.Connection, user_id: str) -> bool:
    """Mark the user as being deleted (kept if already marked); False when the row is gone."""
    return (
        conn.execute("UPDATE users SET deleted_at = coalesce(deleted_at, now()) WHERE id = %s RETURNING id", (user_id,)).fetchone()
        is not None
    )


def delete_tombstoned_user(conn: psycopg.Connection, user_id: str) -> None:
    """Delete the user's row, only once it is marked as being deleted."""
    conn.execute("DELETE FROM users WHERE id = %s AND deleted_at IS NOT NULL", (user_id,))


def ping(conn: psycopg.Connection) -> None:
    """A round trip on the connection (GET /health where a connection may be opened)."""
    conn.execute("SELECT 1").fetchone()


def set_password_hash(conn: psycopg.Connection, user_id: str, password_hash: str) -> str | None:
    """A new password for the active user; the user's e-mail address, or None when the user is absent or being
    deleted."""
    row = conn.execute(
        "UPDATE users SET password_hash = %s, updated_at = now() WHERE id = %s AND deleted_at IS NULL RETURNING email",
        (password_hash, user_id),
    ).fetchone()
    return str(row[0]) if row else None
