"""The runtime as a program: a restart with the same --data-dir, the demo, a clean stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from e2e_support import ROOT, LocalRuntime, data_dir, local_command, signed_up


@pytest.fixture
def workdir():
    path = data_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_restart_with_the_same_data_dir_keeps_users_todos_and_sessions(workdir):
    first = LocalRuntime(workdir, workdir / "data").start()
    try:
        user = signed_up(first)
        todo = user.create_todo(None, "survives a restart")
        token = user.token
    finally:
        first.stop(sig=signal.SIGINT)  # Ctrl-C; asserts exit 0 and no PostgreSQL, moto or port left behind

    second = LocalRuntime(workdir, workdir / "data").start()
    try:
        # the first run's todo and session, its log-in's device token and source-address counter, and PostgreSQL's
        # last known state (the status table)
        assert "restored 5 DynamoDB items" in second.log()
        client = second.client()
        session = client.log_in(user.email, user.password)  # the user is in PostgreSQL's data directory
        assert session["userId"] == user.user_id
        assert client.get_todo(todo["id"])["title"] == "survives a restart"  # the DynamoDB snapshot
        client.token = token  # so is the session of the first run
        assert client.get_user()["email"] == user.email
    finally:
        second.stop()


def run_demo(outputs: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client", "demo", "--outputs", str(outputs)], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_the_demo_walks_through_the_application_and_exits_0(runtime):
    done = run_demo(runtime.outputs_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for step in (
        "health",
        "sign up",
        "log in",
        "create todo",
        "list my todos",
        "mark 'buy milk' done",
        "place an order",
        "wait for the worker",
        "dashboard",
        "log out",
        "the old token is refused",
        "demo finished",
    ):
        assert step in done.stdout, step


def test_the_demo_explains_a_missing_outputs_file(tmp_path):
    done = run_demo(tmp_path / "none.json", timeout=60)
    assert done.returncode == 2 and "python -m local" in done.stderr


def test_from_stack_explains_a_missing_pulumi_cli(monkeypatch):
    from client import Client, ConfigurationError

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigurationError, match="Pulumi CLI"):
        Client.from_stack("staging")


def processes_with(marker: str) -> list[str]:
    """Command lines of the processes whose command line or environment mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if marker.encode() in cmdline or marker.encode() in (entry / "environ").read_bytes():
                    found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
    return found


def test_a_failed_start_up_stops_what_it_had_started(workdir):
    marker = f"E2E_MARKER_{uuid.uuid4().hex}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # the API port is taken: PostgreSQL and the emulator are already running when the bind fails
        done = subprocess.run(
            local_command(port, workdir / "data", workdir / "outputs.json", workdir / "functions.log"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
            env={**os.environ, marker: "1"},
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not start" in done.stdout and "Address already in use" in done.stdout
    assert not (workdir / "outputs.json").exists()
    assert processes_with(marker) == [] and processes_with(str(workdir / "data")) == []
