"""1. Cold init: a fresh interpreter importing each handler module (its module-level setup runs, no
invocation), with the environment the function would get, against (a) the function's unavoidable imports
and (b) the same routes in a FastAPI + Mangum app (bench/baseline_app.py: the common one-app approach).

Every figure is the median wall time of `python -c ...`; the bare interpreter (`python -c pass`) is
measured in the same rounds and SUBTRACTED from every figure before the ratios are taken (the raw
medians are kept in results.json).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from todo_app.catalog import FUNCTIONS, ROUTES

from .core import ROOT, Section, interleaved, median, run_python
from .environment import World, placeholder_env

GOAL_A, GOAL_B = 1.2, 0.6


def unavoidable(database: bool) -> str:
    return "import boto3, psycopg" if database else "import boto3"


def handler_code(function: str) -> str:
    module, _, attribute = FUNCTIONS[function].handler.rpartition(".")
    return f"from {module} import {attribute}"


def import_profile(code: str, env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """`python -X importtime`: what the handler's own code pulls in, in cumulative ms per package.

    Each third-party (or stdlib) package is charged the cumulative time of the imports that first-party
    code (todo_app, local, bench) makes of it directly; "todo_app (self)" is the first-party modules' own
    time. A package imported only from inside another package counts in that package's figure.
    """
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    lines = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            lines.append((len(match.group(3)) // 2, match.group(4), int(match.group(1)) / 1000, int(match.group(2)) / 1000))
    first_party = ("todo_app", "bench")
    totals: dict[str, float] = defaultdict(float)
    stack: list[str] = []  # ancestors, outermost first; output lists children before their parent
    for depth, name, self_ms, cum_ms in reversed(lines):
        del stack[depth:]
        root = name.split(".")[0]
        inside_first_party = any(a in first_party for a in stack)
        if root in first_party:
            totals[f"{root} (self)"] += self_ms
        elif inside_first_party and all(a in first_party for a in stack):
            totals[root] += cum_ms
        stack.append(root)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [(k, round(v, 1)) for k, v in ranked[:top]]


def heaviest_modules(code: str, env: dict[str, str], top: int = 4) -> list[tuple[str, float]]:
    """The single modules with the most self time (ms) under `python -X importtime`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    found = re.findall(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", proc.stderr)
    ranked = sorted(((name, int(us) / 1000) for us, name in found), key=lambda kv: -kv[1])
    return [(k, round(v, 1)) for k, v in ranked[:top]]


def cold_start_candidates(functions: list[str], env_of: dict[str, dict[str, str]]) -> dict[str, Callable[[], None]]:
    """What is timed: the bare interpreter, the unavoidable imports, each handler, the FastAPI baselines."""
    found: dict[str, Callable[[], None]] = {"bare": run_python("pass", env_of["health"])}
    found["imports:boto3"] = run_python(unavoidable(False), env_of["orders"])
    found["imports:boto3+psycopg"] = run_python(unavoidable(True), env_of["users"])
    for name in functions:
        found[f"handler:{name}"] = run_python(handler_code(name), env_of[name])
    for name in FUNCTIONS:
        if FUNCTIONS[name].kind == "api":
            found[f"fastapi:{name}"] = run_python("import bench.baseline_app", {**env_of[name], "BENCH_BASELINE_FUNCTION": name})
    found["fastapi:all-routes"] = run_python("import bench.baseline_app", {**env_of["users"], "BENCH_BASELINE_FUNCTION": "all"})
    return found


def checked_runs(candidates: dict[str, Callable[[], None]]) -> tuple[dict[str, Callable[[], None]], dict[str, str]]:
    """One checked run each, so a broken handler is reported instead of aborting the suite: (usable, failed)."""
    failed: dict[str, str] = {}
    usable: dict[str, Callable[[], None]] = {}
    for key, fn in candidates.items():
        try:
            fn()
            usable[key] = fn
        except RuntimeError as error:
            failed[key] = str(error).splitlines()[-1][:200]
    return usable, failed


def run(section: Section, world: World | None, quick: bool, shared: dict[str, Any]) -> None:
    rounds, warmup = (2, 0) if quick else (11, 1)  # quick: the checked run below is the warm-up
    functions = list(FUNCTIONS)
    env_of = {name: (world.function_env(name) if world else placeholder_env(name)) for name in FUNCTIONS}
    # populate __pycache__ for every module involved in one throw-away interpreter (quick mode skips per-candidate warmup)
    warm_code = "; ".join([handler_code(f) for f in functions] + ["import boto3, psycopg", "import bench.baseline_app"])
    if not quick:
        try:
            run_python(warm_code, {**env_of["users"], "BENCH_BASELINE_FUNCTION": "all"})()
        except RuntimeError as error:
            section.notes.append(f"pre-warm import failed: {error}")

    usable, failed = checked_runs(cold_start_candidates(functions, env_of))
    samples = interleaved(usable, rounds=rounds, warmup=warmup)
    med = {k: median(v) for k, v in samples.items()}
    bare = med["bare"]
    section.data = {
        "rounds": rounds,
        "subtracted": "bare interpreter start (python -c pass) is subtracted from every figure before ratios",
        "bare_interpreter_ms": round(bare * 1000, 1),
        "raw_median_ms": {k: round(v * 1000, 1) for k, v in med.items()},
        "net_median_ms": {k: round((v - bare) * 1000, 1) for k, v in med.items()},
        "samples_ms": {k: [round(x * 1000, 1) for x in v] for k, v in samples.items()},
        "failed": failed,
        "import_profile_ms": {},
    }
    section.add("bare interpreter (python -c pass)", bare * 1000, "ms", note="subtracted from all cold-init figures below")
    # each function's cold init, net of the bare interpreter: the cost model weighs SnapStart's cache against it
    shared["cold_init_ms"] = {k.removeprefix("handler:"): round((v - bare) * 1000, 1) for k, v in med.items() if k.startswith("handler:")}
    net = lambda key: (med[key] - bare) * 1000
    for name, spec in FUNCTIONS.items():
        key = f"handler:{name}"
        a_key = "imports:boto3+psycopg" if spec.database else "imports:boto3"
        if key in failed:
            section.add(f"{name}: init vs (a) {unavoidable(spec.database)[7:]}", None, "ms", na=f"import failed: {failed[key]}")
            continue
        section.add(
            f"{name}: init vs (a) {unavoidable(spec.database)[7:]}",
            net(key),
            "ms",
            baseline=net(a_key),
            baseline_name=unavoidable(spec.database),
            goal=f"<= {GOAL_A}x",
            goal_ratio=GOAL_A,
        )
        if spec.kind == "api" and f"fastapi:{name}" in med:
            section.add(
                f"{name}: init vs (b) FastAPI+Mangum",
                net(key),
                "ms",
                baseline=net(f"fastapi:{name}"),
                baseline_name="FastAPI+Mangum, same routes",
                goal=f"<= {GOAL_B}x",
                goal_ratio=GOAL_B,
            )
        if not quick:  # two more interpreters per function; the full run has the -X importtime breakdown
            section.data["import_profile_ms"][name] = import_profile(handler_code(name), env_of[name])
            section.data.setdefault("heaviest_modules_self_ms", {})[name] = heaviest_modules(handler_code(name), env_of[name])
    if "fastapi:all-routes" in med:
        section.add(
            f"(info) FastAPI+Mangum, all {len(ROUTES)} routes in one app",
            net("fastapi:all-routes"),
            "ms",
            note="the one-app approach deploys this",
        )
    for name, profile in section.data["import_profile_ms"].items():
        heavy = section.data["heaviest_modules_self_ms"][name]
        section.notes.append(
            f"{name}: imports by package (cumulative ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in profile)
            + "; heaviest modules (self ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in heavy)
        )
    section.notes.append(
        "figures are net of the bare interpreter start; ratios are net/net"
        + ("; --quick: 2 rounds, no -X importtime breakdown" if quick else f"; {rounds} rounds")
    )
