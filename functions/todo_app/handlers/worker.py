"""SQS worker for the orders queue (Powertools BatchProcessor, partial batch responses).

Each record's body is validated (models.OrderMessage); the order is stored with a conditional
PutItem (attribute_not_exists(orderId)) as status "CONFIRMED" with processedAt. A second delivery of
the same message fails the condition, which counts as success and stores nothing new: the
conditional write is atomic with the worker's only side effect, so the worker needs no idempotency
table. An invalid (poison) record raises; it is reported in `batchItemFailures`, the rest of the
batch is not retried, and it fails on every delivery until the queue's redrive policy
(maxReceiveCount 5) moves it to the DLQ. A whole failed batch is reported the same way (no
exception), so the event source mapping handles it record by record too.

The event source mapping must enable ReportBatchItemFailures. Env: ORDERS_TABLE.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from todo_app import aws
from todo_app.models import OrderMessage
from todo_app.telemetry import MetricUnit, logger, metrics, publish_metrics
from todo_app.timeutil import now_iso

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


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
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.put_item(TableName=aws.table_name("orders"), Item=aws.to_item(item), ConditionExpression="attribute_not_exists(orderId)")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def record_handler(record: SQSRecord) -> None:
    message = OrderMessage.model_validate_json(record.body)
    if store_order(message):
        metrics.add_metric(name="OrdersStored", unit=MetricUnit.Count, value=1)
    else:
        logger.info("duplicate delivery", extra={"orderId": message.orderId, "messageId": record.message_id})
        metrics.add_metric(name="OrdersDuplicate", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@publish_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
