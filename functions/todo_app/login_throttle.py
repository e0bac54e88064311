"""Log-in throttling: at most LOGIN_MAX_FAILURES failed log-ins per e-mail (or per device) and at most
LOGIN_IP_MAX_FAILURES per source IP, each per LOGIN_WINDOW_SECONDS.

The counter is an item of the `loginAttempts` table keyed by a hash of the normalised e-mail (the
address itself is not stored), with `attempts`, `windowEnd` and `expiresAt` (DynamoDB's TTL removes it
after the window; readers ignore an expired window, as TTL deletes lazily). The window starts at the
first counted attempt.

An attempt is counted BEFORE the password is checked (`reserve`), with a conditional write: parallel
guesses cannot all slip in under the limit, and at most LOGIN_MAX_FAILURES passwords are ever checked
per window. A successful log-in deletes the counter (`reset`). When the limit is reached, `reserve`
raises `Throttled` with the seconds until the window ends (the 429's Retry-After). The same happens for
an e-mail that has no account, so the answer tells nothing about which addresses exist.

The same counter, in the `loginSources` table (key `sourceHash`), counts per device token (OWASP's device
cookies: an attempt presenting a valid device token for the e-mail is counted there instead, so nobody can
lock its owner out by guessing) and per source IP across all e-mails (against password spraying; a valid
device token is exempt, or users behind one NAT would lock each other out). The per-IP counter counts
failures only: a successful log-in takes its attempt back (`release`) rather than resetting it.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
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


def ip_max_failures() -> int:
    return settings.integer("LOGIN_IP_MAX_FAILURES", minimum=1)


@dataclass(frozen=True)
class Counter:
    """One counter: its table, its key attribute and the value counted (hashed before it is stored)."""

    table: str
    attribute: str
    value: str

    def key(self) -> dict[str, Any]:
        return {self.attribute: {"S": hashlib.sha256(self.value.encode("utf-8")).hexdigest()}}


def per_email(email_key: str) -> Counter:
    return Counter("loginAttempts", "emailHash", email_key)


def per_device(device_hash: str) -> Counter:
    return Counter("loginSources", "sourceHash", "device:" + device_hash)


def per_ip(source_ip: str) -> Counter:
    return Counter("loginSources", "sourceHash", "ip:" + source_ip)


def reserve(email_key: str) -> None:
    """Count one attempt for the e-mail, or raise Throttled when its window is used up."""
    reserve_counter(per_email(email_key), max_failures())


def reset(email_key: str) -> None:
    """A successful log-in: the e-mail's failures no longer count."""
    reset_counter(per_email(email_key))


def reset_counter(counter: Counter) -> None:
    aws.client("dynamodb").delete_item(TableName=aws.table_name(counter.table), Key=counter.key())


def release(counter: Counter) -> None:
    """Take back one attempt counted by reserve_counter (it succeeded: only failures count here)."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.update_item(
            TableName=aws.table_name(counter.table),
            Key=counter.key(),
            UpdateExpression="ADD attempts :minus",
            ConditionExpression="attempts > :zero",
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass  # the window ended and the counter went (or restarted) meanwhile


def reserve_counter(counter: Counter, limit: int, window: int | None = None) -> None:
    """Count one attempt, or raise Throttled when the counter's window (LOGIN_WINDOW_SECONDS unless given) is used up."""
    dynamodb, table = aws.client("dynamodb"), aws.table_name(counter.table)
    window, key, attribute = window or window_seconds(), counter.key(), counter.attribute
    for _ in range(4):  # each turn loses only to a concurrent writer of the same counter
        current = int(now())
        try:
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD attempts :one",
                ConditionExpression="windowEnd > :now AND attempts < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(current)}, ":limit": {"N": str(limit)}},
            )
            return
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if item and int(item["windowEnd"]["N"]) > current:
            if int(item["attempts"]["N"]) >= limit:
                raise Throttled(max(1, math.ceil(int(item["windowEnd"]["N"]) - now())))
            continue  # the counter moved under us: count again
        end = current + window
        try:  # no counter, or its window is over: start a new window with this attempt
            dynamodb.put_item(
                TableName=table,
                Item={**key, "attempts": {"N": "1"}, "windowEnd": {"N": str(end)}, "expiresAt": {"N": str(end)}},
                ConditionExpression=f"attribute_not_exists({attribute}) OR windowEnd <= :now",
                ExpressionAttributeValues={":now": {"N": str(current)}},
            )
            return
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # another attempt started the window first
    raise aws.DependencyUnavailable("dynamodb", "the throttling counter kept changing")
