"""Least privilege: the handlers connect as the application role (catalog.APP_DB_USER), which has DML on the
application's tables and nothing else: no DDL, no TRUNCATE, no role management, no bookkeeping writes."""

import psycopg
import pytest

from todo_app import catalog, db


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "CREATE SCHEMA intruder",
        "CREATE TEMPORARY TABLE intruder (id int)",
        "ALTER TABLE users ADD COLUMN intruder int",
        "ALTER TABLE users OWNER TO todo_app",
        "DROP TABLE users",
        "TRUNCATE users",
        "CREATE INDEX intruder ON users (name)",
        "CREATE ROLE intruder LOGIN",
        "ALTER ROLE todo_app CREATEROLE",
        "GRANT rds_iam TO todo_app",
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ('9999', 'x', 'x')",
        "UPDATE schema_migrations SET checksum = 'x'",
        "DELETE FROM schema_migrations",
        "SELECT * FROM schema_migrations",
        "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
    ],
)
def test_the_application_role_cannot(stack, statement):
    with stack.app() as conn:
        assert conn.execute("SELECT current_user").fetchone() == (catalog.APP_DB_USER,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_application_role_has_dml_on_the_application_tables(stack):
    with stack.app() as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "INSERT INTO users (id, email, email_key, name, password_hash) VALUES (gen_random_uuid(), 'a@x.io', 'a@x.io', 'a', 'h')"
        )
        assert conn.execute("UPDATE users SET name = 'b'").rowcount == 1
        assert conn.execute("SELECT name FROM users").fetchall() == [("b",)]
        assert conn.execute("DELETE FROM users").rowcount == 1


def test_the_handlers_work_as_the_application_role(api, stack):
    ada, token = api.user_with_token("ada@example.com")
    assert db.connection()[0].execute("SELECT current_user").fetchone() == (catalog.APP_DB_USER,)
    assert api.put(f"/users/{ada['id']}", token=token, json_body={"name": "Ada L."}).status == 200
    assert api.get(f"/dashboard/{ada['id']}", token=token).status == 200
    assert api.get("/users", token=token).status == 200
    assert api.post(f"/users/{ada['id']}/todos", token=token, json_body={"title": "t"}).status == 201
    assert api.delete(f"/users/{ada['id']}", token=token).status == 204
