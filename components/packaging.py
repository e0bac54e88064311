"""Function packaging: the code archive and the dependency layer, both deterministic zips under build/.

Used by the Pulumi program (and the benchmarks), so it has no Pulumi dependency:

- `build_function_archive(packages=...)` zips the named packages from a source directory (by default the
  repository's `functions/`, the archive's root: todo-platform ships `todo_app` and `tierspec`). Entries are sorted and carry
  fixed timestamps and permissions, so an unchanged tree gives a byte-identical zip and Pulumi sees no
  diff on the functions.
- `build_layer(architecture, python_version)` pip-installs `functions/requirements.txt` for the Lambda
  platform (manylinux wheels only, never a local build) into a layer zip with the `python/` prefix. The
  result is cached under build/ by a hash of the requirements, the architecture and the Python version:
  a second run does not call pip.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
BUILD_DIR = ROOT / "build"

# Zip's epoch starts in 1980; any fixed value works, this one is the earliest valid one.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_EXCLUDED_DIRS = {"__pycache__", "tests", ".pytest_cache"}
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_EXCLUDED_NAMES = {"requirements.txt", ".DS_Store"}

# Wheels pip may choose for each Lambda architecture (Amazon Linux 2023 is glibc 2.34).
PLATFORMS: dict[str, tuple[str, ...]] = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}


class PackagingError(RuntimeError):
    """The archive or the layer could not be built; the message says why and what to do."""


# --------------------------------------------------------------------------- deterministic zips


def _included(relative: Path) -> bool:
    if any(part in _EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
        return False
    return relative.name not in _EXCLUDED_NAMES and not relative.name.endswith(_EXCLUDED_SUFFIXES)


def _files(root: Path) -> list[Path]:
    """Every regular file under root (following no symlinked directories), sorted by archive path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _EXCLUDED_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file() and _included(path.relative_to(root)):
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def write_deterministic_zip(entries: Iterable[tuple[str, Path]], destination: Path) -> Path:
    """Zip (archive name, file) pairs sorted by name, with fixed dates and permissions.

    The file is replaced only when its bytes change, so its mtime also stays put for an unchanged tree.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for arcname, path in sorted(entries, key=lambda e: e[0]):
                info = zipfile.ZipInfo(arcname, date_time=_FIXED_DATE)
                info.create_system = 3  # unix, so the permissions below are honoured
                executable = os.stat(path).st_mode & 0o111
                info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        os.chmod(tmp, 0o644)
        if destination.exists() and destination.read_bytes() == tmp.read_bytes():
            tmp.unlink()
        else:
            os.replace(tmp, destination)
    finally:
        if tmp.exists():
            tmp.unlink()
    return destination


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- function code


def build_function_archive(source: Path = FUNCTIONS_DIR, build_dir: Path = BUILD_DIR, *, packages: Sequence[str]) -> Path:
    """Zip the named packages under `source` (no caches, no tests, no requirements.txt) to <build_dir>/functions.zip,
    each at the archive's root, where Lambda's handler path ("package.module.function") finds it."""
    if not packages:
        raise PackagingError("no package to archive: name at least one")
    missing = [name for name in packages if not (source / name).is_dir()]
    if missing:
        raise PackagingError(f"no package {', '.join(missing)} under {source}")
    entries = [(p.relative_to(source).as_posix(), p) for name in dict.fromkeys(packages) for p in _files(source / name)]
    return write_deterministic_zip(entries, build_dir / "functions.zip")


# --------------------------------------------------------------------------- dependency layer


def runtime_python_version(runtime: str) -> str:
    """'python3.12' -> '3.12'."""
    if not runtime.startswith("python"):
        raise PackagingError(f"not a Python Lambda runtime: {runtime!r}")
    return runtime.removeprefix("python")


def layer_key(requirements: str, architecture: str, python_version: str) -> str:
    digest = hashlib.sha256()
    for part in (requirements, architecture, python_version):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def pip_install_command(requirements: Path, target: Path, architecture: str, python_version: str) -> list[str]:
    if architecture not in PLATFORMS:
        raise PackagingError(f"unknown architecture {architecture!r}; allowed: {', '.join(PLATFORMS)}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    for platform in PLATFORMS[architecture]:
        command += ["--platform", platform]
    command += [
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    return command


def build_layer(
    architecture: str = "arm64",
    python_version: str = "3.12",
    requirements: Path = REQUIREMENTS,
    build_dir: Path = BUILD_DIR,
) -> Path:
    """The dependency layer zip for this architecture and Python version, built once and cached."""
    text = requirements.read_text()
    key = layer_key(text, architecture, python_version)
    destination = build_dir / f"layer-{architecture}-py{python_version}-{key}.zip"
    if destination.exists():
        return destination
    build_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=build_dir, prefix=".layer-") as tmp:
        target = Path(tmp) / "python"
        command = pip_install_command(requirements, target, architecture, python_version)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-15:]
            raise PackagingError(
                f"pip could not install {requirements.name} for {architecture}/Python {python_version} "
                f"(exit {result.returncode}); it needs access to the package index and a wheel for every "
                "requirement on that platform. pip said:\n  " + "\n  ".join(detail)
            )
        entries = [(p.relative_to(tmp).as_posix(), p) for p in _files(target)]
        if not entries:
            raise PackagingError(f"pip installed nothing from {requirements}")
        write_deterministic_zip(entries, destination)
    return destination


def extract(archive: Path, destination: Path) -> Path:
    """Unzip an archive (for tests and benchmarks), restoring the permissions it records."""
    if destination.exists():
        shutil.rmtree(destination)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, destination))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)
    return destination


def migrations_hash(source: Path, patterns: Sequence[str] = ("*.sql",)) -> str:
    """A hash of the migration files' names and contents: it changes exactly when a migration does."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in patterns for p in source.glob(pattern) if p.is_file()}, key=lambda p: p.name)
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
