from datetime import date, timedelta

import pytest


@pytest.mark.parametrize("page_size", [None, 2], ids=["one page", "pages of 2"])
def test_dashboard_summarises_the_user(api, stack, monkeypatch, page_size):
    from todo_app import aws

    from .test_orders import deliver

    if page_size:  # every count must follow LastEvaluatedKey to the end (the repositories page with aws.query_pages)
        pages = aws.query_pages
        monkeypatch.setattr(aws, "query_pages", lambda **args: pages(Limit=page_size, **args))

    ada, token = api.user_with_token("ada@example.com")
    path = f"/users/{ada['id']}/todos"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    ids = []
    for i, due in enumerate([yesterday, yesterday, tomorrow, None, yesterday, None, None]):
        body = {"title": f"t{i}"} | ({"dueDate": due} if due else {})
        ids.append(api.post(path, token=token, json_body=body).body["id"])
    api.put(f"/todos/{ids[4]}", token=token, json_body={"status": "done"})  # overdue date but done: not overdue
    api.put(f"/todos/{ids[5]}", token=token, json_body={"status": "done"})
    for amount in (1, 2, 3):
        assert api.post("/orders", token=token, json_body={"amount": amount, "currency": "EUR"}).status == 202
    deliver(stack)
    api.post("/orders", token=token, json_body={"amount": 4, "currency": "EUR"})  # still pending: not stored

    _, bob_token = api.user_with_token("bob@example.com", name="Bob")
    assert api.get(f"/dashboard/{ada['id']}", token=bob_token).status == 403

    reply = api.get(f"/dashboard/{ada['id']}", token=token)
    assert reply.status == 200, reply.body
    body = reply.body
    assert body["user"]["email"] == "ada@example.com"
    assert body["todos"]["counts"] == {"open": 5, "done": 2}
    assert body["todos"]["overdue"] == 2
    assert [t["id"] for t in body["todos"]["recent"]] == sorted(ids, reverse=True)[:5]
    assert body["orders"] == {"counts": {"CONFIRMED": 3}}

    with stack.admin() as conn:
        conn.execute("UPDATE users SET deleted_at = now()")
    assert api.get(f"/dashboard/{ada['id']}", token=token).status == 404
