"""End-to-end support: `python -m local` as a real subprocess, driven over HTTP with the client.

The session runtime uses a short queue visibility timeout (--visibility-timeout) so that a failed
message is retried, and a poison message reaches the DLQ, within seconds instead of minutes.
Every runtime a test starts is stopped with SIGTERM, and the stop is verified: the runtime exits 0,
its PostgreSQL postmaster and its moto server are gone and their ports closed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from client import Client
from local.account import FAKE_CREDENTIALS
from local.system import free_port, pid_alive

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_SUMMARY = pytest.StashKey[list[str]]()  # test_contract's counts, for the terminal summary
VISIBILITY_TIMEOUT = 2
START_TIMEOUT = 60


def local_command(port: int, data_dir: Path, outputs: Path, function_logs: Path, *options: str, web_port: int | None = None) -> list[str]:
    """`python -m local` with its state (data, outputs, function logs) where a test wants it, and the web app
    on a free port of its own (never the API port + 1 by chance: that may be PostgreSQL's or the emulator's)."""
    return [
        sys.executable,
        "-m",
        "local",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--outputs",
        str(outputs),
        "--function-logs",
        str(function_logs),
        "--web-port",
        str(web_port or free_port()),
        *options,
    ]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def children(parent: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of `parent`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")))
        except (OSError, IndexError, ValueError):
            continue
    return found


class LocalRuntime:
    """One `python -m local` subprocess."""

    def __init__(self, workdir: Path, data_dir: Path, visibility_timeout: int = VISIBILITY_TIMEOUT, options: tuple[str, ...] = ()) -> None:
        self.workdir, self.data_dir = workdir, data_dir
        self.options = options  # further `python -m local` options, e.g. --snapstart
        self.port = free_port()
        self.web_port = free_port()
        self.outputs_path = workdir / f"outputs-{self.port}.json"
        self.log_path = workdir / f"local-{self.port}.log"
        self.function_log_path = workdir / f"functions-{self.port}.log"
        self.visibility_timeout = visibility_timeout
        self.process: subprocess.Popen | None = None
        self.outputs: dict = {}
        self.startup_seconds = 0.0
        self.postgres_pid = self.postgres_port = self.emulator_pid = self.emulator_port = None

    @property
    def url(self) -> str:
        return self.outputs["apiUrl"]

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def start(self) -> LocalRuntime:
        command = local_command(
            self.port,
            self.data_dir,
            self.outputs_path,
            self.function_log_path,
            "--visibility-timeout",
            str(self.visibility_timeout),
            *self.options,
            web_port=self.web_port,
        )
        began = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
        deadline = began + START_TIMEOUT
        while not self.outputs_path.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"python -m local exited with {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop(check=False)
                raise RuntimeError(f"python -m local was not ready within {START_TIMEOUT}s:\n{self.log()}")
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - began
        self.outputs = json.loads(self.outputs_path.read_text())
        self._find_servers()
        return self

    def _find_servers(self) -> None:
        found = re.findall(r"PostgreSQL on 127\.0\.0\.1:(\d+)", self.log())
        self.postgres_port = int(found[-1])
        self.postgres_pid = int((self.data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        self.emulator_port = urlsplit(self.outputs["ordersQueueUrl"]).port
        self.emulator_pid = next((pid for pid, command in children(self.process.pid) if "moto.server" in command), None)
        assert self.emulator_pid, "the runtime's moto server process was not found"

    def client(self) -> Client:
        return Client.from_outputs(self.outputs_path)

    def sqs(self) -> Any:
        url = urlsplit(self.outputs["ordersQueueUrl"])
        return boto3.client(
            "sqs",
            endpoint_url=f"{url.scheme}://{url.netloc}",
            region_name=self.outputs["region"],
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self, check: bool = True, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
        """SIGTERM (or `sig`), wait, then (check=True) assert that nothing the runtime started is left."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                if check:
                    raise AssertionError(f"python -m local did not stop within {timeout}s:\n{self.log()[-3000:]}") from None
        leftovers = []
        deadline = time.monotonic() + 10
        while True:
            leftovers = [name for name, pid in (("postgres", self.postgres_pid), ("moto", self.emulator_pid)) if pid and pid_alive(pid)]
            leftovers += [
                f"port {port}" for port in (self.postgres_port, self.emulator_port, self.port, self.web_port) if port and port_open(port)
            ]
            if not leftovers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for pid in (self.postgres_pid, self.emulator_pid):  # never leave a server behind, even when the check fails
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if check:
            assert self.process.returncode == 0, f"exit code {self.process.returncode}:\n{self.log()[-3000:]}"
            assert not leftovers, f"left behind: {leftovers}"
            assert not self.outputs_path.exists(), "outputs.json left behind by a stopped runtime"
        self.process = None


def data_dir(prefix: str = "todo-e2e-") -> Path:
    """A directory for --data-dir OUTSIDE pytest's basetemp: a concurrent pytest session resets its root to
    mode 0700, and PostgreSQL, running as an unprivileged system user, then cannot reach its data."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def signed_up(runtime: LocalRuntime) -> Client:
    client = runtime.client()
    client.email, client.password = unique_email(), "a-good-password"
    client.profile = client.sign_up("Test User", client.email, client.password, age=42)
    client.log_in(client.email, client.password)
    return client
