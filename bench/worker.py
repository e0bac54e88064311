"""4. Worker throughput: orders stored per second when the worker gets batches of 10 vs one order per
invocation, the worker handler invoked in-process with sqs_event records (local/events.py) against the
emulator's orders table.

The message bodies are real: one order is accepted through POST /orders (orders handler), read back from
the emulator's queue, and used as the template; each synthetic order gets a fresh id from todo_app.ids,
so every record is a first delivery (a real conditional write). Batch and single rounds alternate.

Measured twice. (a) Against the emulator as it is: moto serves one request at a time (a global lock
and ~8 ms of CPU per PutItem on this machine), so no worker can store orders faster than it answers,
whatever its concurrency; this row has no goal. (b) With DynamoDB's answer stood in for: the worker's
client does all of its own work (serialising, signing, parsing the answer) but the HTTP exchange is
replaced by a fixed round trip (ROUND_TRIP_MS, DynamoDB's "single-digit milliseconds" in-region) and
an empty PutItem answer; this is what the worker's concurrency is for, and carries the goal.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from typing import Any

from local.events import sqs_event, sqs_record
from todo_app.ids import new_id

from .core import Section, median
from .environment import World
from .warm import seeded

GOAL = 4.0
ROUND_TRIP_MS = 5.0


class _Body:
    def stream(self, **_: Any) -> Any:
        yield b"{}"


def stand_in_dynamodb(client: Any) -> Callable[[], None]:
    """Answer the client's PutItem calls after ROUND_TRIP_MS, without the emulator; returns the undo."""
    from botocore.awsrequest import AWSResponse

    def answer(request: Any, **_: Any) -> AWSResponse:
        time.sleep(ROUND_TRIP_MS / 1000)  # sleeps as a network wait does: other threads run meanwhile
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, _Body())

    client.meta.events.register("before-send.dynamodb.PutItem", answer, unique_id="bench-stand-in")
    return lambda: client.meta.events.unregister("before-send.dynamodb.PutItem", unique_id="bench-stand-in")


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

        def measure() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
            modes = {"batch10": batches_of(10), "single": batches_of(1)}
            modes["batch10"](), modes["single"]()  # warm-up
            rates: dict[str, list[float]] = {m: [] for m in modes}
            invocation_ms: dict[str, list[float]] = {m: [] for m in modes}
            for r in range(rounds):
                for mode in ("batch10", "single") if r % 2 == 0 else ("single", "batch10"):
                    durations = modes[mode]()
                    rates[mode].append(per_round / sum(durations))
                    invocation_ms[mode] += [d * 1000 for d in durations]
            return rates, invocation_ms

        rates, invocation_ms = measure()
        # the worker module's own `aws` (the container imports its own copy of todo_app)
        worker_aws = inspect.unwrap(worker).__globals__["aws"]
        undo = stand_in_dynamodb(worker_aws.client("dynamodb"))
        try:
            rt_rates, rt_invocation_ms = measure()
        finally:
            undo()
    section.add(
        f"orders/s, batches of 10 vs 1 per invocation, {ROUND_TRIP_MS:.0f} ms DynamoDB",
        median(rt_rates["batch10"]),
        "/s",
        baseline=median(rt_rates["single"]),
        baseline_name="1 per invocation",
        goal=f">= {GOAL:.0f}x",
        goal_min_ratio=GOAL,
        note=f"PutItem answered after {ROUND_TRIP_MS:.0f} ms instead of by the emulator; median of {rounds} rounds x {per_round} orders",
    )
    section.add(
        "orders/s, batches of 10 vs 1 per invocation, emulator",
        median(rates["batch10"]),
        "/s",
        baseline=median(rates["single"]),
        baseline_name="1 per invocation",
        note="the emulator answers one request at a time: its ceiling, not the worker's",
    )
    section.add("worker invocation, batch of 10 (median), emulator", median(invocation_ms["batch10"]), "ms")
    section.add("worker invocation, 1 record (median), emulator", median(invocation_ms["single"]), "ms")
    section.add(f"worker invocation, batch of 10 (median), {ROUND_TRIP_MS:.0f} ms DynamoDB", median(rt_invocation_ms["batch10"]), "ms")
    if failures:
        section.notes.append(f"{failures} records were reported in batchItemFailures (expected 0)")
    section.notes.append(
        "handler time only (the event source mapping's polling is not part of it); a conditional PutItem per order, "
        "through the emulator or answered after the round trip"
    )
    section.data = {
        "round_trip_ms": ROUND_TRIP_MS,
        "rates_per_s_round_trip": rt_rates,
        "invocation_ms_median_round_trip": {m: round(median(v), 3) for m, v in rt_invocation_ms.items()},
        "rates_per_s": rates,
        "per_round": per_round,
        "rounds": rounds,
        "batch_item_failures": failures,
        "invocation_ms_median": {m: round(median(v), 3) for m, v in invocation_ms.items()},
    }
    # the cost model bills the emulator-measured duration: the longer of the two, a conservative figure
    shared["worker_ms"] = {m: max(median(v), median(rt_invocation_ms[m])) for m, v in invocation_ms.items()}
