"""A module's name says what it is: no two modules of the program, the local runtime, the client, the
benchmarks and the Lambda handlers share a name (two `web.py`s meaning different things made a reader open
both to know which one an import meant)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "local", "client", "bench", "functions/todo_app/handlers")
SHARED_ROLES = {"__init__.py", "__main__.py", "conftest.py"}  # names whose role is the same everywhere


def test_no_two_modules_share_a_name():
    found = defaultdict(list)
    for package in PACKAGES:
        for path in (ROOT / package).glob("*.py"):
            if path.name not in SHARED_ROLES:
                found[path.name].append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in found.items() if len(paths) > 1} == {}
