"""Settings from the environment, read where they are first used (a cold start reads only what its
function needs, and tests set them per test).

Every setting is required: the stack and the local runtime set each one, so an absent or malformed
value is a deployment fault. It raises `SettingError` naming the variable, rather than a default
standing in for it silently (a wrong database port, TLS switched on or off, sessions of an
arbitrary lifetime).
"""

from __future__ import annotations

import os
from collections.abc import Collection


class SettingError(RuntimeError):
    """An environment variable the function needs is missing or not valid."""


def text(name: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise SettingError(f"the environment variable {name} is not set")
    return value


def integer(name: str, minimum: int, maximum: int | None = None) -> int:
    raw = text(name)
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"the environment variable {name} is not an integer: {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise SettingError(f"the environment variable {name} must be {bounds}, not {value}")
    return value


def choice(name: str, allowed: Collection[str]) -> str:
    value = text(name)
    if value not in allowed:
        raise SettingError(f"the environment variable {name} must be one of {', '.join(sorted(allowed))}, not {value!r}")
    return value
