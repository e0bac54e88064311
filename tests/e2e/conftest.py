"""End-to-end fixtures: one `python -m local` for the session (see e2e_support.LocalRuntime), clients, users."""

from __future__ import annotations

import shutil

import pytest
from e2e_support import CONTRACT_SUMMARY, LocalRuntime, data_dir, signed_up, unique_email

from client import Client


@pytest.fixture(scope="session")
def runtime() -> LocalRuntime:
    workdir = data_dir()
    try:
        # Every request of the session comes from 127.0.0.1, and schemathesis alone makes hundreds of failed
        # log-ins: the per-source limit (staging: loginIpMaxFailures) would refuse the later tests' log-ins.
        # Its own tests run against the functions (tests/functions, a limit of 20) with addresses of their own.
        local = LocalRuntime(workdir, workdir / "data", options=("--config", "loginIpMaxFailures=10000")).start()
        print(f"\nlocal runtime ready in {local.startup_seconds:.2f}s at {local.url}")
        yield local
        local.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def api(runtime) -> Client:
    """A fresh client, not logged in."""
    return runtime.client()


@pytest.fixture
def new_email():
    """A function that makes a new unique e-mail address."""
    return unique_email


@pytest.fixture
def user(runtime) -> Client:
    """A new signed-up user, logged in; `.password` and `.email` kept for the test."""
    return signed_up(runtime)


@pytest.fixture
def other(runtime) -> Client:
    """A second logged-in user."""
    return signed_up(runtime)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(CONTRACT_SUMMARY, None)
    if lines:
        terminalreporter.section("contract (schemathesis)")
        for line in lines:
            terminalreporter.write_line(line)
