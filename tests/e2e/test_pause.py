"""Aurora's auto-pause, emulated (`python -m local --pause-database-after 2 --resume-seconds 1`, local/pause.py):
PostgreSQL really stops when no connection is open; a SQL route then waits for the resume and answers 200;
GET /health (last known state) and DynamoDB-only routes answer without waking it."""

from __future__ import annotations

import re
import shutil
import time

import psycopg
import pytest
from e2e_support import LocalRuntime, data_dir, port_open, signed_up

from local.runtime import APP_DB_PASSWORD
from local.system import pid_alive

PAUSE_AFTER, RESUME = 2, 1


@pytest.fixture(scope="module")
def pausing():
    workdir = data_dir("todo-e2e-pause-")
    local = LocalRuntime(workdir, workdir / "data", options=("--pause-database-after", str(PAUSE_AFTER), "--resume-seconds", str(RESUME)))
    try:
        yield local.start()
    finally:
        local.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def count(runtime: LocalRuntime, what: str) -> int:
    return len(re.findall(rf"\[local\] database {what}", runtime.log()))


def wait_for_pause(runtime: LocalRuntime, pauses_before: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while count(runtime, "paused") <= pauses_before:
        assert time.monotonic() < deadline, f"the database did not pause:\n{runtime.log()[-2000:]}"
        time.sleep(0.2)


def postmaster_running(runtime: LocalRuntime) -> bool:
    pid_file = runtime.data_dir / "pgdata" / "postmaster.pid"
    return pid_file.exists() and pid_alive(int(pid_file.read_text().split()[0]))


def test_a_paused_database_resumes_for_sql_but_not_for_health_or_dynamodb_routes(pausing):
    user = signed_up(pausing)
    todo = user.create_todo(user.user_id, "before the pause")
    paused = count(pausing, "paused")
    wait_for_pause(pausing, paused)  # the idle connections closed (DB_IDLE_TIMEOUT), then no connection for 2 s
    resumes = count(pausing, "resumed")
    assert not postmaster_running(pausing) and not port_open(pausing.postgres_port)

    health = user.health()  # the last known state, no connection
    assert health["status"] == "ok" and health["checks"] == {"postgres": "ok", "dynamodb": "ok"}
    assert health["lastKnown"]["postgres"]["state"] == "ok"
    assert user.get_todo(todo["id"])["title"] == "before the pause"  # DynamoDB only
    assert user.list_todos()["items"][0]["id"] == todo["id"]
    time.sleep(0.5)
    assert count(pausing, "resumed") == resumes and not postmaster_running(pausing)

    began = time.monotonic()
    assert user.get_user()["id"] == user.user_id  # PostgreSQL: held while it resumes, then answered
    assert time.monotonic() - began >= RESUME
    assert count(pausing, "resumed") == resumes + 1 and postmaster_running(pausing)
    assert user.retries == 0  # answered the first time: no 503


def test_an_open_idle_connection_keeps_the_database_running(pausing):
    """As on Aurora, a connection held open (even doing nothing) prevents the pause; closing it allows it."""
    proxy_port = int(re.findall(r"the functions connect through 127\.0\.0\.1:(\d+)", pausing.log())[-1])
    with psycopg.connect(
        host="127.0.0.1", port=proxy_port, dbname="todo", user="todo_app", password=APP_DB_PASSWORD, connect_timeout=20, autocommit=True
    ) as held:
        assert held.execute("SELECT 1").fetchone() == (1,)  # resumes the database if it had paused
        pauses = count(pausing, "paused")
        time.sleep(PAUSE_AFTER + 1.5)
        assert count(pausing, "paused") == pauses and postmaster_running(pausing)
    wait_for_pause(pausing, pauses)
    assert not postmaster_running(pausing)
