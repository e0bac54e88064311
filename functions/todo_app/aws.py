"""boto3 clients, one per service per container, created on first use (not at import: a cold start
pays only for the services its function touches).

Under SnapStart the clients (and their connection pools) are dropped before the snapshot and made again
after a restore (`todo_app.snapstart`).

Endpoints and credentials come from boto3's standard chain; AWS_ENDPOINT_URL points it at an
emulator offline, with no branch here. Table names and the queue URL come only from the environment
variables the catalog names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from todo_app import catalog, settings, snapstart

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

# boto3 publishes no type information (its clients are generated at run time from JSON models), so a
# client is deliberately Any here, the one place clients are made.
Client = Any

_clients: dict[str, Client] = {}
_serializer: TypeSerializer | None = None
_deserializer: TypeDeserializer | None = None


class DependencyUnavailable(Exception):
    """A backing service (named by `dependency`) could not be reached: the API answers 503."""

    def __init__(self, dependency: str, message: str = ""):
        super().__init__(message or f"{dependency} is unavailable")
        self.dependency = dependency


def client(service: str) -> Client:
    found = _clients.get(service)
    if found is None:
        import boto3
        from botocore.config import Config

        # No client-side parameter validation: the parameters are built here from validated models and
        # the service checks them anyway; the walk cost ~0.1 ms a call, a tenth of a worker record's CPU.
        found = boto3.client(
            service,
            config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}, parameter_validation=False),
        )
        # A request that gets no answer (connection refused, timeout) raises an error that names no
        # operation; mark it with this client's service so that service_of can tell.
        found.meta.events.register("after-call-error", functools.partial(_mark_request_failure, service))
        _clients[service] = found
    return found


_SERVICE_MARK = "todo_app_service"  # attribute set on a failed request's exception


def _mark_request_failure(service: str, exception: BaseException, **_: Any) -> None:
    setattr(exception, _SERVICE_MARK, service)


_reset_hooks: list[Callable[[], None]] = []


def on_reset(hook: Callable[[], None]) -> None:
    """Register state to forget along with the clients (e.g. objects holding a client)."""
    _reset_hooks.append(hook)


def reset() -> None:
    """Forget the clients (before a SnapStart snapshot; tests: a new emulator or environment)."""
    _clients.clear()
    for hook in _reset_hooks:
        hook()


def _prime_then_reset() -> None:
    """Before the snapshot: make a DynamoDB client first, so that boto3's import and DynamoDB's service
    model (cached by boto3's session) are in the snapshot and a restored environment's first request does
    not pay for them; then forget every client, whose connections must not be shared."""
    client("dynamodb")
    reset()


snapstart.forget_before_snapshot("the AWS clients", _prime_then_reset)


def table_name(key: str) -> str:
    return settings.text(catalog.TABLES[key].env)


def queue_url() -> str:
    return settings.text(catalog.ORDERS_QUEUE.queue_url_env)


def query_pages(**args: Any) -> Iterator[dict[str, Any]]:
    """A DynamoDB Query's pages, each as the API answers it, until the last."""
    while True:
        page = client("dynamodb").query(**args)
        yield page
        if not page.get("LastEvaluatedKey"):
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_delete(table: str, keys: list[dict[str, Any]], *, unavailable: str = "") -> None:
    """BatchWriteItem deletes in chunks of 25, retrying unprocessed items with a short backoff. Items still
    unprocessed then: DependencyUnavailable(unavailable) where given (a 503), else RuntimeError."""
    import time

    dynamodb = client("dynamodb")
    for start in range(0, len(keys), 25):
        requests = {table: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
        for attempt in range(8):
            unprocessed = dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            requests = unprocessed
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            if unavailable:
                raise DependencyUnavailable("dynamodb", unavailable)
            raise RuntimeError(f"{table}: items still unprocessed after retries")


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    global _serializer
    if _serializer is None:
        from boto3.dynamodb.types import TypeSerializer

        _serializer = TypeSerializer()
    return {k: _serializer.serialize(v) for k, v in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    global _deserializer
    if _deserializer is None:
        from boto3.dynamodb.types import TypeDeserializer

        _deserializer = TypeDeserializer()
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def errors() -> tuple[type[Exception], ...]:
    """botocore's errors: any failure of an AWS call, for `except aws.errors():`.

    An except clause evaluates its expression only when something was raised, so a module that
    catches these does not import botocore when it loads (the first client imports it).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "ResourceNotFoundException",  # the table or queue is missing: an infrastructure fault, not bad input
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean 'the AWS dependency is down or overloaded' (→ 503)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _UNAVAILABLE_CODES or status >= 500
    return isinstance(exc, BotoCoreError)  # connection errors, timeouts, credential errors


def service_of(exc: BaseException) -> str:
    """The service (as named to `client()`) whose client raised `exc`; "aws" when no client claims it.

    A failed request carries the mark its client's event hook set; an error answer names its
    operation, which belongs to the model of exactly one of the container's clients.
    """
    marked = getattr(exc, _SERVICE_MARK, None)
    if isinstance(marked, str):
        return marked
    operation = getattr(exc, "operation_name", None)
    owners = [service for service, found in _clients.items() if operation in found.meta.service_model.operation_names]
    return owners[0] if len(owners) == 1 else "aws"
