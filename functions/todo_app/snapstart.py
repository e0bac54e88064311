"""SnapStart runtime hooks: nothing taken before the snapshot is reused after a restore.

With SnapStart, Lambda runs a function's init once, when a version is published, snapshots its memory, and
starts later execution environments from that snapshot, possibly many at once and days later. A database
connection or a pooled HTTPS connection in the snapshot would be shared by every restored environment (and
long closed by the server), and a credential made at init (an IAM database token lives 15 minutes) would be
stale after a restore days later. So each module that keeps
such state registers its reset here: the resets run before the snapshot, and the state is built again,
lazily, on first use after a restore. Nothing random or unique is made at import (ids, tokens and salts are
made per request), so restored environments share nothing that must differ.

`snapshot_restore_py` only records the hooks; the Lambda runtime (or the local runtime's `--snapstart` mode)
runs them. Without SnapStart they never run.
"""

from __future__ import annotations

from collections.abc import Callable

from snapshot_restore_py import register_after_restore, register_before_snapshot

from todo_app.telemetry import logger

# how often each kind of hook ran in this environment: a restored one shows after_restore >= 1
counts = {"before_snapshot": 0, "after_restore": 0}


def forget_before_snapshot(what: str, reset: Callable[[], None]) -> None:
    """Run `reset` before the snapshot is taken; `what` names the state in the log line."""

    def before_snapshot() -> None:
        reset()
        counts["before_snapshot"] += 1
        logger.info(f"SnapStart: before the snapshot, forgot {what}")

    register_before_snapshot(before_snapshot)


def _after_restore() -> None:
    counts["after_restore"] += 1
    logger.info("SnapStart: restored from the snapshot; connections, clients and tokens are made again on first use")


register_after_restore(_after_restore)
