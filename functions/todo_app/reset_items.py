"""The password-reset repository: the outbox items POST /password-resets writes (DynamoDB `resetOutbox`, whose
stream feeds the mailer), the reset tokens the mailer stores (only their SHA-256, with the user id, for
RESET_TOKEN_SECONDS) and its marks of the stream records it has sent, and the request counters (`loginAttempts`,
under keys of their own) that throttle reset requests per e-mail and per source.

An outbox item carries a user id and an address, or only `decoy` for an address without an account: never a
token (stream records are kept 24 hours). Outbox items expire after a day (TTL); the stream keeps its own copy.
"""

from __future__ import annotations

import time
from typing import Any

from todo_app import aws, catalog, login_throttle

RESET_TOKEN_SECONDS = 30 * 60  # a reset token's life
OUTBOX_SECONDS = 24 * 3600  # an outbox item's life (its stream record is the mailer's copy)
SENT_MARK_SECONDS = 2 * 24 * 3600  # longer than a stream record lives: a redelivery always finds the mark


Throttled = login_throttle.Throttled  # a reset request over its window: retry after `retry_after` seconds


def now() -> float:
    """The clock (tests move it)."""
    return time.time()


def put_outbox(request_id: str, user_id: str | None, email: str, *, notice: bool = False) -> None:
    """One outbox item: the user's id and address (a reset request, or with `notice` the notice that the password
    was changed), or a decoy (no user id, no address) the mailer drops."""
    item: dict[str, Any] = {"requestId": {"S": request_id}, "expiresAt": {"N": str(int(now()) + OUTBOX_SECONDS)}}
    if user_id is None:
        item["decoy"] = {"BOOL": True}
    else:
        item |= {"userId": {"S": user_id}, "email": {"S": email}}
    if notice:
        item["notice"] = {"BOOL": True}
    aws.client("dynamodb").put_item(TableName=aws.table_name("resetOutbox"), Item=item)


def put_token(token_hash: str, user_id: str) -> int:
    """Store a reset token's hash for the user, with when it was made (ms); its expiry (epoch seconds)."""
    expires = int(now()) + RESET_TOKEN_SECONDS
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("resetTokens"),
        Item={
            "tokenHash": {"S": token_hash},
            "userId": {"S": user_id},
            "createdAt": {"N": str(int(now() * 1000))},
            "expiresAt": {"N": str(expires)},
        },
        ConditionExpression="attribute_not_exists(tokenHash)",
    )
    return expires


def _spent_key(user_id: str) -> dict[str, Any]:
    return {"tokenHash": {"S": catalog.RESET_SPENT_PREFIX + user_id}}


def mark_spent(user_id: str) -> None:
    """A reset of the user's password is done: every token of the user made until now is spent (as a new password
    spends every outstanding link); the mark outlives any such token."""
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("resetTokens"),
        Item={
            **_spent_key(user_id),
            "spentAt": {"N": str(int(now() * 1000))},
            "expiresAt": {"N": str(int(now()) + RESET_TOKEN_SECONDS + 60)},
        },
    )


def spent_since(user_id: str, created_ms: int) -> bool:
    """Whether a reset of the user's password was done after a token made at `created_ms`."""
    item = aws.client("dynamodb").get_item(TableName=aws.table_name("resetTokens"), Key=_spent_key(user_id), ConsistentRead=True)
    spent = item.get("Item")
    return spent is not None and int(spent["spentAt"]["N"]) >= created_ms


def consume_token(token_hash: str) -> tuple[str, int] | None:
    """Delete the token and return (its user id, when it was made in ms), only if it exists, is a token (not a mark)
    and has not expired; None otherwise. One conditional delete: of two concurrent uses, one wins."""
    dynamodb = aws.client("dynamodb")
    if len(token_hash) != 64:
        return None
    try:
        old = dynamodb.delete_item(
            TableName=aws.table_name("resetTokens"),
            Key={"tokenHash": {"S": token_hash}},
            ConditionExpression="attribute_exists(userId) AND expiresAt > :now",
            ExpressionAttributeValues={":now": {"N": str(int(now()))}},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return None
    return (str(old["userId"]["S"]), int(old.get("createdAt", {}).get("N", "0"))) if old else None


def _sent_key(event_id: str) -> dict[str, Any]:
    return {"tokenHash": {"S": catalog.RESET_SENT_PREFIX + event_id}}


def was_sent(event_id: str) -> bool:
    """Whether the mailer has sent the mail of this stream record (its event id) already."""
    item = aws.client("dynamodb").get_item(TableName=aws.table_name("resetTokens"), Key=_sent_key(event_id), ConsistentRead=True)
    return "Item" in item


def mark_sent(event_id: str) -> None:
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("resetTokens"),
        Item={**_sent_key(event_id), "expiresAt": {"N": str(int(now()) + SENT_MARK_SECONDS)}},
    )


def reserve(kind: str, value: str, limit: int, window: int) -> None:
    """Count one reset request for `value` (an e-mail key or a source IP, told apart by `kind`), or raise Throttled
    when its window is used up: the log-in throttle's conditional-write counter, in `loginAttempts` under keys of
    their own."""
    login_throttle.reserve_counter(login_throttle.Counter("loginAttempts", "emailHash", f"reset-{kind}:{value}"), limit, window)
