"""Timing helpers and the result model shared by every benchmark."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"


class NotAvailable(Exception):
    """A benchmark (or one figure) cannot run yet; the message says why. Printed as n/a (reason)."""


@dataclass
class Row:
    """One figure, with its baseline where it has one."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""  # e.g. "<= 1.2x"
    goal_ratio: float | None = None  # the ratio the goal allows (value / baseline <= goal_ratio)
    goal_min_ratio: float | None = None  # or the ratio it asks for at least (a speed-up: value / baseline >= it)
    goal_value: float | None = None  # or an absolute ceiling for value
    note: str = ""
    na: str = ""  # reason, when the figure could not be measured

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.na or self.value is None:
            return None
        if self.goal_ratio is not None and self.ratio is not None:
            return self.ratio <= self.goal_ratio
        if self.goal_min_ratio is not None and self.ratio is not None:
            return self.ratio >= self.goal_min_ratio
        if self.goal_value is not None:
            return self.value <= self.goal_value
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        data["met"] = self.met
        return data


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # raw samples and details for results.json
    seconds: float = 0.0
    na: str = ""

    def add(self, *args: Any, **kwargs: Any) -> Row:
        """A new Row (Row's arguments), appended."""
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "na": self.na,
            "rows": [r.to_json() for r in self.rows],
            "notes": self.notes,
            "data": self.data,
        }


def median(samples: Iterable[float]) -> float:
    return statistics.median(list(samples))


def percentile(samples: Iterable[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def interleaved(candidates: dict[str, Callable[[], Any]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run every candidate once per round, rotating the order each round; wall seconds per run.

    Rotating (rather than always A then B) keeps a periodic disturbance from always landing on one side.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        if r % 2:
            order.reverse()
        for name in order:
            fn = candidates[name]
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


def run_python(code: str, env: dict[str, str], cwd: Path = ROOT, args: tuple[str, ...] = ()) -> Callable[[], None]:
    """A callable that runs `python [args] -c code` in a fresh interpreter and fails loudly on error."""
    argv = [sys.executable, *args, "-c", code]

    def run() -> None:
        proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if proc.returncode:
            raise RuntimeError(f"{code!r} failed: {proc.stderr.decode(errors='replace')[-800:]}")

    return run


@contextmanager
def stdout_to(path: str | os.PathLike[str] = os.devnull) -> Iterator[None]:
    """Redirect file descriptor 1 (what Lambda ships to CloudWatch Logs) for the duration; yields nothing."""
    sys.stdout.flush()
    saved = os.dup(1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        os.dup2(fd, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(fd)
        os.close(saved)


_FORMATS: dict[str, Callable[[float], str]] = {
    "s": lambda v: f"{v:.2f} s" if v >= 0.1 else f"{v * 1000:.0f} ms",
    "ms": lambda v: f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms",
    "us": lambda v: f"{v:.0f} µs",
    "$": lambda v: f"${v:,.2f}",
    "MB": lambda v: f"{v:.2f} MB",
    "/s": lambda v: f"{v:,.0f}/s",
    "requests/month": lambda v: f"{v:,.0f}",
    "": lambda v: f"{v:g}",
}


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    format_in = _FORMATS.get(unit)
    return format_in(value) if format_in else f"{value:g} {unit}"
