from datetime import date, timedelta

import pytest


def query_pages_of(size: int) -> list[dict]:
    """From now on, every DynamoDB Query the functions send without a Limit asks for pages of `size` items.

    Through boto3's public event hooks on the functions' own client (todo_app.aws.client), so whichever
    module runs the query, a count must follow LastEvaluatedKey to the end. Returns the Query parameters
    as sent, for the test to see that continuation pages were asked for."""
    from todo_app import aws

    sent: list[dict] = []

    def limit(params: dict, **_: object) -> None:
        params.setdefault("Limit", size)
        sent.append(dict(params))

    aws.client("dynamodb").meta.events.register("before-parameter-build.dynamodb.Query", limit)
    return sent


@pytest.mark.parametrize("page_size", [None, 2], ids=["one page", "pages of 2"])
def test_dashboard_summarises_the_user(api, stack, page_size):
    from .test_orders import deliver

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

    sent = query_pages_of(page_size) if page_size else []  # every count must follow LastEvaluatedKey to the end
    reply = api.get(f"/dashboard/{ada['id']}", token=token)
    assert reply.status == 200, reply.body
    if page_size:  # the small pages were asked for, and followed
        assert {query.get("IndexName", query["TableName"]) for query in sent if "ExclusiveStartKey" in query} == {
            "byStatus",
            "fntest-orders",
        }
    body = reply.body
    assert body["user"]["email"] == "ada@example.com"
    assert body["todos"]["counts"] == {"open": 5, "done": 2}
    assert body["todos"]["overdue"] == 2
    assert [t["id"] for t in body["todos"]["recent"]] == sorted(ids, reverse=True)[:5]
    assert body["orders"] == {"counts": {"CONFIRMED": 3}}

    with stack.admin() as conn:
        conn.execute("UPDATE users SET deleted_at = now()")
    assert api.get(f"/dashboard/{ada['id']}", token=token).status == 404
