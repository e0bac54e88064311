"""3. The local runtime (`python -m local`): request latency over HTTP, p50 and p99, for GET /todos/{id}
with a bearer token (authorizer + todos function, as API Gateway runs them), against the same two
handlers called in-process (a warm container, the bench's own PostgreSQL and emulator), interleaved
request by request; and the start-up time from launching the process until GET /health answers 200.

Each start uses its own temporary --outputs file (the developer's .local/outputs.json is left alone)
and is stopped with SIGTERM by its process id.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from client import Client
from local.system import free_port, stop_process
from todo_app.catalog import path_of

from .core import ROOT, Section, median, percentile
from .environment import World
from .warm import seeded

GOAL_START_S = 3.0
START_GOAL: dict[str, Any] = {"goal": f"<= {GOAL_START_S:g} s", "goal_value": GOAL_START_S}


class Local:
    """One `python -m local` whose files (outputs, logs) live in a temporary directory, not the project's .local/."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-local-"))
        self.outputs = self.dir / "outputs.json"
        self.port = free_port()
        args = [sys.executable, "-m", "local", "--port", str(self.port), "--outputs", str(self.outputs), "--log-level", "WARNING"]
        args += ["--web-port", str(free_port())]  # never the API port + 1 by chance
        if data_dir:
            args += ["--data-dir", str(data_dir)]
        args += ["--function-logs", str(self.dir / "functions.log")]
        self.log = open(self.dir / "local.log", "wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90) -> dict[str, float]:
        """Seconds from launch until outputs.json exists, and until GET /health answers 200 (which adds the
        health function's cold start); plus the runtime's own "ready in" figure from its log."""
        deadline = self.started + timeout
        found: dict[str, float] = {}
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"python -m local exited {self.process.returncode}: {self.tail()}")
            if self.outputs.exists():
                found.setdefault("outputs", time.perf_counter() - self.started)
                try:
                    if self.get(path_of("health"))[0] == 200:
                        found["health"] = time.perf_counter() - self.started
                        reported = re.search(r"ready in ([0-9.]+)s", self.tail(4000))
                        if reported:
                            found["reported"] = float(reported.group(1))
                        return found
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError(f"python -m local not ready after {timeout}s: {self.tail()}")

    def tail(self, size: int = 600) -> str:
        self.log.flush()
        return (self.dir / "local.log").read_text(errors="replace")[-size:]

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers={"authorization": f"Bearer {token}"} if token else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        stop_process(self.process, timeout=30)  # SIGTERM: the runtime stops what it started
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def timed_start(data_dir: Path | None = None) -> dict[str, float]:
    """One start-up of `python -m local`, measured, then stopped."""
    local = Local(data_dir)
    try:
        return local.wait_ready()
    finally:
        local.stop()


def run(section: Section, world: World, quick: bool, shared: dict[str, Any]) -> None:
    fresh_starts, kept_starts, n = (1, 0, 120) if quick else (3, 3, 500)
    starts: dict[str, list[dict[str, float]]] = {"fresh": [], "kept": []}
    kept_dir = Path(tempfile.mkdtemp(prefix="bench-local-data-"))
    try:
        # start-up: fresh temporary data (initdb every time) and a kept --data-dir (the usual dev loop)
        starts["fresh"] += [timed_start() for _ in range(fresh_starts - 1)]
        if kept_starts:
            timed_start(kept_dir)  # initializes the data dir; not counted
            starts["kept"] += [timed_start(kept_dir) for _ in range(kept_starts)]
        # the last fresh start serves the latency measurement
        local = Local()
        try:
            starts["fresh"].append(local.wait_ready())
            latency(section, world, local, n)
        finally:
            local.stop()
    finally:
        shutil.rmtree(kept_dir, ignore_errors=True)
    for mode, label in (("fresh", "fresh data"), ("kept", "kept --data-dir")):
        if not starts[mode]:
            continue
        runs = starts[mode]
        section.add(
            f"start-up to outputs.json, {label} (median of {len(runs)})",
            median(r["outputs"] for r in runs),
            "s",
            note="runtime's own 'ready in': " + ", ".join(f"{r.get('reported', float('nan')):.2f}s" for r in runs),
            **START_GOAL,
        )
        section.add(
            f"start-up to first GET /health 200, {label}",
            median(r["health"] for r in runs),
            "s",
            note="adds the health function's cold start",
            **START_GOAL,
        )
    section.notes.append("start-up is measured from launching `python -m local` (interpreter and imports included)")
    section.data["starts_s"] = starts


def latency(section: Section, world: World, local: Local, n: int) -> None:
    client = Client.from_outputs(local.outputs)
    email = f"bench-{os.getpid()}-{time.time_ns()}@example.com"
    user = client.sign_up("Bench", email, "correct horse battery staple")
    client.log_in(email, "correct horse battery staple")
    todo = client.create_todo(user["id"], "over http")
    todo_id, token = todo["id"], client.token
    path = path_of("get_todo", todoId=todo_id)
    status, body = local.get(path, token)
    if status != 200:
        raise RuntimeError(f"GET {path} over HTTP answered {status}: {body[:200]!r}")

    with seeded(world, "bench-rt-logs-") as (proc, api, ids, _):
        in_path = path_of("get_todo", todoId=ids["todo_id"])

        def in_process() -> Any:  # what the runtime does per request: authorizer, then the route's function
            context = api.authorize("GET", in_path, ids["token"])
            function, event = api.event("GET", in_path, token=ids["token"], context=context)
            return proc.invoke(function, event)

        def over_http() -> tuple[int, bytes]:
            return local.get(path, token)

        for _ in range(20):
            over_http(), in_process()
        http_ms: list[float] = []
        inproc_ms: list[float] = []
        for i in range(n):
            pair = ((over_http, http_ms), (in_process, inproc_ms)) if i % 2 == 0 else ((in_process, inproc_ms), (over_http, http_ms))
            for fn, out in pair:
                t = time.perf_counter_ns()
                fn()
                out.append((time.perf_counter_ns() - t) / 1e6)
    for q in (50, 99):
        section.add(
            f"GET /todos/{{id}} with token, p{q}: HTTP vs in-process",
            percentile(http_ms, q),
            "ms",
            baseline=percentile(inproc_ms, q),
            baseline_name="authorizer + todos handler in-process",
        )
    section.data.update(
        {
            "requests": n,
            "http_ms": {"p50": percentile(http_ms, 50), "p90": percentile(http_ms, 90), "p99": percentile(http_ms, 99)},
            "in_process_ms": {"p50": percentile(inproc_ms, 50), "p90": percentile(inproc_ms, 90), "p99": percentile(inproc_ms, 99)},
        }
    )
    section.notes.append(f"{n} requests each, interleaved; a new TCP connection per HTTP request")
