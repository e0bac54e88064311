import pytest

from todo_app.handlers import users as users_handler
from todo_app.tokens import token_hash


@pytest.fixture
def populated(api):
    """Ada with 30 todos (more than one BatchWrite) and three sessions; Bob with one todo."""
    ada, token = api.user_with_token("ada@example.com")
    other_tokens = [api.log_in("ada@example.com") for _ in range(2)]
    for i in range(30):
        assert api.post(f"/users/{ada['id']}/todos", token=token, json_body={"title": f"t{i}"}).status == 201
    bob, bob_token = api.user_with_token("bob@example.com", name="Bob")
    assert api.post(f"/users/{bob['id']}/todos", token=bob_token, json_body={"title": "bob's"}).status == 201
    return ada, token, other_tokens, bob, bob_token


def assert_only_bob_left(stack, bob, bob_token):
    assert {t["userId"] for t in stack.scan("todos")} == {bob["id"]}
    # deletion markers (no userId: not sessions) stay, for the authorizer
    assert [s["tokenHash"] for s in stack.scan("sessions") if "userId" in s] == [token_hash(bob_token)]
    with stack.admin() as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("bob@example.com",)]


def test_delete_user_removes_todos_sessions_and_row(api, stack, populated):
    ada, token, other_tokens, bob, bob_token = populated
    assert api.delete(f"/users/{ada['id']}", token=token).status == 204
    assert_only_bob_left(stack, bob, bob_token)
    for t in [token, *other_tokens]:
        assert api.get("/users", token=t).status == 403
    assert api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}).status == 401
    assert api.get(f"/users/{bob['id']}/todos", token=bob_token).body["items"][0]["title"] == "bob's"


@pytest.mark.parametrize("failing_step", ["delete_todos", "delete_other_sessions", "delete_user_row", "delete_own_session"])
def test_failure_half_way_then_retry_finishes(api, stack, populated, monkeypatch, failing_step):
    ada, token, other_tokens, bob, bob_token = populated
    real = getattr(users_handler, failing_step)

    def fail(*args, **kwargs):
        raise RuntimeError("injected failure")

    def partial_sweep(user_id):
        """Deletes one page of todos, then fails: the sweep stops half-way."""
        page = stack.client("dynamodb").query(
            TableName="fntest-todos",
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            Limit=10,
            ProjectionExpression="userId, todoId",
        )
        deletes = [{"DeleteRequest": {"Key": key}} for key in page["Items"]]
        stack.client("dynamodb").batch_write_item(RequestItems={"fntest-todos": deletes})
        raise RuntimeError("injected failure")

    monkeypatch.setattr(users_handler, failing_step, partial_sweep if failing_step == "delete_todos" else fail)
    reply = api.delete(f"/users/{ada['id']}", token=token)
    assert reply.status == 500 and reply.error == {"code": "internal_error", "message": "An unexpected error occurred", "details": []}
    if failing_step == "delete_own_session":
        # the deletion marker was written: everything is done but the removal of a session that the
        # authorizer already refuses (and the TTL removes); there is nothing left to retry
        for t in [token, *other_tokens]:
            assert api.get("/users", token=t).status == 403
        assert sorted(s["tokenHash"] for s in stack.scan("sessions") if "userId" in s) == sorted([token_hash(bob_token), token_hash(token)])
        return
    # from the tombstone on, Ada is absent everywhere...
    assert api.get(f"/users/{ada['id']}", token=token).status == 404
    assert api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}).status == 401
    assert api.post(f"/users/{ada['id']}/todos", token=token, json_body={"title": "late"}).status == 404
    assert api.get("/users", token=token).body["items"] == [] or all(
        u["id"] != ada["id"] for u in api.get("/users", token=token).body["items"]
    )
    monkeypatch.setattr(users_handler, failing_step, real)
    # ...but her token still works for the retry, which finishes the job
    assert api.delete(f"/users/{ada['id']}", token=token).status == 204
    assert_only_bob_left(stack, bob, bob_token)
