"""Log-in throttling: at most LOGIN_MAX_FAILURES failed log-ins per e-mail per LOGIN_WINDOW_SECONDS.

The counter is an item of the `loginAttempts` table keyed by a hash of the normalised e-mail (the
address itself is not stored), with `attempts`, `windowEnd` and `expiresAt` (DynamoDB's TTL removes it
after the window; readers ignore an expired window, as TTL deletes lazily). The window starts at the
first counted attempt.

An attempt is counted BEFORE the password is checked (`reserve`), with a conditional write: parallel
guesses cannot all slip in under the limit, and at most LOGIN_MAX_FAILURES passwords are ever checked
per window. A successful log-in deletes the counter (`reset`). When the limit is reached, `reserve`
raises `Throttled` with the seconds until the window ends (the 429's Retry-After). The same happens for
an e-mail that has no account, so the answer tells nothing about which addresses exist.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from todo_app import aws, settings


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed log-ins; retry after {retry_after} s")
        self.retry_after = retry_after


def now() -> float:
    """The clock (tests move it)."""
    return time.time()


def max_failures() -> int:
    return settings.integer("LOGIN_MAX_FAILURES", minimum=1)


def window_seconds() -> int:
    return settings.integer("LOGIN_WINDOW_SECONDS", minimum=1)


def _key(email_key: str) -> dict[str, Any]:
    return {"emailHash": {"S": hashlib.sha256(email_key.encode("utf-8")).hexdigest()}}


def reserve(email_key: str) -> None:
    """Count one attempt for the e-mail, or raise Throttled when its window is used up."""
    dynamodb, table = aws.client("dynamodb"), aws.table_name("loginAttempts")
    limit, window = max_failures(), window_seconds()
    for _ in range(4):  # each turn loses only to a concurrent writer of the same counter
        current = int(now())
        try:
            dynamodb.update_item(
                TableName=table,
                Key=_key(email_key),
                UpdateExpression="ADD attempts :one",
                ConditionExpression="windowEnd > :now AND attempts < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(current)}, ":limit": {"N": str(limit)}},
            )
            return
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        item = dynamodb.get_item(TableName=table, Key=_key(email_key), ConsistentRead=True).get("Item")
        if item and int(item["windowEnd"]["N"]) > current:
            if int(item["attempts"]["N"]) >= limit:
                raise Throttled(max(1, math.ceil(int(item["windowEnd"]["N"]) - now())))
            continue  # the counter moved under us: count again
        end = current + window
        try:  # no counter, or its window is over: start a new window with this attempt
            dynamodb.put_item(
                TableName=table,
                Item={**_key(email_key), "attempts": {"N": "1"}, "windowEnd": {"N": str(end)}, "expiresAt": {"N": str(end)}},
                ConditionExpression="attribute_not_exists(emailHash) OR windowEnd <= :now",
                ExpressionAttributeValues={":now": {"N": str(current)}},
            )
            return
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # another attempt started the window first
    raise aws.DependencyUnavailable("dynamodb", "the log-in counter kept changing")


def reset(email_key: str) -> None:
    """A successful log-in: the e-mail's failures no longer count."""
    aws.client("dynamodb").delete_item(TableName=aws.table_name("loginAttempts"), Key=_key(email_key))
