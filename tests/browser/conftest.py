"""Browser tests: the web app in Debian's headless Chromium (driven by Playwright) against a real `python -m local`.

The browser is had like this: Chromium on PATH is used; if it is missing and this is root with apt-get,
Debian's package is installed (tests/browser/chromium.py). A browser that cannot be had fails the run
when CI=true and skips these tests otherwise, with the reason. Each test gets a fresh profile and a
`Watched` page that records console errors, page errors, dialogs and every request, so a test can
require a clean console and no request to any host but the web app's and the API's origins.
Screenshots go to .local/screenshots/.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium
from tests.browser.watch import Watched, origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from e2e_support import LocalRuntime, data_dir  # noqa: E402  (the e2e tests' runtime launcher, shared)

VIEWPORT = {"width": 1100, "height": 860}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        from playwright.sync_api import expect
    except ImportError:
        chromium.unavailable("the playwright package is missing: `python3 dev.py test` installs requirements-dev.txt")
    expect.set_options(timeout=15_000)  # the machine is shared: give a busy CPU time before calling it a failure
    try:
        return chromium.ensure()
    except chromium.BrowserUnavailable as error:
        chromium.unavailable(str(error))


@pytest.fixture(scope="session")
def site(chromium_path: str) -> Iterator[LocalRuntime]:
    """One `python -m local` for the browser tests (started only once a browser is there)."""
    workdir = data_dir("todo-browser-")
    try:
        local = LocalRuntime(workdir, workdir / "data").start()
        yield local
        local.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def browser(site: LocalRuntime, chromium_path: str) -> Iterator[Watched]:
    """A fresh Chromium profile and page, watched."""
    with chromium.launch(chromium_path, viewport=VIEWPORT) as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        watched = Watched(page, web=origin(site.outputs["webUrl"]), api=origin(site.outputs["apiUrl"]))
        page.on("console", watched.on_console)
        page.on("pageerror", lambda error: watched.page_errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        context.on("request", lambda request: watched.requests.append((request.method, request.url, request.headers)))
        yield watched
