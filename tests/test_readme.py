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
