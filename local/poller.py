"""The SQS event source mapping, locally: long-polls the orders queue and feeds the worker batches.

What Lambda's event source mapping does, with `ReportBatchItemFailures` on:
- gathers up to `batch_size` messages, waiting at most `batch_window` seconds once the first arrived;
- invokes the worker with a real SQS event (real message ids, receipt handles, ApproximateReceiveCount);
- deletes the records that succeeded: all of them but those listed in `batchItemFailures`;
  if the worker raises, or names an identifier that is not in the batch, nothing is deleted;
- a record not deleted becomes visible again after the queue's visibility timeout and is received again.

The DLQ move is the emulator's: moto implements the queue's RedrivePolicy on ReceiveMessage (a message
already received maxReceiveCount times goes to the DLQ instead of being delivered), as SQS does, so the
poller needs no DLQ logic of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .containers import FunctionError, Invoker
from .events import sqs_event, sqs_record

MAX_MESSAGES_PER_RECEIVE = 10  # SQS's limit per ReceiveMessage call
IDLE_WAIT_SECONDS = 2  # long-poll wait while idle; short so that shutdown is quick


def _message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's MessageAttributes in the Lambda event's spelling."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return converted


class Poller:
    """The event source mapping from the orders queue to `function`, invoked through `functions`."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        functions: Invoker,
        batch_size: int,
        batch_window: float,
        log: Callable[[str], None] = print,
        function: str = "worker",
    ) -> None:
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.functions, self.function = functions, function
        self.batch_size, self.batch_window = batch_size, batch_window
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)
        self.batches = self.deleted = self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = IDLE_WAIT_SECONDS + 5) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ------------------------------------------------------------------------------------------
    def _receive(self, limit: int, wait: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(MAX_MESSAGES_PER_RECEIVE, limit),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def _gather(self) -> list[dict[str, Any]]:
        batch = self._receive(self.batch_size, IDLE_WAIT_SECONDS)
        if not batch:
            return batch
        deadline = time.monotonic() + self.batch_window
        while len(batch) < self.batch_size and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = self._receive(self.batch_size - len(batch), max(0, min(20, int(left))))
            batch += more
            if not more and left < 1:
                break
        return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._gather()
                if batch:
                    self._deliver(batch)
            except (BotoCoreError, ClientError) as error:  # the emulator going away at shutdown, or a transient error: keep polling
                if self._stop.is_set():
                    return
                self.log(f"  poller: {type(error).__name__}: {error}")
                self._stop.wait(1)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        records = [
            sqs_record(
                m["Body"],
                queue_arn=self.queue_arn,
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                attributes=m.get("Attributes", {}),
                message_attributes=_message_attributes(m.get("MessageAttributes", {})),
            )
            for m in messages
        ]
        for record, message in zip(records, messages, strict=True):
            record["md5OfBody"] = message.get("MD5OfBody", record["md5OfBody"])
        self.batches += 1
        ids = {m["MessageId"] for m in messages}
        try:
            result = self.functions.invoke(self.function, sqs_event(records))
            failed = self._failures(result, ids)
        except FunctionError:
            failed = ids  # the whole batch is retried
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), MAX_MESSAGES_PER_RECEIVE):
            chunk = done[start : start + MAX_MESSAGES_PER_RECEIVE]
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            )
            for error in response.get("Failed", []):
                self.log(f"  poller: could not delete a message: {error.get('Code')} {error.get('Message')}")
        self.deleted += len(done)
        self.failed += len(failed)
        counts = ",".join(m.get("Attributes", {}).get("ApproximateReceiveCount", "?") for m in messages)
        self.log(
            f"SQS {self.function} batch={len(messages)} ok={len(done)} failed={len(failed)} receives=[{counts}] "
            f"{(time.monotonic() - started) * 1000:.0f}ms"
        )

    def _failures(self, result: Any, ids: set[str]) -> set[str]:
        """The ids to retry, read from a partial batch response as Lambda reads it."""
        if result is None or result == {}:
            return set()
        items = result.get("batchItemFailures") if isinstance(result, dict) else None
        if items is None:
            return set()  # any other value is a success
        if not isinstance(items, list):
            self.log("  poller: batchItemFailures is not a list: the whole batch fails")
            return ids
        failed: set[str] = set()
        for item in items:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in ids:
                # Lambda treats an empty, null or unknown identifier as a failure of the whole batch
                self.log(f"  poller: bad itemIdentifier {identifier!r}: the whole batch fails")
                return ids
            failed.add(identifier)
        return failed
