"""No function over MAX_LINES lines in the program, the Lambda code, the offline runtime or the client.

ruff has no line-count rule (its C901, PLR0912 and PLR0915 count complexity, branches and statements, see
pyproject.toml): this test counts a function's lines from its `def` (decorators excluded) to its last line, as
ast's lineno and end_lineno give them, nested functions and methods each on their own (and within their parent).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("components", "functions", "local", "client")
MAX_LINES = 60


def long_functions(root: Path = ROOT, limit: int = MAX_LINES) -> list[str]:
    """`path:line name (N lines)` for each function over `limit` lines in the checked directories."""
    found = []
    for top in CHECKED:
        for path in sorted((root / top).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > limit:
                        found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_over_the_limit() -> None:
    too_long = long_functions()
    assert not too_long, f"functions over {MAX_LINES} lines (split them into named helpers):\n" + "\n".join(too_long)


def test_the_check_sees_functions() -> None:
    """The walk finds the files (a wrong root would pass trivially): at a limit of 1 line, most functions are over it."""
    assert len(long_functions(limit=1)) > 100
