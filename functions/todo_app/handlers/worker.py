"""SQS worker for the orders queue (partial batch responses), the records of a batch stored concurrently.

Each record's body is validated (models.OrderMessage); the order is stored with a conditional
PutItem (attribute_not_exists(orderId)) as status "CONFIRMED" with processedAt. A second delivery of
the same message fails the condition, which counts as success and stores nothing new: the
conditional write is atomic with the worker's only side effect, so the worker needs no idempotency
table. An invalid (poison) record raises; it is reported in `batchItemFailures`, the rest of the
batch is not retried, and it fails on every delivery until the queue's redrive policy
(maxReceiveCount 5) moves it to the DLQ. A whole failed batch is reported the same way (no
exception), so the event source mapping handles it record by record too.

The records of one batch are independent (a standard queue: no ordering to keep), so their writes
run at once on the container's thread pool (todo_app.pool; boto3 clients are thread-safe): a batch of 10 waits for about
one DynamoDB round trip instead of ten. Each record's outcome is collected in the invoking thread,
which alone reports failures, adds metrics and logs, so `batchItemFailures` names exactly the
records that failed.

The event source mapping must enable ReportBatchItemFailures. Env: ORDERS_TABLE.
"""

from __future__ import annotations

from typing import Any

from todo_app import aws, order_items
from todo_app.models import OrderMessage
from todo_app.pool import pool
from todo_app.telemetry import MetricUnit, logger, metrics, publish_metrics
from todo_app.timeutil import now_iso


def store_order(message: OrderMessage) -> bool:
    """True if stored now, False if it was already there (a duplicate delivery)."""
    item = {
        "userId": message.userId,
        "orderId": message.orderId,
        "status": "CONFIRMED",
        "amount": message.amount,
        "currency": message.currency,
        "items": [i.model_dump() for i in message.items],
        "createdAt": message.createdAt,
        "processedAt": now_iso(),
    }
    return order_items.put_new(item)


def process(record: dict[str, Any]) -> tuple[str, bool | BaseException]:
    """(order id or "", stored?) or the exception that failed the record; runs on a pool thread."""
    try:
        message = OrderMessage.model_validate_json(record.get("body") or "")
        return message.orderId, store_order(message)
    except Exception as error:  # noqa: BLE001 - any failure of one record is that record's, reported below
        return "", error


@logger.inject_lambda_context
@publish_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    records: list[dict[str, Any]] = event.get("Records") or []
    aws.client("dynamodb")  # made once here, not raced for by the pool's threads
    outcomes = list(pool().map(process, records)) if len(records) > 1 else [process(r) for r in records]
    failures: list[dict[str, str]] = []
    for record, (order_id, outcome) in zip(records, outcomes, strict=True):
        message_id = record.get("messageId", "")
        if isinstance(outcome, BaseException):
            logger.error(
                "record failed",
                extra={"messageId": message_id, "error": type(outcome).__name__, "reason": str(outcome)[:500]},
            )
            failures.append({"itemIdentifier": message_id})
        elif outcome:
            metrics.add_metric(name="OrdersStored", unit=MetricUnit.Count, value=1)
        else:
            logger.info("duplicate delivery", extra={"orderId": order_id, "messageId": message_id})
            metrics.add_metric(name="OrdersDuplicate", unit=MetricUnit.Count, value=1)
    return {"batchItemFailures": failures}
