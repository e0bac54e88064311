"""Bearer tokens: random, returned once, stored only as their SHA-256 hex digest."""

from __future__ import annotations

import hashlib
import re
import secrets

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _TOKEN.match(token):
        return None
    return token
