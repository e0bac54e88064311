"""The DynamoDB stream event source mapping, locally: reads the reset outbox's stream and feeds the mailer, then
writes each message that reached the emulator's SES as an `.eml` file (local.outbox), printing a line for each.

What Lambda's mapping does, with `ReportBatchItemFailures` on: batches of the stream's records in order; a record
named in `batchItemFailures` (by sequence number) and those after it are delivered again on the next turn, a raised
function error redelivers the whole batch; after STREAM_RETRY_ATTEMPTS failed turns the batch is dropped (the
mapping's maximum retry attempts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import outbox
from .containers import FunctionError, Invoker
from .emulator import read_stream

POLL_SECONDS = 0.5
BATCH_SIZE = 10
STREAM_RETRY_ATTEMPTS = 10


class StreamPoller:
    """Feeds `function` from the stream of catalog table `table_key`, through `functions`."""

    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        prefix: str,
        table_key: str,
        functions: Invoker,
        *,
        emulator_url: str,
        outbox_dir: Path,
        function: str = "mailer",
        log: Callable[[str], None] = print,
    ) -> None:
        self.dynamodb, self.streams, self.prefix, self.table_key = dynamodb, streams, prefix, table_key
        self.functions, self.function, self.log = functions, function, log
        self.emulator_url, self.outbox_dir = emulator_url, outbox_dir
        self._iterators: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._attempts = 0
        self._written: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.turn()
            except (BotoCoreError, ClientError, OSError) as error:  # the emulator going away at shutdown, or transient
                if self._stop.is_set():
                    return
                self.log(f"  stream poller: {type(error).__name__}: {error}")

    def turn(self) -> None:
        """One poll: new records, one batch delivered, new mail written out."""
        self._pending += read_stream(self.dynamodb, self.streams, self.prefix, self.table_key, self._iterators)
        if self._pending:
            self._deliver(self._pending[:BATCH_SIZE])
        for path in outbox.write_new(self.emulator_url, self.outbox_dir, self._written):
            self.log(f"[local] mail written to {path} (what SES was asked to send)")

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        try:
            answer = self.functions.invoke(self.function, {"Records": batch})
            failures = [f.get("itemIdentifier") for f in (answer or {}).get("batchItemFailures", [])]
        except FunctionError as error:
            self.log(f"  stream poller: {error}")
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failures:
            del self._pending[: len(batch)]
            self._attempts = 0
            return
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first = sequence.index(failures[0]) if failures[0] in sequence else 0
        del self._pending[:first]
        self._attempts += 1
        if self._attempts >= STREAM_RETRY_ATTEMPTS:
            self.log(f"  stream poller: dropping {len(batch) - first} record(s) after {self._attempts} failed attempts")
            del self._pending[: len(batch) - first]
            self._attempts = 0
