"""Debian's Chromium for the browser tests and the web benchmark: find it, install it when we can, launch it.

Test tools that download their own browser build cannot reach their download hosts here, so Playwright
drives the system's `chromium` (Debian's package) through `executable_path`. When it is missing and this
process is root on a machine with apt, it installs Debian's package itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ViewportSize

# No background traffic (updates, sync, metrics): on this closed network each attempt is a refused
# connection, and the test checks that the page talks to its two origins only.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)
# Playwright needs only `chromium`; `chromium-driver` comes along so that `chromedriver` is there as the
# project's machines are described (Selenium users), and the two always come from one Debian version.
PACKAGES = ("chromium", "chromium-driver")
INSTALL_TIMEOUT = 900


class BrowserUnavailable(Exception):
    """No Chromium and no way to get one; the message says what to do."""


def unavailable(message: str) -> NoReturn:
    """No browser: a failure in CI (CI=true), where a skipped browser test would hide a broken set-up; a skip elsewhere."""
    import pytest

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser tests cannot run: {message}", pytrace=False)
    pytest.skip(f"the browser tests cannot run: {message}")


def find() -> str | None:
    return shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if os.access(p, os.X_OK)), None)


def install() -> str:
    """apt-get update, then apt-get install Debian's Chromium; the log of both on failure."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise BrowserUnavailable("Chromium is not installed and this is not root with apt-get: run `sudo apt-get install chromium`")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-q"], [apt, "install", "-y", "-q", *PACKAGES]):
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:
            raise BrowserUnavailable(f"`{' '.join(command)}` failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
    found = find()
    if found is None:
        raise BrowserUnavailable(f"apt-get installed {', '.join(PACKAGES)} but there is still no `chromium` on PATH")
    return found


def ensure() -> str:
    """The path of Debian's Chromium, installing it if needed; BrowserUnavailable if it cannot be had."""
    return find() or install()


@contextmanager
def launch(executable: str, viewport: ViewportSize | None = None) -> Iterator[BrowserContext]:
    """A headless Chromium with a fresh, empty profile (deleted afterwards), as one browser context."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="todo-chromium-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=executable, headless=True, args=list(FLAGS), viewport=viewport
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
