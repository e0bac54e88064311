"""4. Worker throughput: orders stored per second when the worker gets batches of 10 vs one order per
invocation, the worker handler invoked in-process with sqs_event records (local/events.py) against the
emulator's orders table.

The message bodies are real: one order is accepted through POST /orders (orders handler), read back from
the emulator's queue, and used as the template; each synthetic order gets a fresh id from todo_app.ids,
so every record is a first delivery (a real conditional write). Batch and single rounds alternate.

Measured twice. (a) Against the emulator as it is: moto serves one request at a time (a global lock
and ~8 ms of CPU per PutItem on this machine), so no worker can store orders faster than it answers,
whatever its concurrency; this row has no goal. (b) With DynamoDB's answer stood in for (bench/standin.py:
the emulator's PutItem answer recorded in (a), replayed after DynamoDB's round trip of the cost model):
the worker's client does all of its own work (serialising, signing, parsing the answer), and the wait is
a network wait; this is what the worker's concurrency is for, and carries the goal. The batch's own time
and wait in (b) are the cost model's worker duration.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from local.events import sqs_event, sqs_record
from todo_app.catalog import path_of
from todo_app.ids import new_id

from .core import Section, median
from .environment import World
from .standin import StandIn, Timing, round_trips_ms
from .warm import seeded

GOAL = 4.0
ROUND_TRIP_MS = round_trips_ms()["dynamodb"]


def run(section: Section, world: World, quick: bool, shared: dict[str, Any]) -> None:
    per_round, rounds = (60, 3) if quick else (200, 7)
    with seeded(world, "bench-worker-logs-") as (proc, api, ids, _):
        api.call(
            "POST",
            path_of("create_order"),
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

        stand_in = StandIn()

        def batches_of(size: int) -> Callable[[], list[Timing]]:
            def go() -> list[Timing]:
                nonlocal failures
                events = [sqs_event(records(size)) for _ in range(per_round // size)]  # built outside the clock
                timings = []
                for event in events:
                    timing = stand_in.time(functools.partial(worker, event, proc.context("worker")))
                    failures += len((timing.result or {}).get("batchItemFailures", []))
                    timings.append(timing)
                return timings

            return go

        def measure() -> tuple[dict[str, list[float]], dict[str, list[Timing]]]:
            modes = {"batch10": batches_of(10), "single": batches_of(1)}
            modes["batch10"](), modes["single"]()  # warm-up (and, through the emulator, the answers to replay)
            rates: dict[str, list[float]] = {m: [] for m in modes}
            timings: dict[str, list[Timing]] = {m: [] for m in modes}
            for r in range(rounds):
                for mode in ("batch10", "single") if r % 2 == 0 else ("single", "batch10"):
                    done = modes[mode]()
                    rates[mode].append(per_round / sum(t.total_ms / 1000 for t in done))
                    timings[mode] += done
            return rates, timings

        with stand_in.active():
            rates, emulated = measure()
            stand_in.replaying = True
            rt_rates, replayed = measure()
        invocation_ms = {m: [t.total_ms for t in v] for m, v in emulated.items()}
        rt_invocation_ms = {m: [t.total_ms for t in v] for m, v in replayed.items()}
    section.add(
        f"orders/s, batches of 10 vs 1 per invocation, {ROUND_TRIP_MS:g} ms DynamoDB",
        median(rt_rates["batch10"]),
        "/s",
        baseline=median(rt_rates["single"]),
        baseline_name="1 per invocation",
        goal=f">= {GOAL:.0f}x",
        goal_min_ratio=GOAL,
        note=f"PutItem answered after {ROUND_TRIP_MS:g} ms instead of by the emulator; median of {rounds} rounds x {per_round} orders",
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
    section.add(f"worker invocation, batch of 10 (median), {ROUND_TRIP_MS:g} ms DynamoDB", median(rt_invocation_ms["batch10"]), "ms")
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
    # the cost model's worker: a batch's own time (scaled by Lambda's CPU share there) and its wait
    shared["worker"] = {k: median(getattr(t, k) for t in replayed["batch10"]) for k in ("own_ms", "io_ms")}
