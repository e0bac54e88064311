"""AWS answered after a service's real round trip instead of by the emulator.

The emulator is Python serving one request at a time (~8 ms of its own CPU per DynamoDB call on this
machine): a handler timed against it measures the emulator. `StandIn` records the emulator's answer to
each request once, then replays that exact answer (same bytes, headers and checksums) after the
service's round trip, as a network wait: the handler's client still does all of its own work
(serialising, signing, parsing the real answer), and other threads run meanwhile. The round trips
are assumptions of the cost model (bench/prices.json, with their sources), not measurements.

Each invocation's time splits into the I/O wait (the union of the replayed round trips, so concurrent
calls count once) and the handler's own time, which is what Lambda's CPU share scales (bench/cost.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")


def round_trips_ms() -> dict[str, float]:
    """Each service's round trip from a function in the same region, as the cost model assumes it."""
    trips: dict[str, float] = json.loads(PRICES_FILE.read_text())["assumptions"]["service_round_trip_ms"]
    return {k: float(v) for k, v in trips.items() if not k.startswith("_")}


Answer = tuple[int, dict[str, str], bytes]  # status, headers, body


class _Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


@dataclass
class Timing:
    """One invocation: wall ms, of which ms waiting on a replayed round trip, and what it returned."""

    total_ms: float
    io_ms: float
    result: Any = None

    @property
    def own_ms(self) -> float:
        return self.total_ms - self.io_ms


class StandIn:
    """Patches botocore's HTTP exchange while active: `record()` passes requests to the emulator and keeps
    the answers, `replay()` answers them from what was kept, after the service's round trip."""

    def __init__(self) -> None:
        self.trips = round_trips_ms()
        # by the exact request, and by operation for requests that differ each time (a new id, a timestamp)
        self.answers: dict[tuple[str, str, bytes], Answer] = {}
        self.by_operation: dict[tuple[str, str], Answer] = {}
        self.replaying = False
        self.waits: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def _send(self, original: Callable[..., Any]) -> Callable[..., Any]:
        from botocore.awsrequest import AWSResponse

        def send(endpoint: Any, request: Any) -> Any:
            service = endpoint._endpoint_prefix
            body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
            key = (service, str(request.headers.get("X-Amz-Target", "")), body)
            if not self.replaying:
                response = original(endpoint, request)
                self.answers[key] = self.by_operation[key[:2]] = (response.status_code, dict(response.headers), response.content)
            answer = self.answers.get(key) or self.by_operation.get(key[:2])
            if answer is None:
                raise KeyError(f"no recorded answer for {service} {key[1]}: record an invocation of the same request first")
            status, headers, content = answer
            if self.replaying:
                if service not in self.trips:
                    raise KeyError(f"no round trip for {service} in bench/prices.json service_round_trip_ms")
                start = time.perf_counter()
                time.sleep(self.trips[service] / 1000)  # a network wait: the GIL is free meanwhile
                with self._lock:
                    self.waits.append((start, time.perf_counter()))
            return AWSResponse(request.url, status, headers, _Body(content))

        return send

    @contextmanager
    def active(self) -> Iterator[StandIn]:
        from botocore.endpoint import Endpoint

        original = Endpoint._send
        Endpoint._send = self._send(original)
        try:
            yield self
        finally:
            Endpoint._send = original

    def time(self, invoke: Callable[[], Any]) -> Timing:
        """Run one invocation and split its time (the recorded answers are replayed)."""
        self.waits = []
        start = time.perf_counter()
        result = invoke()
        total = time.perf_counter() - start
        return Timing(total * 1000, _union(self.waits) * 1000, result)


def _union(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one interval."""
    covered, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            covered += b - max(a, end)
            end = b
    return covered
