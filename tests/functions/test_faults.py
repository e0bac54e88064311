"""Dependencies failing: PostgreSQL stopped and restarted, the database password rotated."""

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from local.postgres import PostgresServer
from todo_app import db, migrator

from .conftest import APP_PASSWORD, APP_ROLE


@pytest.fixture
def own_pg(stack, monkeypatch):
    """A PostgreSQL server for this test alone, so it can be stopped; the functions point at it.

    Its data lives in a private temporary directory (not pytest's tmp_path, whose retention cleanup
    is shared with other pytest sessions on the machine), kept across the stop and the restart.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="todo-fntest-pg-"))
    server = PostgresServer.start(data_dir=data_dir)
    state = {"server": server}
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")
        conn.execute(f"CREATE DATABASE todo OWNER {APP_ROLE}")
    with psycopg.connect(host=server.host, port=server.port, user=APP_ROLE, password=APP_PASSWORD, dbname="todo", autocommit=True) as conn:
        migrator.migrate(conn)
    db.reset()
    monkeypatch.setenv("DB_PORT", str(server.port))
    monkeypatch.setenv("DB_NAME", "todo")

    def restart():
        state["server"] = PostgresServer.start(data_dir=data_dir, port=server.port)

    state["restart"] = restart
    yield state
    db.reset()
    state["server"].stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_postgres_down_then_back(api, stack, own_pg):
    ada, token = api.user_with_token("ada@example.com")
    todo = api.post(f"/users/{ada['id']}/todos", token=token, json_body={"title": "survive"}).body
    assert api.get("/health").status == 200

    own_pg["server"].stop()

    health = api.get("/health")
    assert health.status == 503
    assert health.body["checks"] == {"postgres": "unavailable", "dynamodb": "ok"}
    assert health.body["error"]["details"] == [{"check": "postgres", "message": "postgres is unavailable"}]
    # DynamoDB-only routes keep working
    assert api.get(f"/todos/{todo['id']}", token=token).body["title"] == "survive"
    assert [t["id"] for t in api.get(f"/users/{ada['id']}/todos", token=token).body["items"]] == [todo["id"]]
    assert api.put(f"/todos/{todo['id']}", token=token, json_body={"status": "done"}).status == 200
    order = api.post("/orders", token=token, json_body={"amount": 1, "currency": "EUR"})
    assert order.status == 202
    from .test_orders import deliver

    deliver(stack)
    assert api.get(f"/orders/{order.body['orderId']}", token=token).body["status"] == "CONFIRMED"
    # routes that need PostgreSQL answer 503, never a stack trace, and write nothing
    for reply in (
        api.get(f"/users/{ada['id']}", token=token),
        api.post(f"/users/{ada['id']}/todos", token=token, json_body={"title": "lost?"}),
        api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}),
    ):
        assert reply.status == 503
        assert reply.error["code"] == "dependency_unavailable" and reply.error["details"] == [{"dependency": "postgres"}]
    assert len(stack.scan("todos")) == 1

    own_pg["restart"]()
    assert api.get("/health").status == 200
    assert api.get(f"/users/{ada['id']}", token=token).status == 200


def test_stale_connection_after_a_restart_is_replaced_transparently(api, own_pg):
    ada, token = api.user_with_token("ada@example.com")
    assert api.get(f"/users/{ada['id']}", token=token).status == 200  # the users function has a warm connection
    conn_before, _ = db.connection()
    own_pg["server"].stop()
    own_pg["restart"]()
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    conn_after, _ = db.connection()
    assert conn_after is not conn_before and conn_before.closed


def test_secret_is_read_again_when_the_password_changes(api, stack, monkeypatch):
    ada, token = api.user_with_token("ada@example.com")
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    secrets_read = []
    real_read = db._read_secret
    monkeypatch.setattr(db, "_read_secret", lambda: secrets_read.append(1) or real_read())
    stack.set_app_password("rotated-password", update_secret=True)
    db.reset_connection()  # a new connection (cold path) with the cached, now stale, secret
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert secrets_read == [1]
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert secrets_read == [1]  # cached again

    stack.set_app_password("not-in-the-secret", update_secret=False)
    db.reset_connection()
    reply = api.get(f"/users/{ada['id']}", token=token)
    assert reply.status == 503 and reply.error["details"] == [{"dependency": "postgres"}]
