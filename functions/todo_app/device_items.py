"""The devices repository: device tokens (OWASP's device cookies) in the DynamoDB `devices` table.

A successful log-in returns a new random device token; only its SHA-256 is stored (the key), with the user
it was issued to, the hash of the normalised e-mail it was issued for and `expiresAt` (epoch seconds, the
TTL attribute) DEVICE_TOKEN_TTL_SECONDS ahead. A later log-in presenting it for the same e-mail is counted
per device instead of per e-mail and per source IP (login_throttle).
"""

from __future__ import annotations

import hashlib
import secrets
import time

from todo_app import aws
from todo_app.tokens import token_hash

DEVICE_TOKEN_TTL_SECONDS = 180 * 24 * 3600  # long-lived: a device known for half a year


def _email_hash(email_key: str) -> str:
    return hashlib.sha256(("device-email:" + email_key).encode("utf-8")).hexdigest()


def issue(user_id: str, email_key: str) -> str:
    """A new device token for the user and e-mail (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    expires = int(time.time()) + DEVICE_TOKEN_TTL_SECONDS
    aws.client("dynamodb").put_item(
        TableName=aws.table_name("devices"),
        Item=aws.to_item({"tokenHash": token_hash(token), "userId": user_id, "emailHash": _email_hash(email_key), "expiresAt": expires}),
    )
    return token


def valid_for(token: str, email_key: str) -> str | None:
    """The token's hash when it is an unexpired device token issued for this e-mail, else None."""
    hashed = token_hash(token)
    key = {"tokenHash": {"S": hashed}}
    item = aws.client("dynamodb").get_item(TableName=aws.table_name("devices"), Key=key, ConsistentRead=True).get("Item")
    if not item or int(item["expiresAt"]["N"]) <= time.time() or item["emailHash"]["S"] != _email_hash(email_key):
        return None
    return hashed


def delete(hashed: str) -> None:
    aws.client("dynamodb").delete_item(TableName=aws.table_name("devices"), Key={"tokenHash": {"S": hashed}})
