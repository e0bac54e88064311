"""The web app's module graph (web/js/*.js), read from its import statements, no browser needed.

The entry module (app.js) is the only importer of views; views and shared modules never import app.js;
no view imports another view; and the graph has no cycle. A view is a module exporting a `...View`
function; every other module but app.js is a shared one (api.js, dom.js, session.js, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB_JS = Path(__file__).resolve().parents[1] / "web" / "js"
ENTRY = "app.js"

# import { a, b } from "./x.js";  import x from "./x.js";  import * as x from "./x.js";  import "./x.js";
# export { a } from "./x.js";  and the dynamic import("./x.js") that loads a view on demand
STATIC = re.compile(r"""^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""", re.M)
DYNAMIC = re.compile(r"""\bimport\s*\(\s*["']([^"']+)["']\s*\)""")
VIEW_EXPORT = re.compile(r"^export\s+(?:async\s+)?function\s+\w+View\s*\(", re.M)


def read_modules(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.js"))}


def imports(source: str) -> set[str]:
    """The modules a source imports (statically or dynamically), as file names in the same folder."""
    found = {a or b for a, b in STATIC.findall(source)} | set(DYNAMIC.findall(source))
    outside = sorted(spec for spec in found if not spec.startswith("./") or "/" in spec[2:])
    assert not outside, f"imports from outside web/js/ (or without ./): {outside}"
    return {spec[2:] for spec in found}


def graph(modules: dict[str, str]) -> dict[str, set[str]]:
    return {name: imports(source) for name, source in modules.items()}


def views(modules: dict[str, str]) -> set[str]:
    return {name for name, source in modules.items() if VIEW_EXPORT.search(source)}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a path that starts and ends at the same module), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        path.append(name)
        for target in sorted(edges.get(name, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return None

    for start in sorted(edges):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def problems(modules: dict[str, str]) -> list[str]:
    """Every way the modules break the rules above, in words."""
    edges, view_names = graph(modules), views(modules)
    found = [
        f"{name} imports {target}, which does not exist" for name, targets in edges.items() for target in sorted(targets - modules.keys())
    ]
    for name, targets in sorted(edges.items()):
        if name != ENTRY and ENTRY in targets:
            found.append(f"{name} imports the entry module {ENTRY}")
        if name != ENTRY:
            found += [f"{name} imports the view {target}: only {ENTRY} imports views" for target in sorted(targets & view_names)]
    cycle = find_cycle(edges)
    if cycle:
        found.append("import cycle: " + " -> ".join(cycle))
    return found


def test_the_web_app_has_no_import_cycle_and_only_the_entry_module_imports_views():
    modules = read_modules(WEB_JS)
    assert problems(modules) == []


def test_the_graph_is_really_read():
    """The parser sees the app's actual imports, static and dynamic, so an empty graph cannot pass unnoticed."""
    modules = read_modules(WEB_JS)
    edges, view_names = graph(modules), views(modules)
    assert {"auth.js", "todos.js", "orders.js", "report.js", "profile.js", "sessions.js"} <= view_names
    assert ENTRY not in view_names
    assert {"auth.js", "todos.js", "orders.js", "sessions.js"} <= edges[ENTRY]  # static and import("./orders.js")
    assert "dom.js" in edges["todos.js"]


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (
            {"app.js": 'import { v } from "./a.js";', "a.js": 'import { go } from "./app.js";\nexport function aView() {}'},
            ["a.js imports the entry module app.js", "import cycle: a.js -> app.js -> a.js"],
        ),
        (
            {
                "app.js": 'const load = () => import("./a.js");',
                "a.js": 'import {\n  x,\n} from "./s.js";\nexport async function aView() {}',
                "s.js": 'export { y } from "./t.js";',
                "t.js": 'import "./s.js";',
            },
            ["import cycle: s.js -> t.js -> s.js"],
        ),
        (
            {"app.js": "", "a.js": 'import { bView } from "./b.js";\nexport function aView() {}', "b.js": "export function bView() {}"},
            ["a.js imports the view b.js: only app.js imports views"],
        ),
        ({"app.js": 'import { x } from "./gone.js";'}, ["app.js imports gone.js, which does not exist"]),
    ],
    ids=[
        "a view imports the entry module",
        "a cycle through multi-line, re-export and bare imports",
        "a view imports a view",
        "a missing module",
    ],
)
def test_the_checker_finds_what_it_forbids(modules, expected):
    assert problems(modules) == expected
