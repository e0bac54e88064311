import base64
import json

import pytest


@pytest.fixture
def ada(api):
    user, token = api.user_with_token("ada@example.com")
    return user["id"], token


def create(api, user_id, token, **fields):
    reply = api.post(f"/users/{user_id}/todos", token=token, json_body={"title": "a todo", **fields})
    assert reply.status == 201, reply.body
    return reply.body


def test_create_and_read_a_todo(api, ada):
    user_id, token = ada
    todo = create(api, user_id, token, title="  buy milk ", description="2 litres", dueDate="2030-01-31", priority="high")
    assert set(todo) == {"id", "userId", "title", "description", "status", "dueDate", "priority", "createdAt", "updatedAt"}
    assert (todo["title"], todo["status"], todo["priority"], todo["dueDate"], todo["userId"]) == (
        "buy milk",
        "open",
        "high",
        "2030-01-31",
        user_id,
    )
    minimal = create(api, user_id, token)
    assert (minimal["priority"], minimal["description"], minimal["dueDate"]) == ("medium", None, None)
    reply = api.get(f"/todos/{todo['id']}", token=token)
    assert reply.status == 200 and reply.body == todo


def test_create_validation_names_fields(api, ada):
    user_id, token = ada
    reply = api.post(
        f"/users/{user_id}/todos", token=token, json_body={"title": "", "dueDate": "2030-02-30", "priority": "urgent", "userId": "someone"}
    )
    assert reply.status == 400
    assert sorted(reply.fields()) == ["dueDate", "priority", "title", "userId"]
    assert api.post(f"/users/{user_id}/todos", token=token, body="{").status == 400


def test_todos_of_someone_else(api, ada):
    user_id, token = ada
    todo = create(api, user_id, token)
    bob, bob_token = api.user_with_token("bob@example.com", name="Bob")
    assert api.post(f"/users/{user_id}/todos", token=bob_token, json_body={"title": "x"}).status == 403
    assert api.get(f"/users/{user_id}/todos", token=bob_token).status == 403
    for method in ("get", "delete"):
        reply = getattr(api, method)(f"/todos/{todo['id']}", token=bob_token)
        assert reply.status == 403 and reply.error["code"] == "forbidden"
    assert api.put(f"/todos/{todo['id']}", token=bob_token, json_body={"status": "done"}).status == 403
    assert api.get(f"/todos/{todo['id']}", token=token).body["status"] == "open"


def test_unknown_todo_is_404(api, ada):
    _, token = ada
    for todo_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id"):
        assert api.get(f"/todos/{todo_id}", token=token).status == 404
        assert api.put(f"/todos/{todo_id}", token=token, json_body={"title": "x"}).status == 404
        assert api.delete(f"/todos/{todo_id}", token=token).status == 404


def test_update_keeps_the_status_index_in_sync(api, ada, stack):
    user_id, token = ada
    todo = create(api, user_id, token, description="d", dueDate="2030-01-01")
    path = f"/todos/{todo['id']}"
    assert api.put(path, token=token, json_body={}).status == 400
    assert api.put(path, token=token, json_body={"status": "finished"}).fields() == ["status"]
    assert api.put(path, token=token, json_body={"title": None}).fields() == ["title"]
    reply = api.put(path, token=token, json_body={"status": "done", "description": None, "dueDate": None})
    assert reply.status == 200
    assert (reply.body["status"], reply.body["description"], reply.body["dueDate"], reply.body["title"]) == ("done", None, None, "a todo")
    [item] = stack.scan("todos")
    assert item["statusKey"] == f"done#{todo['id']}" and "description" not in item
    assert [t["id"] for t in api.get(f"/users/{user_id}/todos", token=token, query="status=done").body["items"]] == [todo["id"]]
    assert api.get(f"/users/{user_id}/todos", token=token, query="status=open").body["items"] == []


def test_delete_a_todo(api, ada, stack):
    user_id, token = ada
    todo = create(api, user_id, token)
    assert api.delete(f"/todos/{todo['id']}", token=token).status == 204
    assert api.get(f"/todos/{todo['id']}", token=token).status == 404
    assert stack.scan("todos") == []


def test_list_pages_newest_first_and_filters_by_status(api, ada):
    user_id, token = ada
    ids = [create(api, user_id, token, title=f"t{i}")["id"] for i in range(7)]
    for todo_id in ids[:3]:
        assert api.put(f"/todos/{todo_id}", token=token, json_body={"status": "done"}).status == 200

    def all_pages(query):
        seen, cursor, pages = [], None, 0
        while True:
            reply = api.get(f"/users/{user_id}/todos", token=token, query=query + (f"&cursor={cursor}" if cursor else ""))
            assert reply.status == 200, reply.body
            seen += [t["id"] for t in reply.body["items"]]
            pages += 1
            cursor = reply.body["nextCursor"]
            if not cursor:
                return seen, pages

    seen, pages = all_pages("limit=3")
    assert seen == sorted(ids, reverse=True) and pages >= 3
    done, _ = all_pages("status=done&limit=2")
    assert done == sorted(ids[:3], reverse=True)
    open_, _ = all_pages("status=open&limit=2")
    assert open_ == sorted(ids[3:], reverse=True)
    assert len(api.get(f"/users/{user_id}/todos", token=token).body["items"]) == 7  # default limit 20


def test_list_bad_parameters(api, ada):
    user_id, token = ada
    create(api, user_id, token)
    create(api, user_id, token)
    path = f"/users/{user_id}/todos"
    assert api.get(path, token=token, query="status=late").fields() == ["status"]
    assert api.get(path, token=token, query="limit=500").fields() == ["limit"]
    cursor = api.get(path, token=token, query="limit=1").body["nextCursor"]
    assert cursor
    key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    other = dict(key, userId="00000000-0000-4000-8000-000000000000")
    forged = base64.urlsafe_b64encode(json.dumps(other).encode()).decode()
    for bad in ("%%%", "bm90IGpzb24", forged, cursor[:-3]):
        reply = api.get(path, token=token, query=f"cursor={bad}")
        assert reply.status == 400 and reply.fields() == ["cursor"], bad
    # a cursor of the unfiltered list does not fit the status index
    assert api.get(path, token=token, query=f"status=open&cursor={cursor}").fields() == ["cursor"]


def test_creation_for_a_deleted_or_tombstoned_user_writes_nothing(api, ada, stack):
    user_id, token = ada
    with stack.admin() as conn:
        conn.execute("UPDATE users SET deleted_at = now() WHERE id = %s", (user_id,))
    reply = api.post(f"/users/{user_id}/todos", token=token, json_body={"title": "x"})
    assert reply.status == 404
    with stack.admin() as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
    assert api.post(f"/users/{user_id}/todos", token=token, json_body={"title": "x"}).status == 404
    assert stack.scan("todos") == []


def test_creation_waits_for_nothing_but_blocks_the_tombstone(api, ada, stack, monkeypatch):
    """While a creation holds the share lock, a tombstone UPDATE cannot proceed (lock_timeout)."""
    import psycopg

    from todo_app import aws

    user_id, token = ada
    blocked = []
    real_client = aws.client

    class Spy:
        def __init__(self, inner):
            self.inner = inner

        def put_item(self, **kw):
            with stack.admin() as conn:
                conn.execute("SET lock_timeout = '200ms'")
                try:
                    conn.execute("UPDATE users SET deleted_at = now() WHERE id = %s", (user_id,))
                except psycopg.errors.LockNotAvailable:
                    blocked.append(True)
            return self.inner.put_item(**kw)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(aws, "client", lambda s: Spy(real_client(s)) if s == "dynamodb" else real_client(s))
    assert api.post(f"/users/{user_id}/todos", token=token, json_body={"title": "x"}).status == 201
    assert blocked == [True]
