"""POST /orders and GET /orders/{orderId} (token; the owner is always the caller).

POST: body {amount, currency, items?} (see models.OrderCreate); the order {orderId, userId, amount
("12.50"), currency, items, createdAt} is sent to the orders queue; 202 {"orderId", "status":
"PENDING"}. The worker stores it later; GET answers 404 until then.

Idempotency (Powertools, DynamoDB persistence in IDEMPOTENCY_TABLE): with an `Idempotency-Key`
header (1..128 printable characters), the key is scoped to the caller ([userId, key]), the
normalised order is the validated payload, and the stored answer is replayed for 24 h: same key and
same order → the same 202 and no second message; same key with a different order → 409
`idempotency_key_reused`; the same key while the first request is still running → 409
`request_in_progress`. Without the header every POST is a new order. If sending to the queue fails,
nothing is recorded and a retry with the same key sends again.

GET: GetItem(userId=caller, orderId): 200 order JSON, or 404 (not yet stored, unknown, or someone
else's: the key includes the caller, so another user's order is simply not found).

Env: ORDERS_TABLE, IDEMPOTENCY_TABLE, ORDERS_QUEUE_URL. No PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from todo_app import aws, http_api, ids, order_items
from todo_app.models import OrderCreate
from todo_app.telemetry import MetricUnit, metrics
from todo_app.timeutil import now_iso

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

router = http_api.Router("orders")
app = router.app
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def send_order(user_id: str, order: dict[str, Any]) -> dict[str, str]:
    order_id = ids.new_id()
    message = {"orderId": order_id, "userId": user_id, **order, "createdAt": now_iso()}
    aws.client("sqs").send_message(QueueUrl=aws.queue_url(), MessageBody=json.dumps(message, separators=(",", ":")))
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return {"orderId": order_id, "status": "PENDING"}


@lru_cache(maxsize=1)
def _idempotency() -> tuple[IdempotencyConfig, Callable[..., dict[str, str]]]:
    """Built on the first request with an Idempotency-Key, not at import: Powertools' idempotency
    package imports boto3 as it loads, which would double this function's cold start."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="[userId, key]",
        payload_validation_jmespath="order",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )
    persistence = DynamoDBPersistenceLayer(table_name=aws.table_name("idempotency"), boto3_client=aws.client("dynamodb"))

    def accept(request: dict[str, Any]) -> dict[str, str]:
        return send_order(request["userId"], request["order"])

    # called rather than applied with @: Powertools' decorator returns Any, the annotation keeps a type
    idempotent_accept: Callable[..., dict[str, str]] = idempotent_function(
        accept, data_keyword_argument="request", persistence_store=persistence, config=config
    )
    return config, idempotent_accept


def reset() -> None:
    """Forget the persistence layer (tests: new clients)."""
    _idempotency.cache_clear()


aws.on_reset(reset)


@router.operation
def create_order() -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    key = http_api.header(app, "idempotency-key")
    if key is not None and not _KEY.match(key):
        raise http_api.bad_request("Idempotency-Key", "must be 1 to 128 printable characters without spaces")
    order = http_api.parse(app, OrderCreate).normalized()
    if key is None:
        return http_api.json_response(202, send_order(caller, order))
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    config, idempotent_send = _idempotency()
    config.register_lambda_context(app.lambda_context)
    try:
        answer = idempotent_send(request={"userId": caller, "key": key, "order": order})
    except IdempotencyValidationError:
        raise http_api.ApiError(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different order",
            [{"field": "Idempotency-Key", "message": "was used with a different order"}],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise http_api.ApiError(409, "request_in_progress", "A request with this Idempotency-Key is still in progress") from None
    except IdempotencyPersistenceLayerError as exc:
        raise aws.DependencyUnavailable("dynamodb", "the idempotency store failed") from exc
    return http_api.json_response(202, answer)


@router.operation
def get_order(orderId: str) -> http_api.HttpResponse:
    caller = http_api.caller_id(app)
    if not ids.is_id(orderId):
        raise http_api.not_found("order")
    item = order_items.get(caller, orderId)
    if item is None:
        raise http_api.not_found("order")
    return http_api.json_response(200, order_items.order_json(item))


handler = router.lambda_handler()
