"""Timestamps as the API shows them: ISO 8601, UTC, millisecond precision, a trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"  # [:-6]: its "+00:00"


def now_iso() -> str:
    return iso(now())
