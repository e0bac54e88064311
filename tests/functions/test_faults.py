"""Dependencies failing: PostgreSQL stopped and restarted; IAM tokens cached, re-signed when refused; idle connections."""

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from local.postgres_server import PostgresServer, give_database
from todo_app import db, migrator

from .conftest import MIGRATOR_ROLE, migrator_connection, prepare_roles


@pytest.fixture
def own_pg(stack, monkeypatch):
    """A PostgreSQL server for this test alone, so it can be stopped; the functions point at it.

    Its data lives in a private temporary directory (not pytest's tmp_path, whose retention cleanup
    is shared with other pytest sessions on the machine), kept across the stop and the restart.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="todo-fntest-pg-"))
    server = PostgresServer.start(data_dir=data_dir)
    state = {"server": server}
    try:
        prepare_roles(server)
        give_database(server, "todo", MIGRATOR_ROLE)
        with migrator_connection(server, "todo") as conn:
            migrator.migrate(conn)
        db.reset()
        monkeypatch.setenv("DB_PORT", str(server.port))
        monkeypatch.setenv("DB_NAME", "todo")

        def restart():
            state["server"] = PostgresServer.start(data_dir=data_dir, port=server.port)

        state["restart"] = restart
        yield state
    finally:  # stopped even when the set-up fails
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


class FakeSigner:
    """Stands in for the rds client's generate_db_auth_token: hands out `tokens` in turn, records each call."""

    def __init__(self, *tokens: str) -> None:
        self.tokens, self.calls = list(tokens), []

    def generate_db_auth_token(self, **kwargs):
        self.calls.append(kwargs)
        return self.tokens[min(len(self.calls), len(self.tokens)) - 1]


def use_iam(monkeypatch, signer: FakeSigner) -> None:
    monkeypatch.setenv("DB_AUTH", "iam")
    monkeypatch.delenv("DB_PASSWORD")
    real_client = db.aws.client
    monkeypatch.setattr(db.aws, "client", lambda service: signer if service == "rds" else real_client(service))
    db.reset()


def test_iam_tokens_are_cached_and_a_refused_one_is_signed_again(api, stack, monkeypatch):
    ada, token = api.user_with_token("ada@example.com")
    stack.set_app_password("token-1")  # the database accepts what IAM would
    signer = FakeSigner("token-1")
    use_iam(monkeypatch, signer)
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert signer.calls == [{"DBHostname": stack.pg.host, "Port": stack.pg.port, "DBUsername": "todo_app", "Region": "us-east-1"}]
    db.reset_connection()  # a new connection within the token's reuse period: no new token
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert len(signer.calls) == 1

    # the database refuses the cached token (e.g. the credentials that signed it expired): a fresh one, once
    signer.tokens = ["token-1", "token-2"]
    stack.set_app_password("token-2")
    db.reset_connection()
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert len(signer.calls) == 2

    # after the reuse period (here: none), a new connection signs a new token
    with monkeypatch.context() as later:
        later.setattr(db, "TOKEN_REUSE_SECONDS", 0)
        db.reset_connection()
        assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert len(signer.calls) == 3

    # refused twice: 503, never a loop
    stack.set_app_password("something-else")
    db.reset_connection()
    reply = api.get(f"/users/{ada['id']}", token=token)
    assert reply.status == 503 and reply.error["details"] == [{"dependency": "postgres"}]
    assert len(signer.calls) == 4  # the cached token, then one fresh one


def test_a_real_iam_token_is_signed_locally(stack, monkeypatch):
    """boto3's generate_db_auth_token: a presigned rds-db:connect URL for the user, 15 minutes, no network call."""
    monkeypatch.setenv("DB_AUTH", "iam")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: signing must not call anything
    db.reset()
    token = db.iam_token()
    assert token.startswith(f"{stack.pg.host}:{stack.pg.port}/?Action=connect&DBUser=todo_app&")
    assert "X-Amz-Expires=900" in token and "X-Amz-Signature=" in token
    assert db.iam_token() is token  # cached


def test_an_idle_connection_is_closed_by_the_server_and_replaced_before_use(api, stack, monkeypatch):
    monkeypatch.setenv("DB_IDLE_TIMEOUT", "2")
    db.reset()
    ada, token = api.user_with_token("ada@example.com")
    first, _ = db.connection()
    assert first.execute("SHOW idle_session_timeout").fetchone()[0] == "2s"
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert db.connection()[0] is first  # used within the idle timeout: kept
    time.sleep(2.5)  # the server ends the idle session
    with stack.admin() as admin:
        assert (
            admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'todo_app' AND datname = %s", (stack.dbname,)).fetchone()[
                0
            ]
            == 0
        )
    used_after_the_timeout = []
    for method in ("execute", "cursor", "transaction"):
        monkeypatch.setattr(first, method, lambda *a, _m=method, **k: used_after_the_timeout.append(_m))
    assert api.get(f"/users/{ada['id']}", token=token).status == 200
    assert used_after_the_timeout == []  # reopened before use: no query met the closed connection
    assert first.closed and db.connection()[0] is not first
