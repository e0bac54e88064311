"""One-command developer entry point; needs only Python 3.11+.

    python3 dev.py local [ARGS]   # install into .venv, then run the whole system offline (python -m local ARGS)
    python3 dev.py test [ARGS]    # install into .venv, then run every test (pytest ARGS)
    python3 dev.py bench [ARGS]   # install into .venv, then run the benchmarks (python -m bench ARGS)

The virtual environment is created once and re-synced only when a requirements file changes.
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
REQUIREMENTS = ("requirements.txt", "functions/requirements.txt", "requirements-dev.txt")
COMMANDS = {"local": ["-m", "local"], "test": ["-m", "pytest"], "bench": ["-m", "bench"]}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"todo-platform needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not venv_python().exists():
        print(f"creating {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in REQUIREMENTS)).hexdigest()
    stamp = VENV / ".requirements.sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        print("installing requirements-dev.txt into .venv/ ...", flush=True)
        subprocess.run([str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements-dev.txt"], cwd=ROOT, check=True)
        stamp.write_text(digest)
    return venv_python()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 2
    python = ensure_environment()
    return subprocess.call([str(python), *COMMANDS[argv[0]], *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
