"""Function packaging: a deterministic code archive and a Lambda-platform dependency layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from components import packaging
from todo_app.catalog import CODE_PACKAGES


def test_archive_is_deterministic_and_clean(tmp_path):
    first = packaging.build_function_archive(build_dir=tmp_path / "a", packages=CODE_PACKAGES)
    second = packaging.build_function_archive(build_dir=tmp_path / "b", packages=CODE_PACKAGES)
    assert first.read_bytes() == second.read_bytes()
    assert packaging.sha256_file(first) == packaging.sha256_file(second)
    names = zipfile.ZipFile(first).namelist()
    assert names == sorted(names)
    assert "todo_app/catalog.py" in names and "todo_app/handlers/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.endswith("requirements.txt")]
    assert "tierspec/__init__.py" in names  # the catalog imports it at run time
    assert {n.split("/")[0] for n in names} == {"todo_app", "tierspec"}
    for info in zipfile.ZipFile(first).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_archive_ignores_caches_and_timestamps(tmp_path):
    source = tmp_path / "functions"
    shutil.copytree(packaging.FUNCTIONS_DIR / "todo_app", source / "todo_app", ignore=shutil.ignore_patterns("__pycache__"))
    before = packaging.build_function_archive(source, tmp_path / "build", packages=["todo_app"]).read_bytes()
    cache = source / "todo_app" / "__pycache__"
    cache.mkdir()
    (cache / "catalog.cpython-311.pyc").write_bytes(b"\0")
    (source / "todo_app" / "tests").mkdir()
    (source / "todo_app" / "tests" / "test_x.py").write_text("")
    os.utime(source / "todo_app" / "catalog.py", (1, 1))
    after = packaging.build_function_archive(source, tmp_path / "build", packages=["todo_app"])
    assert after.read_bytes() == before
    (source / "todo_app" / "catalog.py").write_text("# changed\n")
    assert packaging.build_function_archive(source, tmp_path / "build", packages=["todo_app"]).read_bytes() != before


def test_pip_command_targets_the_lambda_platform(tmp_path):
    command = packaging.pip_install_command(Path("req.txt"), tmp_path, "arm64", "3.12")
    text = " ".join(command)
    assert "--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64" in text
    assert "--only-binary=:all:" in command and "--python-version 3.12" in text and "--implementation cp" in text
    assert "x86_64" in " ".join(packaging.pip_install_command(Path("r"), tmp_path, "x86_64", "3.12"))
    with pytest.raises(packaging.PackagingError, match="allowed: arm64, x86_64"):
        packaging.pip_install_command(Path("r"), tmp_path, "sparc", "3.12")


def test_pip_failure_is_a_clear_error(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("this-package-does-not-exist-todo-platform==0.0.0\n")
    with pytest.raises(packaging.PackagingError, match="pip could not install requirements.txt for x86_64"):
        packaging.build_layer("x86_64", "3.12", requirements=requirements, build_dir=tmp_path / "build")


def test_layer_for_this_interpreter_gives_binary_psycopg(tmp_path, monkeypatch):
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    layer = packaging.build_layer("x86_64", version)  # cached in build/ after the first run
    names = zipfile.ZipFile(layer).namelist()
    assert names == sorted(names) and all(n.startswith("python/") for n in names)

    # a second build must come from the cache: pip is not called
    def no_pip(*args, **kwargs):
        raise AssertionError("pip was called for a cached layer")

    monkeypatch.setattr(packaging.subprocess, "run", no_pip)
    assert packaging.build_layer("x86_64", version) == layer
    monkeypatch.undo()

    root = packaging.extract(layer, tmp_path / "layer")
    probe = "import psycopg; print(psycopg.pq.__impl__); print(psycopg.__file__)"
    # -S: no site module, so no site-packages (the venv's or the system's); -s: no user site.
    # Only the layer on PYTHONPATH (as Lambda puts /opt/python on the path) can provide psycopg.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root / "python")}
    result = subprocess.run([sys.executable, "-s", "-S", "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    impl, where = result.stdout.split()
    assert impl == "binary"
    assert where.startswith(str(root))
    # and the same interpreter without the layer cannot import it
    bare = subprocess.run([sys.executable, "-I", "-S", "-c", "import psycopg"], capture_output=True, text=True)
    assert bare.returncode != 0
