"""python -m bench.readme [--write]: the README's goal and cost tables, rendered from bench/results.json.

Prints the markdown; --write replaces the tables between the README's markers. The README's tables are
only ever this output of a full run (a test checks they agree while results.json is one).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .core import ROOT

RESULTS = ROOT / "bench" / "results.json"
README = ROOT / "README.md"
MARKERS = {
    "goals": ("<!-- goals-table:start (python -m bench.readme --write) -->", "<!-- goals-table:end -->"),
    "cost": ("<!-- cost-table:start (python -m bench.readme --write) -->", "<!-- cost-table:end -->"),
}
STACKS = ("staging", "production")


# the figures before: for the cost rows, the design before issue 17 (RDS, RDS Proxy, a Secrets Manager endpoint;
# bench/results.json of 2026-12-03); for the speed rows, before the cost and speed work
BEFORE = {
    "production": "$1.94",
    "staging": "$13.04",
    "staging-no-xray": "$3.02",
    "staging-fixed": "$39.89",
    "production-fixed": "$393.82",
    "secret-readers": "5",
    "worker": "0.96x",
    "cold": "orders 1.96x",
    "GET /users/{userId}": "1.63x",
    "GET /todos/{todoId}": "1.06x",
    "start-up": "3.19 s",
}


def _row(results: dict[str, Any], section: str, prefix: str) -> dict[str, Any]:
    for row in results["sections"][section]["rows"]:
        if row["name"].startswith(prefix):
            found: dict[str, Any] = row
            return found
    raise KeyError(f"{section}: no row {prefix!r}")


def _met(row: dict[str, Any]) -> str:
    return {True: "yes", False: "**no**", None: "–"}[row["met"]]


def _money(row: dict[str, Any]) -> str:
    return f"${row['value']:.2f}"


def _maybe(value: float | None) -> str:
    return "–" if value is None else f"${value:.2f}"


def goals_table(results: dict[str, Any]) -> str:
    """Markdown: each goal of the cost and speed work with its figure before, now, and whether it is met."""
    lines = ["| figure | before | now | goal | met |", "| --- | ---: | ---: | --- | --- |"]
    for stack, goal in (("staging", "≤ $1.00"), ("production", "≤ $150 (aim $120)")):
        row = _row(results, "cost", f"{stack}: fixed monthly cost")
        lines.append(f"| {stack}, fixed monthly cost | {BEFORE[stack + '-fixed']} | {_money(row)} | {goal} | {_met(row)} |")
    for stack, label in (("production", "production, variable cost of 1M requests"), ("staging", "staging, the same")):
        row = _row(results, "cost", f"{stack}: variable cost")
        goal = f"≤ {row['goal'].removeprefix('<= ')}" if row["goal"] else "– (traces every request on purpose)"
        lines.append(f"| {label} | {BEFORE[stack]} | {_money(row)} | {goal} | {_met(row)} |")
    row = _row(results, "cost", "staging: the same without X-Ray")
    lines.append(f"| staging without its X-Ray | {BEFORE['staging-no-xray']} | {_money(row)} | ≤ $3.00 | {_met(row)} |")
    row = _row(results, "cost", "functions behind the API or queue that can read a secret")
    lines.append(
        f"| functions behind the API or queue that can read a secret | {BEFORE['secret-readers']} | {row['value']:g} | 0 | {_met(row)} |"
    )
    row = _row(results, "worker", "orders/s, batches of 10 vs 1 per invocation, 5 ms")
    lines.append(
        f"| worker, orders/s in batches of 10 vs 1 per invocation (5 ms DynamoDB) | {BEFORE['worker']} | {row['ratio']:.2f}x "
        f"| ≥ 4x | {_met(row)} |"
    )
    row = _row(results, "worker", "orders/s, batches of 10 vs 1 per invocation, emulator")
    lines.append(f"| the same against the emulator (serves one request at a time) | {BEFORE['worker']} | {row['ratio']:.2f}x | – | – |")
    cold = [r for r in results["sections"]["cold"]["rows"] if "init vs (a)" in r["name"] and r["ratio"] is not None]
    worst = max(cold, key=lambda r: r["ratio"])
    orders = _row(results, "cold", "orders: init vs (a)")
    lines.append(
        f"| cold init vs unavoidable imports, worst function | {BEFORE['cold']} | {worst['name'].split(':')[0]} {worst['ratio']:.2f}x "
        f"(orders {orders['ratio']:.2f}x) | every function ≤ 1.2x | {'yes' if all(r['met'] for r in cold) else '**no**'} |"
    )
    for route in ("GET /users/{userId}", "GET /todos/{todoId}"):
        row = _row(results, "warm", route)
        lines.append(f"| warm `{route}` vs its raw datastore call | {BEFORE[route]} | {row['ratio']:.2f}x | ≤ 1.3x | {_met(row)} |")
    start = _row(results, "runtime", "start-up to outputs.json, fresh data")
    lines.append(
        f"| local runtime: start-up to its outputs, fresh data | {BEFORE['start-up']} | {start['value']:.2f} s | ≤ 3 s | {_met(start)} |"
    )
    visit = _row(results, "web", "open the site")
    lines.append(f"| web app: open the site → todo list after log-in | – | {visit['value']:.2f} s | < 1 s | {_met(visit)} |")
    load = _row(results, "web", "first load")
    lines.append(f"| web app: first load (HTML + JS + CSS, gzip) | – | {load['value']:.1f} KB | < 100 KB | {_met(load)} |")
    return "\n".join(lines)


def _requests(n: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:.0f}"


def _crossover_cells(crossovers: dict[str, Any], stack: str) -> tuple[str, list[tuple[str, str]]]:
    """(DynamoDB cell, [(RDS class label, cell)]) of one stack's crossovers."""
    dyn = crossovers[stack]["dynamodb_provisioned_beats_on_demand_from"]
    dynamo = "; ".join(f"{label}: {_requests(q) if q is not None else 'never'}" for label, q in dyn.items())
    rds = []
    for cls, x in crossovers[stack]["rds_instance"].items():
        if x["cheaper_at_0"]:
            where = f"at every load up to {_requests(x['capacity_requests'])}"
        elif x["cheaper_from"] is not None:
            where = f"from {_requests(x['cheaper_from'])} up to {_requests(x['capacity_requests'])}"
        else:
            where = "never"
        rds.append((cls, f"${x['monthly']:.2f}{' Multi-AZ' if x['multi_az'] else ''}: {where}"))
    return dynamo, rds


def cost_table(results: dict[str, Any]) -> str:
    """Markdown: each stack's monthly total at 0/1M/10M/100M requests, the variable lines of 1M requests, the
    lines billed by the hour, the fixed lines, the design before issue 17, the crossovers, tracing and logs."""
    data = results["sections"]["cost"]["data"]
    stacks = data["stacks"]
    lines = ["| monthly total, at today's request mix | staging | production |", "| --- | ---: | ---: |"]
    for scale in data["scales"]:
        lines.append(
            f"| **{_requests(scale) if scale else '0'} requests a month** | "
            + " | ".join(f"**${stacks[s]['totals'][str(scale)]:,.2f}**" for s in STACKS)
            + " |"
        )
    items: list[str] = []
    for stack in STACKS:
        items += [k for k in stacks[stack]["variable"] if k not in items]
    lines.append("| **variable, for 1M requests a month** | | |")
    for item in items:
        lines.append(f"| {item} | " + " | ".join(_maybe(stacks[s]["variable"].get(item)) for s in STACKS) + " |")
    lines.append("| **variable total** | " + " | ".join(f"**${stacks[s]['variable_total']:.2f}**" for s in STACKS) + " |")
    million = "1000000"
    hourly = sorted({k for s in STACKS for k in stacks[s]["hourly"][million]})
    lines.append("| **by the hour used, at 1M requests a month** | | |")
    for item in hourly:
        lines.append(f"| {item} | " + " | ".join(_maybe(stacks[s]["hourly"][million].get(item)) for s in STACKS) + " |")
    fixed = sorted({k for s in STACKS for k in stacks[s]["fixed"]}, key=lambda k: (-max(stacks[s]["fixed"].get(k, 0.0) for s in STACKS), k))
    lines.append("| **fixed, a month** | | |")
    for item in fixed:
        lines.append(f"| {item} | " + " | ".join(_maybe(stacks[s]["fixed"].get(item)) for s in STACKS) + " |")
    lines.append("| **fixed total** | " + " | ".join(f"**${stacks[s]['fixed_total']:.2f}**" for s in STACKS) + " |")
    old = data["old_design"]
    lines.append(
        "| before issue 17 (RDS, RDS Proxy, Secrets Manager endpoint): fixed / variable of 1M | "
        + " | ".join(f"${old[s]['fixed']:.2f} / ${old[s]['variable']:.2f}" for s in STACKS)
        + " |"
    )
    cells = {s: _crossover_cells(data["crossovers"], s) for s in STACKS}
    lines.append("| provisioned DynamoDB beats on-demand from (requests a month) | " + " | ".join(cells[s][0] for s in STACKS) + " |")
    for i, (cls, _) in enumerate(cells["production"][1]):
        lines.append(f"| an RDS {cls} instead of Serverless v2 is cheaper | " + " | ".join(cells[s][1][i][1] for s in STACKS) + " |")
    web = _row(results, "cost", "web app:")
    lines.append(f"| {web['name']} | {_money(web) if web['value'] is not None else 'n/a'} (either stack) | |")
    lines.append(
        "| X-Ray sampling (rule; authorizer) | "
        + " | ".join(
            f"{stacks[s]['tracing']['rate']:.0%} after {stacks[s]['tracing']['reservoir']}/s; {stacks[s]['tracing']['authorizer']}"
            for s in STACKS
        )
        + " |"
    )
    lines.append(
        "| log levels (application / system), GB | "
        + " | ".join(
            f"{stacks[s]['log_levels']['application']} / {stacks[s]['log_levels']['system']}, {stacks[s]['units']['log_gb']:.2f}"
            for s in STACKS
        )
        + " |"
    )
    return "\n".join(lines)


def tables(results: dict[str, Any]) -> dict[str, str]:
    return {"goals": goals_table(results), "cost": cost_table(results)}


def readme_block(text: str, which: str) -> str:
    """The table currently between the README's markers for `which` ("goals" or "cost")."""
    start_marker, end_marker = MARKERS[which]
    start, end = text.index(start_marker) + len(start_marker), text.index(end_marker)
    return text[start:end].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.readme", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the README's table (from a full run only)")
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text())
    if not args.write:
        # a partial run (--only) renders what it has
        for which, render in (("goals", goals_table), ("cost", cost_table)):
            try:
                print(render(results), end="\n\n")
            except KeyError as missing:
                print(f"({which} table: bench/results.json has no {missing} (a partial run))", end="\n\n")
        return 0
    rendered = tables(results)
    if results.get("mode") != "full":
        print("bench/results.json is from a --quick run; the README's figures come from a full run", file=sys.stderr)
        return 1
    text = README.read_text()
    for which, table in rendered.items():
        start_marker, end_marker = MARKERS[which]
        start, end = text.index(start_marker) + len(start_marker), text.index(end_marker)
        text = text[:start] + "\n" + table + "\n" + text[end:]
    Path(README).write_text(text)
    print(f"wrote the tables of the run of {results['generated']} into {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
