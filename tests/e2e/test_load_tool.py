"""`python -m client load` against the local runtime, in a subprocess (`import locust` monkey-patches the
standard library, so it never runs in pytest's process): the report, the exit codes, the accounts removed.
Short runs of a few users; the thresholds cannot flake (10^6 ms always met, 0 ms always breached)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from e2e_support import ROOT

from client.load import ACCOUNT_NAME

REPORT_KEYS = {"requests", "failures", "duration_s", "users", "routes", "slo"}
ROUTE_KEYS = {"route", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "rps"}


def load(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client", "load", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def accounts_left(user) -> list[dict]:
    return [u for u in user.all_users(limit=100) if u["name"] == ACCOUNT_NAME]


def test_a_short_run_reports_per_route_and_meets_loose_slos(runtime, user, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text(yaml.safe_dump({"p95_ms": 10**6, "error_rate": 1, "routes": {"GET /todos/{todoId}": {"p99_ms": 10**6}}}))
    done = load(
        "--outputs",
        str(runtime.outputs_path),
        "--users",
        "3",
        "--spawn-rate",
        "3",
        "--duration",
        "5s",
        "--slo",
        str(slo),
        "--report",
        str(tmp_path / "r"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert REPORT_KEYS <= set(report) and report["users"] == 3 and report["requests"] > 0
    assert report["slo"] == {"met": True, "breaches": [], "objectives": report["slo"]["objectives"]}
    names = {row["route"] for row in report["routes"]}
    assert {"POST /users", "POST /sessions", "POST /users/{userId}/todos"} <= names  # every user's start
    assert all(ROUTE_KEYS <= set(row) for row in report["routes"])
    assert not any(any(c.isdigit() for c in row["route"]) for row in report["routes"])  # templates, never raw URLs
    assert sum(row["requests"] for row in report["routes"]) == report["requests"]
    assert report["accounts"]["created"] == report["accounts"]["deleted"] >= 3
    assert (tmp_path / "r" / "report.html").stat().st_size > 1000
    assert "POST /users" in done.stdout and "SLOs met" in done.stdout
    assert accounts_left(user) == []


def test_a_breached_slo_exits_1_naming_it_with_workers(runtime, user, tmp_path):
    slo = tmp_path / "slo.json"
    slo.write_text(json.dumps({"p95_ms": 0, "routes": {"POST /users": {"p50_ms": 0}}}))
    args = ["--outputs", str(runtime.outputs_path), "--users", "2", "--spawn-rate", "2", "--duration", "3", "--workers", "1"]
    done = load(*args, "--slo", str(slo), "--report", str(tmp_path / "r"))
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["slo"]["met"] is False
    assert any(b.startswith("whole run: p95_ms") for b in report["slo"]["breaches"])
    assert any(b.startswith("POST /users: p50_ms") for b in report["slo"]["breaches"])
    assert "SLO breached: whole run: p95_ms" in done.stderr and "SLO breached: POST /users: p50_ms" in done.stderr
    assert report["accounts"]["created"] == report["accounts"]["deleted"] >= 2  # counted by the worker, sent to the master
    assert accounts_left(user) == []


def test_what_cannot_start_exits_2_without_a_traceback(runtime, tmp_path):
    outputs = json.loads(Path(runtime.outputs_path).read_text())
    production = tmp_path / "production.json"
    production.write_text(json.dumps({**outputs, "stack": "production"}))
    bad_key, bad_route = tmp_path / "key.yaml", tmp_path / "route.json"
    bad_key.write_text("p95_ms: 100\np90_ms: 50\n")
    bad_route.write_text(json.dumps({"routes": {"GET /nowhere": {"p95_ms": 1}}}))
    cases = {
        "no outputs file": (["--outputs", str(tmp_path / "missing.json")], "no outputs file"),
        "production": (["--outputs", str(production)], "--allow-production"),
        "unknown SLO key": (["--outputs", str(runtime.outputs_path), "--slo", str(bad_key)], "'p90_ms'"),
        "unknown SLO route": (["--outputs", str(runtime.outputs_path), "--slo", str(bad_route)], "'GET /nowhere'"),
        "unreachable API": (["--outputs", str(_unreachable(tmp_path, outputs))], "does not answer"),
    }
    for case, (args, message) in cases.items():
        done = load(*args, "--report", str(tmp_path / "never"))
        assert done.returncode == 2, (case, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (case, done.stderr)
    assert not (tmp_path / "never").exists()


def _unreachable(tmp_path: Path, outputs: dict) -> Path:
    from local.system import free_port

    path = tmp_path / "unreachable.json"
    path.write_text(json.dumps({**outputs, "apiUrl": f"http://127.0.0.1:{free_port()}"}))
    return path


def test_help_explains_every_flag():
    done = load("--help", timeout=30)
    assert done.returncode == 0
    for flag in ("--outputs", "--stack", "--users", "--spawn-rate", "--duration", "--slo", "--report", "--workers", "--allow-production"):
        assert flag in done.stdout
