"""The README's reference tables stay true: every config key, output key and route is documented."""

import yaml

from components.config import ROOT, StackConfig, stack_values
from todo_app.catalog import OUTPUT_KEYS, ROUTES

README = (ROOT / "README.md").read_text()


def _row(first_cell: str) -> list[str]:
    """The cells of the README table row whose first cell is `first_cell`."""
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"README has no table row for {first_cell}")


def test_every_config_key_is_documented_with_both_stacks_values():
    schema = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(schema) == set(StackConfig.config_keys())
    for stack, column in (("staging", 1), ("production", 2)):
        values = stack_values(stack)
        for key in schema:
            value = values[key]
            shown = (
                ", ".join(value)
                if isinstance(value, list)
                else "none"
                if value == ""
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            assert _row(f"`{key}`")[column] == shown, (stack, key)


def test_every_output_key_is_documented():
    for key in OUTPUT_KEYS:
        _row(f"`{key}`")


def test_every_route_is_documented_with_its_function():
    for route in ROUTES:
        assert _row(f"`{route.method} {route.path}`")[2] == f"`{route.function}`"


def test_the_benchmark_tables_are_the_last_full_runs():
    import json

    import pytest

    from bench.readme import RESULTS, readme_block, tables

    results = json.loads(RESULTS.read_text())
    if results.get("mode") != "full":
        pytest.skip(f"bench/results.json is from a {results.get('mode')} run (the README's tables come from a full run)")
    for which, table in tables(results).items():
        assert readme_block(README, which) == table, f"{which}: run python -m bench.readme --write after a full bench run"


def _block(marker: str) -> str:
    """The fenced Python block right after `<!-- marker -->`."""
    after = README.split(f"<!-- {marker} -->\n", 1)[1]
    assert after.startswith("```python\n"), marker
    return after.removeprefix("```python\n").split("\n```\n", 1)[0]


def test_the_reuse_section_runs_as_written(tmp_path):
    """The "Reuse a tier" program and its test, saved as the section says, pass under the package's mocks, with
    the tiers and their spec types laid out as installed (the repository is not on the path)."""
    import os
    import shutil
    import subprocess
    import sys

    site = tmp_path / "site"
    shutil.copytree(ROOT / "components", site / "components", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "functions" / "tierspec", site / "tierspec", ignore=shutil.ignore_patterns("__pycache__"))
    tmp_path = tmp_path / "project"
    tmp_path.mkdir()

    (tmp_path / "bookmarks_program.py").write_text(_block("reuse-program"))
    (tmp_path / "test_bookmarks.py").write_text(_block("reuse-test"))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "bookmarks.py").write_text("def handler(event, context):\n    return {'statusCode': 204}\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bookmarks.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
