"""Suite-wide: with `--cov` (as `python3 dev.py test` runs it), the coverage of each package and the total."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# where each measured package lives (todo_app is under functions/, the Lambda archive's root)
PACKAGES = {
    "components": ROOT / "components",
    "todo_app": ROOT / "functions" / "todo_app",
    "local": ROOT / "local",
    "client": ROOT / "client",
}


@pytest.hookimpl(trylast=True)  # after pytest-cov has stopped, combined and saved the data
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if not getattr(config.option, "cov_source", None):
        return
    import coverage

    data_file = ROOT / ".coverage"
    if not data_file.exists():
        terminalreporter.write_line("coverage: no data was collected")
        return
    cov = coverage.Coverage(data_file=str(data_file))
    cov.load()
    statements: dict[str, int] = defaultdict(int)
    missed: dict[str, int] = defaultdict(int)
    for measured in cov.get_data().measured_files():
        package = next((name for name, where in PACKAGES.items() if Path(measured).is_relative_to(where)), None)
        if package is None:
            continue
        _, lines, _, missing, _ = cov.analysis2(measured)
        statements[package] += len(lines)
        missed[package] += len(missing)
    terminalreporter.section("coverage by package")
    rows = [(name, statements[name], missed[name]) for name in PACKAGES] + [("TOTAL", sum(statements.values()), sum(missed.values()))]
    terminalreporter.write_line(f"{'package':<12} {'statements':>10} {'missed':>7} {'covered':>8}")
    for name, total, miss in rows:
        covered = 100.0 * (total - miss) / total if total else 0.0
        terminalreporter.write_line(f"{name:<12} {total:>10} {miss:>7} {covered:>7.1f}%")
