"""python -m bench [--quick] [--only cold,warm,...] [--out PATH]

Runs every benchmark, prints one table and writes bench/results.json. A benchmark that cannot run (its
servers did not start, a figure it needs is missing) or fails prints "n/a (reason)" and the suite carries on.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core import ROOT, NotAvailable, Section, fmt_value

if TYPE_CHECKING:
    from .environment import World  # imported when needed: it starts the local runtime's imports

SECTIONS = [
    ("cold", "1. Cold init (fresh interpreter, net of bare start)"),
    ("warm", "2. Warm handler overhead (in-process, real PostgreSQL + emulator)"),
    ("runtime", "3. Local runtime (python -m local over HTTP)"),
    ("worker", "4. Worker throughput (in-process, emulator)"),
    ("infra", "5. Infrastructure under Pulumi mocks"),
    ("package", "6. Package size"),
    ("web", "7. Web app (local runtime, headless Chromium)"),
    ("cost", "8. Monthly cost (prices as published, may have changed)"),
    ("load", "9. Load test (python -m client load, Locust, against the local runtime)"),
]


# the module of a section whose key (its name in --only and results.json) is not its module's name
MODULES = {"runtime": "local_runtime", "worker": "worker_throughput", "web": "page_load", "load": "local_load"}
IN_PROCESS = {"cold", "warm", "runtime", "worker"}  # the benchmarks that use the servers (World)
NEED_WORLD = {"warm", "worker", "runtime"}  # those that cannot run without them


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def print_table(sections: list[Section]) -> None:
    header = f"{'figure':<58} {'value':>12} {'baseline':>12} {'ratio':>7} {'goal':>8} {'met':>4}"
    print(header)
    print("-" * len(header))
    for s in sections:
        print(f"{s.title}  [{s.seconds:.1f}s]")
        if s.na:
            print(f"  n/a ({s.na})")
            continue
        for r in s.rows:
            if r.na:
                print(f"  {r.name[:56]:<56} n/a ({r.na})")
                continue
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            met = {True: "yes", False: "NO", None: ""}[r.met]
            base = fmt_value(r.baseline, r.unit) if r.baseline is not None else ""
            note = f"  {r.note[:70]}" if r.note else ""
            print(f"  {r.name[:56]:<56} {fmt_value(r.value, r.unit):>12} {base:>12} {ratio:>7} {r.goal:>8} {met:>4}{note}")
        for note in s.notes:
            print(f"    · {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; total under a minute; no package builds, no load test")
    parser.add_argument("--only", default="", help="comma-separated subset: " + ",".join(k for k, _ in SECTIONS))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    wanted = [k for k, _ in SECTIONS if not args.only or k in args.only.split(",")]

    started = time.perf_counter()
    sections: dict[str, Section] = {}
    world: World | None = None
    world_error = ""
    if IN_PROCESS & set(wanted):
        from .environment import start_world

        t = time.perf_counter()
        try:
            world = start_world()
        except Exception as error:  # noqa: BLE001 - whatever stops the servers, the in-process benchmarks report n/a
            world_error = f"PostgreSQL/emulator did not start: {error}"
        print(f"servers ready in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    shared: dict[str, Any] = {}  # figures one benchmark hands to another (e.g. measured durations for the cost model)
    try:
        for key, title in SECTIONS:
            if key not in wanted:
                continue
            section = Section(key, title)
            sections[key] = section
            t = time.perf_counter()
            print(f"running {key} ...", file=sys.stderr, flush=True)
            try:
                module = importlib.import_module(f"bench.{MODULES.get(key, key)}")
                if key in NEED_WORLD and world is None:
                    raise NotAvailable(world_error or "servers not started")
                module.run(section, world, args.quick, shared)
            except NotAvailable as reason:
                section.na = str(reason)
            except Exception as error:  # noqa: BLE001 - one failed section is reported, the others still run
                section.na = f"error: {type(error).__name__}: {str(error)[:300]}"
                section.data["traceback"] = traceback.format_exc()
            section.seconds = time.perf_counter() - t
    finally:
        if world is not None:
            world.stop()
    total = time.perf_counter() - started
    print()
    print_table(list(sections.values()))
    mode = "quick" if args.quick else ("full" if not args.only else f"only {args.only}")  # the README's tables need a full run
    print(f"\ntotal {total:.1f}s ({mode}); machine: {machine()}")
    results = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "total_seconds": round(total, 1),
        "machine": machine(),
        "sections": {k: s.to_json() for k, s in sections.items()},
    }
    Path(args.out).write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
