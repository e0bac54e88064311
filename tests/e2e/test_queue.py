"""The orders queue through the local poller: partial batch failures, retries, the DLQ after 5 receives."""

from __future__ import annotations

import json
import re
import time
import uuid


def test_a_poison_message_is_retried_then_moved_to_the_dlq_while_good_orders_are_stored(runtime, user):
    sqs = runtime.sqs()
    poison = json.dumps({"poison": str(uuid.uuid4())})
    sent = sqs.send_message(QueueUrl=runtime.outputs["ordersQueueUrl"], MessageBody=poison)["MessageId"]
    # good orders at the same time, likely in the same batches as the poison message
    good = [user.create_order(f"{i + 1}.00", "EUR")["orderId"] for i in range(3)]
    for order_id in good:
        assert user.wait_for_order(order_id, timeout=30)["status"] == "CONFIRMED"

    # maxReceiveCount (5) failed deliveries, each after the visibility timeout, then the redrive moves it
    deadline = time.monotonic() + 20 * runtime.visibility_timeout + 20
    found = None
    while found is None and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=runtime.outputs["ordersDlqUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            if message["MessageId"] == sent:
                found = message
            sqs.delete_message(QueueUrl=runtime.outputs["ordersDlqUrl"], ReceiptHandle=message["ReceiptHandle"])
    assert found is not None, f"the poison message did not reach the DLQ:\n{runtime.log()[-3000:]}"
    assert found["Body"] == poison
    # it was delivered to the worker exactly maxReceiveCount times, and failed each time
    counts = [
        int(c) for line in runtime.log().splitlines() if "failed=" in line for c in re.findall(r"receives=\[([\d,]+)\]", line)[0].split(",")
    ]
    assert 5 in counts
    # the queue itself is empty again
    attributes = sqs.get_queue_attributes(
        QueueUrl=runtime.outputs["ordersQueueUrl"], AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_a_duplicate_delivery_stores_one_order(runtime, user):
    accepted = user.create_order("3.30", "EUR")
    stored = user.wait_for_order(accepted["orderId"], timeout=30)
    # the same order message delivered again (as SQS may): the worker's conditional write keeps the first
    body = json.dumps(
        {
            "orderId": accepted["orderId"],
            "userId": user.user_id,
            "amount": "999.00",
            "currency": "EUR",
            "items": [],
            "createdAt": stored["createdAt"],
        }
    )
    runtime.sqs().send_message(QueueUrl=runtime.outputs["ordersQueueUrl"], MessageBody=body)
    time.sleep(3)
    assert user.get_order(accepted["orderId"]) == stored
