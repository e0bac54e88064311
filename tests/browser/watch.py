"""What a browser test watches on its page: console and page errors, dialogs, every request; screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots"
# Answers the API gives on purpose, which Chromium logs as "Failed to load resource": a 400 naming a
# bad field, and 404 for an order the worker has not stored yet or a route that does not exist yet.
EXPECTED_API_STATUSES = frozenset({400, 404})
# What a screen shows when code turned a missing value into text ("null", "undefined", "NaN") or printed
# an object ("[object Object]"): never right on any screen.
LEAKED_VALUES = re.compile(r"\b(?:null|undefined|NaN)\b|\[object")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Watched:
    page: Page
    web: str
    api: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, url, headers
    expected_api_statuses: frozenset[int] = EXPECTED_API_STATUSES

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url") or ""
        expected = any(f"status of {status} " in message.text for status in self.expected_api_statuses)
        if message.text.startswith("Failed to load resource") and where.startswith(self.api) and expected:
            return
        self.console_errors.append(f"{message.text} ({where})")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        return [url for _, url, _ in self.requests if origin(url) not in (self.web, self.api)]

    def unlabelled_controls(self) -> list[str]:
        """Inputs, selects and textareas on screen without a visible <label>."""
        result: list[str] = self.page.evaluate(
            """() => [...document.querySelectorAll("input, select, textarea")]
                .filter((c) => c.type !== "hidden" && c.offsetParent !== null)
                .filter((c) => ![...c.labels].some((l) => l.offsetParent !== null && l.textContent.trim()))
                .map((c) => c.name || c.id || c.outerHTML.slice(0, 80))"""
        )
        return result

    def shown_text(self) -> str:
        """What the screen shows a person or reads out: the page's text, its title, and the accessible
        labels, titles, alternative texts and placeholders written in attributes."""
        text: str = self.page.evaluate(
            """() => [document.title, document.body.innerText,
                ...[...document.querySelectorAll("[aria-label], [title], [alt], [placeholder]")].flatMap((e) =>
                    ["aria-label", "title", "alt", "placeholder"].map((name) => e.getAttribute(name)))]
                .filter(Boolean).join("\\n")"""
        )
        return text

    def assert_no_leaked_values(self) -> None:
        """Called on every screen a test visits, once the screen shows what the test waited for."""
        leaked = [line for line in self.shown_text().splitlines() if LEAKED_VALUES.search(line)]
        assert not leaked, f"the screen at {self.page.url} shows null/undefined/NaN/[object: {leaked}"

    def assert_clean(self) -> None:
        self.assert_no_leaked_values()
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.dialogs, f"dialogs were opened: {self.dialogs}"
        assert not self.foreign_requests(), f"requests to other hosts: {self.foreign_requests()}"
