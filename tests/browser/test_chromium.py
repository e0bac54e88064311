"""Getting the browser on a fresh machine: find it, install Debian's packages when root with apt, else say so."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.browser import chromium


class FakeApt:
    """subprocess.run for apt-get: records the commands; `installs` puts chromium on PATH."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail: str = "", installs: bool = True) -> None:
        self.commands: list[list[str]] = []
        self.installed = False
        self.fail, self.installs = fail, installs
        monkeypatch.setattr(chromium.shutil, "which", self.which)
        monkeypatch.setattr(chromium.os, "access", lambda path, mode: self.installed)
        monkeypatch.setattr(chromium.subprocess, "run", self.run)

    def which(self, name: str) -> str | None:
        if name == "apt-get":
            return "/usr/bin/apt-get"
        return "/usr/bin/chromium" if name == "chromium" and self.installed else None

    def run(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        assert kwargs["env"]["DEBIAN_FRONTEND"] == "noninteractive" and kwargs["timeout"] > 0
        if self.fail and self.fail in command:
            return subprocess.CompletedProcess(command, 100, stdout="", stderr="E: Unable to locate package chromium")
        if "install" in command and self.installs:
            self.installed = True
        return subprocess.CompletedProcess(command, 0, stdout="ok", stderr="")


def test_a_chromium_on_path_is_used_as_it_is(monkeypatch):
    monkeypatch.setattr(chromium.shutil, "which", lambda name: "/opt/bin/chromium" if name == "chromium" else None)
    monkeypatch.setattr(chromium.subprocess, "run", lambda *a, **k: pytest.fail("nothing to install"))
    assert chromium.ensure() == "/opt/bin/chromium"


def test_root_with_apt_installs_debians_packages(monkeypatch):
    apt = FakeApt(monkeypatch)
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    assert chromium.ensure() == "/usr/bin/chromium"
    assert apt.commands == [
        ["/usr/bin/apt-get", "update", "-q"],
        ["/usr/bin/apt-get", "install", "-y", "-q", "chromium", "chromium-driver"],
    ]


def test_a_failed_install_says_what_apt_said(monkeypatch):
    FakeApt(monkeypatch, fail="install")
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    with pytest.raises(
        chromium.BrowserUnavailable, match=r"apt-get install -y -q chromium chromium-driver` failed \(100\):\nE: Unable to locate"
    ):
        chromium.ensure()


def test_an_install_that_leaves_no_chromium_is_reported(monkeypatch):
    FakeApt(monkeypatch, installs=False)
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    with pytest.raises(chromium.BrowserUnavailable, match="still no `chromium` on PATH"):
        chromium.ensure()


def test_without_root_nothing_is_installed(monkeypatch):
    apt = FakeApt(monkeypatch)
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 1000)
    with pytest.raises(chromium.BrowserUnavailable, match="sudo apt-get install chromium"):
        chromium.ensure()
    assert apt.commands == []


def test_no_browser_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="the browser tests cannot run: no chromium"):
        chromium.unavailable("no chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="the browser tests cannot run: no chromium"):
        chromium.unavailable("no chromium")
