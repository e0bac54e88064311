"""9. Load test: `python -m client load` (Locust) for a short run against a fresh `python -m local`.

The same tool a team points at a deployed stack, here at the local runtime: users, requests/s, error rate,
and p50/p95/p99 per route (every request named by its route template). Local figures are this machine's
(the AWS emulator is the local ceiling), not a deployed stack's. Skipped with --quick: a run takes ~30 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .core import ROOT, NotAvailable, Section
from .local_runtime import Local

USERS, SPAWN_RATE, DURATION = 20, 10, "20s"


def run(section: Section, world: Any, quick: bool, shared: dict[str, Any]) -> None:
    if quick:
        raise NotAvailable("skipped with --quick (a load run takes ~30 s): python -m bench --only load")
    report_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    local = Local()
    try:
        local.wait_ready()
        args = ["--outputs", str(local.outputs), "--users", str(USERS), "--spawn-rate", str(SPAWN_RATE), "--duration", DURATION]
        done = subprocess.run(
            [sys.executable, "-m", "client", "load", *args, "--report", str(report_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise NotAvailable(f"python -m client load exited {done.returncode}: {done.stderr.strip()[-300:]}")
        report = json.loads((report_dir / "report.json").read_text())
    finally:
        local.stop()
    section.add(f"users (ramped at {SPAWN_RATE}/s, {DURATION})", report["users"], "")
    section.add("requests/s, all routes", report["rps"], "/s", note=f"{report['requests']} requests in {report['duration_s']:.0f} s")
    section.add("error rate", report["error_rate"], "", note=f"{report['failures']} failures")
    section.add(
        "p95, all routes",
        report["total"]["p95_ms"],
        "ms",
        note=f"p50 {report['total']['p50_ms']:.0f} ms, p99 {report['total']['p99_ms']:.0f} ms",
    )
    for row in report["routes"]:
        section.add(
            f"p95 {row['route']}",
            row["p95_ms"],
            "ms",
            note=f"p50 {row['p50_ms']:.0f}, p99 {row['p99_ms']:.0f} ms; {row['requests']} requests",
        )
    section.notes.append("python -m client load against the local runtime: figures of this machine, not of a deployed stack")
    section.data["report"] = {
        key: report[key] for key in ("users", "requests", "failures", "duration_s", "rps", "error_rate", "total", "routes")
    }
