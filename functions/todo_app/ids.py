"""Time-ordered identifiers for todos and orders (ULID layout: 48-bit ms timestamp + 80 random bits).

26 Crockford base32 characters; lexicographic order is creation order (to the millisecond), so a
DynamoDB range key built from them sorts newest-first with ScanIndexForward=False.
"""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = ((ms & (2**48 - 1)) << 80) | int.from_bytes(os.urandom(10), "big")
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def is_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value or ""))
