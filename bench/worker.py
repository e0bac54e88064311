"""4. Worker throughput: orders stored per second when the worker gets batches of 10 vs one order per
invocation, the worker handler invoked in-process with sqs_event records (local/events.py) against the
emulator's orders table.

The message bodies are real: one order is accepted through POST /orders (orders handler), read back from
the emulator's queue, and used as the template; each synthetic order gets a fresh id from todo_app.ids,
so every record is a first delivery (a real conditional write). Batch and single rounds alternate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from local.events import sqs_event, sqs_record
from todo_app.ids import new_id

from .core import Section, median
from .environment import World
from .warm import seeded


def run(section: Section, world: World, quick: bool, shared: dict[str, Any]) -> None:
    per_round, rounds = (60, 3) if quick else (200, 7)
    with seeded(world, "bench-worker-logs-") as (proc, api, ids, _):
        api.call(
            "POST",
            "/orders",
            token=ids["token"],
            body={"amount": "12.50", "currency": "EUR", "items": [{"sku": "A1", "quantity": 2}]},
            expect=202,
        )
        sqs = world.emulator.client("sqs")
        queue_url = world.resources.queue_url
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if not received:
            raise RuntimeError("POST /orders put no message on the queue")
        template = json.loads(received[0]["Body"])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
        worker = proc.handler("worker")

        def records(n: int) -> list[dict[str, Any]]:
            return [
                sqs_record(json.dumps({**template, "orderId": new_id()}, separators=(",", ":")), queue_arn=world.resources.queue_arn)
                for _ in range(n)
            ]

        failures = 0

        def batches_of(size: int) -> Callable[[], list[float]]:
            def go() -> list[float]:
                nonlocal failures
                events = [sqs_event(records(size)) for _ in range(per_round // size)]  # built outside the clock
                durations = []
                for event in events:
                    t = time.perf_counter()
                    answer = worker(event, proc.context("worker"))
                    durations.append(time.perf_counter() - t)
                    failures += len((answer or {}).get("batchItemFailures", []))
                return durations

            return go

        modes = {"batch10": batches_of(10), "single": batches_of(1)}
        modes["batch10"](), modes["single"]()  # warm-up
        rates: dict[str, list[float]] = {m: [] for m in modes}
        invocation_ms: dict[str, list[float]] = {m: [] for m in modes}
        for r in range(rounds):
            for mode in ("batch10", "single") if r % 2 == 0 else ("single", "batch10"):
                durations = modes[mode]()
                rates[mode].append(per_round / sum(durations))
                invocation_ms[mode] += [d * 1000 for d in durations]
    batch, single = median(rates["batch10"]), median(rates["single"])
    section.add(
        "orders/s, batches of 10 vs one order per invocation",
        batch,
        "/s",
        baseline=single,
        baseline_name="1 per invocation",
        note=f"median of {rounds} rounds x {per_round} orders",
    )
    section.add("worker invocation, batch of 10 (median)", median(invocation_ms["batch10"]), "ms")
    section.add("worker invocation, 1 record (median)", median(invocation_ms["single"]), "ms")
    if failures:
        section.notes.append(f"{failures} records were reported in batchItemFailures (expected 0)")
    section.notes.append("handler time only (the event source mapping's polling is not part of it); real conditional PutItem per order")
    section.data = {
        "rates_per_s": rates,
        "per_round": per_round,
        "rounds": rounds,
        "batch_item_failures": failures,
        "invocation_ms_median": {m: round(median(v), 3) for m, v in invocation_ms.items()},
    }
    shared["worker_ms"] = {m: median(v) for m, v in invocation_ms.items()}
