import json
import time

import pytest

from local import events

from .conftest import context_for, handler_of


@pytest.fixture
def ada(api):
    user, token = api.user_with_token("ada@example.com")
    return user["id"], token


def queued(stack) -> list[dict]:
    """Every message in the orders queue (received, then made visible again)."""
    sqs = stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def deliver(stack, max_messages=10) -> dict:
    """One poll of the event source mapping: receive a batch, invoke the worker, delete what succeeded."""
    sqs = stack.client("sqs")
    got = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=max_messages, AttributeNames=["All"]).get("Messages", [])
    if not got:
        return {"received": 0, "failures": []}
    arn = sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    records = [
        events.sqs_record(
            m["Body"],
            queue_arn=arn,
            message_id=m["MessageId"],
            receipt_handle=m["ReceiptHandle"],
            receive_count=int(m["Attributes"]["ApproximateReceiveCount"]),
        )
        for m in got
    ]
    result = handler_of("worker")(events.sqs_event(records), context_for("worker"))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in got:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=stack.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return {"received": len(got), "failures": sorted(failed)}


def test_order_accepted_then_stored_by_the_worker(api, ada, stack):
    user_id, token = ada
    reply = api.post("/orders", token=token, json_body={"amount": 12.5, "currency": "EUR", "items": [{"sku": "A-1", "quantity": 2}]})
    assert reply.status == 202
    order_id = reply.body["orderId"]
    assert reply.body == {"orderId": order_id, "status": "PENDING"}
    [message] = queued(stack)
    assert message["orderId"] == order_id and message["userId"] == user_id
    assert (message["amount"], message["currency"], message["items"]) == ("12.50", "EUR", [{"sku": "A-1", "quantity": 2}])
    assert api.get(f"/orders/{order_id}", token=token).status == 404  # not stored yet
    assert deliver(stack) == {"received": 1, "failures": []}
    reply = api.get(f"/orders/{order_id}", token=token)
    assert reply.status == 200
    assert {k: reply.body[k] for k in ("orderId", "userId", "status", "amount", "currency", "items")} == {
        "orderId": order_id,
        "userId": user_id,
        "status": "CONFIRMED",
        "amount": "12.50",
        "currency": "EUR",
        "items": [{"sku": "A-1", "quantity": 2}],
    }
    assert reply.body["processedAt"]
    bob, bob_token = api.user_with_token("bob@example.com", name="Bob")
    assert api.get(f"/orders/{order_id}", token=bob_token).status == 404  # someone else's order


def test_amount_forms_and_validation(api, ada, stack):
    _, token = ada
    for amount, _shown in (("19.99", "19.99"), (3, "3.00"), ("0.10", "0.10")):
        assert api.post("/orders", token=token, json_body={"amount": amount, "currency": "USD"}).status == 202
    assert sorted(m["amount"] for m in queued(stack)) == ["0.10", "19.99", "3.00"]
    cases = [
        ({"amount": 0, "currency": "EUR"}, ["amount"]),
        ({"amount": "1.234", "currency": "EUR"}, ["amount"]),
        ({"amount": "ten", "currency": "EUR"}, ["amount"]),
        ({"amount": True, "currency": "EUR"}, ["amount"]),
        ({"amount": 5, "currency": "eur"}, ["currency"]),
        ({"amount": 5, "currency": "ABC"}, ["currency"]),
        ({"currency": "EUR"}, ["amount"]),
        ({"amount": 5, "currency": "EUR", "items": [{"sku": "", "quantity": 0}]}, ["items.0.sku", "items.0.quantity"]),
        ({"amount": 5, "currency": "EUR", "userId": "someone-else"}, ["userId"]),
    ]
    for body, fields in cases:
        reply = api.post("/orders", token=token, json_body=body)
        assert reply.status == 400, body
        assert sorted(reply.fields()) == sorted(fields), (body, reply.body)
    assert api.post("/orders", token=token, body="{not json").error["code"] == "invalid_json"
    assert api.get("/orders/not-an-order", token=token).status == 404
    assert len(queued(stack)) == 3  # nothing else was sent


def test_idempotency_key(api, ada, stack):
    _, token = ada
    headers = {"Idempotency-Key": "order-123"}
    first = api.post("/orders", token=token, json_body={"amount": "12.5", "currency": "EUR"}, headers=headers)
    again = api.post("/orders", token=token, json_body={"amount": 12.50, "currency": "EUR"}, headers=headers)
    assert first.status == again.status == 202
    assert first.body == again.body
    assert len(queued(stack)) == 1
    other = api.post("/orders", token=token, json_body={"amount": 13, "currency": "EUR"}, headers=headers)
    assert other.status == 409 and other.error["code"] == "idempotency_key_reused"
    # the key is scoped to the caller: Bob's same key is a new order
    _, bob_token = api.user_with_token("bob@example.com", name="Bob")
    bobs = api.post("/orders", token=bob_token, json_body={"amount": "12.5", "currency": "EUR"}, headers=headers)
    assert bobs.status == 202 and bobs.body["orderId"] != first.body["orderId"]
    # without a key, each POST is a new order
    api.post("/orders", token=token, json_body={"amount": "12.5", "currency": "EUR"})
    assert len(queued(stack)) == 3
    bad = api.post("/orders", token=token, json_body={"amount": 1, "currency": "EUR"}, headers={"Idempotency-Key": "has space"})
    assert bad.status == 400 and bad.fields() == ["Idempotency-Key"]


def test_duplicate_delivery_stores_one_order(api, ada, stack):
    user_id, token = ada
    order_id = api.post("/orders", token=token, json_body={"amount": 5, "currency": "GBP"}).body["orderId"]
    [message] = queued(stack)
    body = json.dumps(message)
    arn = "arn:aws:sqs:us-east-1:123456789012:fntest-orders"
    duplicate = [events.sqs_record(body, queue_arn=arn), events.sqs_record(body, queue_arn=arn, receive_count=2)]
    for _ in range(2):
        result = handler_of("worker")(events.sqs_event(duplicate), context_for("worker"))
        assert result == {"batchItemFailures": []}
    orders = stack.scan("orders")
    assert len(orders) == 1 and orders[0]["orderId"] == order_id and orders[0]["status"] == "CONFIRMED"
    first_processed = orders[0]["processedAt"]
    handler_of("worker")(events.sqs_event(duplicate[:1]), context_for("worker"))
    assert stack.scan("orders")[0]["processedAt"] == first_processed  # nothing new stored


def test_partial_batch_failure_reports_only_the_bad_record(api, ada, stack):
    _, token = ada
    for amount in (1, 2):
        api.post("/orders", token=token, json_body={"amount": amount, "currency": "EUR"})
    good = queued(stack)
    arn = "arn:aws:sqs:us-east-1:123456789012:fntest-orders"
    records = [
        events.sqs_record(json.dumps(good[0]), queue_arn=arn),
        events.sqs_record("{not json", queue_arn=arn, message_id="poison-1"),
        events.sqs_record(json.dumps({**good[1], "amount": "-3"}), queue_arn=arn, message_id="poison-2"),
        events.sqs_record(json.dumps(good[1]), queue_arn=arn),
    ]
    result = handler_of("worker")(events.sqs_event(records), context_for("worker"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison-1"}, {"itemIdentifier": "poison-2"}]}
    assert sorted(o["orderId"] for o in stack.scan("orders")) == sorted(m["orderId"] for m in good)
    # a batch of only bad records is reported the same way, not raised
    result = handler_of("worker")(events.sqs_event(records[1:2]), context_for("worker"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}


def test_poison_message_reaches_the_dlq_after_five_receives(api, ada, stack):
    _, token = ada
    api.post("/orders", token=token, json_body={"amount": 7, "currency": "EUR"})
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody='{"orderId": "nope"}')
    failures_seen = 0
    for _ in range(60):  # bounded: each round waits for the 1 s visibility timeout at most
        outcome = deliver(stack)
        failures_seen += len(outcome["failures"])
        in_dlq = sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if in_dlq:
            break
        if not outcome["received"]:
            time.sleep(0.3)
    assert [m["Body"] for m in in_dlq] == ['{"orderId": "nope"}']
    assert failures_seen == 5
    assert len(stack.scan("orders")) == 1  # the good order, stored once
    assert sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages", []) == []


def test_concurrent_batch_reports_exactly_the_failed_records(api, ada, stack):
    """Ten records stored at once: the failures named are exactly the bad ones, in the batch's order."""
    _, token = ada
    for amount in range(1, 7):
        api.post("/orders", token=token, json_body={"amount": amount, "currency": "EUR"})
    good = queued(stack)
    assert len(good) == 6
    arn = "arn:aws:sqs:us-east-1:123456789012:fntest-orders"
    bad = {
        "bad-json": "{not json",
        "bad-amount": json.dumps({**good[0], "orderId": good[0]["orderId"][:-1] + "0", "amount": "-1"}),
        "bad-shape": json.dumps({"orderId": "nope"}),
        "bad-empty": "",
    }
    records = [events.sqs_record(json.dumps(m), queue_arn=arn, message_id=f"good-{i}") for i, m in enumerate(good)]
    for position, (message_id, body) in zip((0, 3, 5, 9), bad.items(), strict=True):
        records.insert(position, events.sqs_record(body, queue_arn=arn, message_id=message_id))
    assert len(records) == 10
    result = handler_of("worker")(events.sqs_event(records), context_for("worker"))
    expected = [r["messageId"] for r in records if r["messageId"].startswith("bad-")]
    assert result == {"batchItemFailures": [{"itemIdentifier": m} for m in expected]}
    assert sorted(o["orderId"] for o in stack.scan("orders")) == sorted(m["orderId"] for m in good)
    # the same batch again: the good records are duplicates (success, nothing new), the bad ones fail again
    again = handler_of("worker")(events.sqs_event(records), context_for("worker"))
    assert again == result and len(stack.scan("orders")) == 6
