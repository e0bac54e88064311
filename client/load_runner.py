"""The load runner: the child process of `python -m client load` that runs Locust (it imports locust).

Started as `python -c "import locust, ...; main(PLAN)"` so that Locust's monkey-patching comes before any
other import. Reads the plan (plan.json, written by client/load.py), runs the users of client/load_users.py
in this process (a local runner) or, with workers, as a master with K `locust --worker` processes, shows one
progress line, stops the run after its duration (or on Ctrl-C: the users still delete their accounts), and
writes stats.json (the figures client/load.py turns into report.json) and Locust's report.html.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import gevent
import gevent.event
import locust
from locust.env import Environment
from locust.html import get_html_report
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, Runner
from locust.stats import StatsEntry

STOP_TIMEOUT = 5  # seconds a user gets to finish its task at the end before it is stopped (and deletes its account)
WORKER_CONNECT_SECONDS = 60
PROGRESS_EVERY = 1.0  # seconds, on a terminal; otherwise a line every PLAIN_PROGRESS_EVERY
PLAIN_PROGRESS_EVERY = 10.0
USERS_FILE = Path(__file__).with_name("load_users.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def entry_figures(entry: StatsEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "method": entry.method,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.5) if entry.num_requests else 0,
        "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else 0,
        "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else 0,
        "avg_ms": round(entry.avg_response_time, 1),
        "max_ms": entry.max_response_time or 0,
    }


class Progress:
    """One live line: elapsed, users, requests/s, failures, p95 (of the last few seconds)."""

    def __init__(self, env: Environment, runner: Runner, began: float) -> None:
        self.env, self.runner, self.began = env, runner, began
        self.tty = sys.stderr.isatty()
        self.peak_users = 0

    def line(self) -> str:
        total = self.env.stats.total
        p95 = total.get_current_response_time_percentile(0.95) or 0
        return (
            f"{time.monotonic() - self.began:5.0f} s  users {self.runner.user_count:4}  {total.current_rps:7.1f} req/s  "
            f"failures {total.num_failures:5}  p95 {p95:6.0f} ms"
        )

    def run(self) -> None:
        last_plain = time.monotonic()
        while True:
            gevent.sleep(PROGRESS_EVERY)
            self.peak_users = max(self.peak_users, self.runner.user_count)
            if self.tty:
                sys.stderr.write("\r" + self.line())
                sys.stderr.flush()
            elif time.monotonic() - last_plain >= PLAIN_PROGRESS_EVERY:
                last_plain = time.monotonic()
                print(self.line(), file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + self.line() + "\n")
            sys.stderr.flush()


def start_workers(count: int, port: int, tag: str) -> list[subprocess.Popen[bytes]]:
    """K `locust --worker` processes on this machine, each in its own session (Ctrl-C reaches the master only,
    which stops them so that their users delete their accounts)."""
    command = [sys.executable, "-m", "locust", "-f", str(USERS_FILE), "--worker", "--master-host", "127.0.0.1"]
    command += ["--master-port", str(port), "--loglevel", "WARNING"]
    env = {**os.environ, "TODO_LOAD_TAG": tag}
    return [subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL) for _ in range(count)]


def main(plan_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    report_dir = Path(plan["report_dir"])
    os.environ["TODO_LOAD_TAG"] = plan["tag"]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from client import load_users  # after the tag is set: it names the accounts

    env = Environment(user_classes=[load_users.LoadUser], events=locust.events, host=plan["host"], stop_timeout=STOP_TIMEOUT)
    started = start_runner(env, plan)
    if started is None:
        return 2
    runner, workers = started
    run = measure(env, runner, plan)
    print("stopping the users; each deletes its account", file=sys.stderr, flush=True)
    runner.stop()
    if isinstance(runner, MasterRunner):
        gevent.sleep(WORKER_REPORT_INTERVAL + 1)  # the workers' last reports: their accounts' clean-up
    runner.quit()
    stop_workers(workers)
    result = {**run_figures(env, runner, load_users), **run, "workers": plan["workers"]}
    (report_dir / "report.html").write_text(get_html_report(env, show_download_link=False))
    (report_dir / "stats.json").write_text(json.dumps(result, indent=1))
    return 130 if run["interrupted"] else 0


def start_runner(env: Environment, plan: dict[str, Any]) -> tuple[Runner, list[subprocess.Popen[bytes]]] | None:
    """A local runner, or a master runner with the plan's workers connected to it; None (after a message) when
    the workers do not connect in time."""
    if not plan["workers"]:
        return env.create_local_runner(), []
    port = free_port()
    runner: Runner = env.create_master_runner(master_bind_host="127.0.0.1", master_bind_port=port)
    workers = start_workers(plan["workers"], port, plan["tag"])
    deadline = time.monotonic() + WORKER_CONNECT_SECONDS
    while len(runner.clients.ready) < plan["workers"]:  # type: ignore[attr-defined]
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            print(f"error: {plan['workers']} workers did not connect within {WORKER_CONNECT_SECONDS} s", file=sys.stderr)
            runner.quit()
            stop_workers(workers)
            return None
        gevent.sleep(0.2)
    return runner, workers


def measure(env: Environment, runner: Runner, plan: dict[str, Any]) -> dict[str, Any]:
    """Run the users for the plan's duration (or until Ctrl-C or SIGTERM) with a progress line: the duration,
    the peak user count and whether the run was interrupted."""
    interrupted = False
    finished = gevent.event.Event()

    def on_interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        finished.set()

    gevent.signal_handler(signal.SIGINT, on_interrupt)
    gevent.signal_handler(signal.SIGTERM, on_interrupt)
    began = time.monotonic()
    progress = Progress(env, runner, began)
    ticker = gevent.spawn(progress.run)
    runner.start(plan["users"], spawn_rate=plan["spawn_rate"])
    finished.wait(plan["duration_s"])
    duration = time.monotonic() - began
    peak = max(progress.peak_users, runner.user_count)
    ticker.kill()
    progress.done()
    return {"duration_s": duration, "users": peak, "interrupted": interrupted}


def run_figures(env: Environment, runner: Runner, load_users: ModuleType) -> dict[str, Any]:
    """Locust's figures per route and in total, the statuses, errors and exceptions, the accounts created and deleted."""
    stats = env.stats
    errors = [
        {"route": error.name, "method": error.method, "error": str(error.error), "count": error.occurrences}
        for error in sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    ]
    errors += [{"route": None, "method": None, "error": f"cleanup: {what}", "count": n} for what, n in load_users.PROBLEMS.items()]
    return {
        "entries": [entry_figures(entry) for entry in stats.entries.values()],
        "total": entry_figures(stats.total),
        "statuses": {name: dict(by_status) for name, by_status in load_users.STATUSES.items()},
        "errors": errors,
        "exceptions": sum(row["count"] for row in runner.exceptions.values()),
        "accounts": {key: load_users.ACCOUNTS.get(key, 0) for key in ("created", "deleted", "left")},
    }


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.terminate()
            try:
                worker.wait(5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
