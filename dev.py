"""One-command developer entry point; needs only Python 3.11+.

    python3 dev.py local [ARGS]   # install into .venv, then run the whole system offline (python -m local ARGS)
    python3 dev.py test [ARGS]    # install into .venv, then ruff, mypy and every test (pytest ARGS)
    python3 dev.py bench [ARGS]   # install into .venv, then run the benchmarks (python -m bench ARGS)

The project is installed into .venv in editable mode (`pip install -e .[functions,dev]`), once, and again
only when pyproject.toml or a requirements file changes. `test` runs the static checks first and stops at
the first finding; with ARGS it passes them to pytest (e.g. `python3 dev.py test tests/infra -x`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
INSTALL_INPUTS = ("pyproject.toml", "requirements.txt", "functions/requirements.txt", "requirements-dev.txt")
COMMANDS = {"local": ["-m", "local"], "test": ["-m", "pytest"], "bench": ["-m", "bench"]}
# Static checks, in the order a reader fixes them; each must pass before the tests run.
CHECKS = (
    ("ruff check", ["-m", "ruff", "check", "."]),
    ("ruff format", ["-m", "ruff", "format", "--check", "."]),
    ("mypy", ["-m", "mypy"]),
    ("mypy --strict (Lambda code)", ["-m", "mypy", "--strict", "-p", "todo_app", "-p", "tierspec"]),
)
# Coverage of the code under test; tests/conftest.py prints the total and each package's figure at the end.
COVERAGE = ["--cov", "--cov-report="]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"todo-platform needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"creating {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INSTALL_INPUTS)).hexdigest()
    stamp = VENV / ".install.sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        print("installing the project into .venv/ (pip install -e .[functions,dev]) ...", flush=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", ".[functions,dev]"], cwd=ROOT, check=True)
        stamp.write_text(digest)
    return venv_python()


def static_checks(python: Path) -> int:
    for name, args in CHECKS:
        print(f"== {name}", flush=True)
        code = subprocess.call([str(python), *args], cwd=ROOT)
        if code != 0:
            print(f"== {name} failed (exit {code})", flush=True)
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print((__doc__ or "").strip())
        return 2
    python = ensure_environment()
    command, args = argv[0], argv[1:]
    if command == "test":
        code = static_checks(python)
        if code != 0:
            return code
        print("== pytest", flush=True)
        args = [*COVERAGE, *args]
    return subprocess.call([str(python), *COMMANDS[command], *args], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
