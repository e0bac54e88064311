"""Bearer tokens: `<user id>.<32 random bytes>`, returned once, stored only as their SHA-256 hex digest.

Only the random part is secret. The user id lets the authorizer read the session and the user's deletion
marker in one request; it trusts that id only once the session (found by the whole token's hash) names
the same user.
"""

from __future__ import annotations

import hashlib
import re
import secrets

_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{16,256}$")


def new_token(user_id: str) -> str:
    return f"{user_id}.{secrets.token_urlsafe(32)}"


def token_user(token: str) -> str | None:
    """The user id a token names, or None for a token issued before tokens named their user."""
    user_id, dot, _ = token.rpartition(".")
    return user_id if dot and user_id else None


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
