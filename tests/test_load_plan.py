"""`python -m client load`'s front, in-process (it never imports locust): the route plan, durations, SLO files."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from client.load import (
    JOURNEY_OPERATIONS,
    REQUEST_MIX,
    SloError,
    breaches,
    build_report,
    load_slo,
    parse_duration,
    route_plan,
    throttling_note,
)


def test_the_plan_comes_from_the_route_declaration_and_the_bench_mix():
    from todo_app.catalog import ROUTES

    plan = route_plan()
    assert {route.name for route in plan.values()} == {route.route_key for route in ROUTES}
    mixed = {route.name: route.share for route in plan.values() if route.share}
    assert mixed == json.loads(REQUEST_MIX.read_text())["assumptions"]["request_mix"]
    assert {name for name, route in plan.items() if route.share} <= JOURNEY_OPERATIONS
    assert plan["get_todo"].url(todoId="a/b") == "/todos/a%2Fb" and plan["get_todo"].name == "GET /todos/{todoId}"


def test_the_front_does_not_import_locust():
    code = "import sys, client.__main__, client.load; sys.exit('locust' in sys.modules or 'gevent' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("5m", 300), ("1m30s", 90), ("1h", 3600)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "5x", "m", "1m 30s"])
def test_bad_durations(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("p95_ms: 1\nlatency: 2\n", "'latency'"),
        ("routes:\n  GET /nowhere: {p95_ms: 1}\n", "'GET /nowhere'"),
        ("routes:\n  GET /health: {p95_ms: 1}\n", "not called by the load test"),
        ("routes:\n  POST /orders: {min_rps: 1}\n", "'routes.POST /orders.min_rps'"),
        ("error_rate: 2\n", "error_rate"),
        ("p95_ms: -1\n", "p95_ms"),
        ("[1, 2]\n", "mapping"),
        ("p95_ms: [\n", "not valid YAML"),
    ],
)
def test_bad_slo_files_name_the_problem(tmp_path, content, named):
    path = tmp_path / "slo.yaml"
    path.write_text(content)
    with pytest.raises(SloError) as error:
        load_slo(path, route_plan())
    assert named in str(error.value)


def test_breaches_name_each_missed_objective(tmp_path):
    path = tmp_path / "slo.json"
    path.write_text(json.dumps({"p95_ms": 100, "error_rate": 0.01, "min_rps": 5, "routes": {"POST /orders": {"p99_ms": 50}}}))
    slo = load_slo(path, route_plan())
    row = {"requests": 100, "failures": 2, "rps": 4.0, "p50_ms": 20.0, "p95_ms": 150.0, "p99_ms": 300.0}
    report = {"total": row, "routes": [{"route": "POST /orders", **row}]}
    assert breaches(report, slo) == [
        "whole run: p95_ms 150 ms > 100 ms",
        "whole run: error rate 0.0200 > 0.01",
        "whole run: 4.0 requests/s < 5",
        "POST /orders: p99_ms 300 ms > 50 ms",
    ]
    assert breaches({"total": {**row, "failures": 0, "p95_ms": 1.0, "rps": 9.0}, "routes": []}, slo) == [
        "POST /orders: p99_ms 50 ms, but no request was made"
    ]


def test_the_throttling_note_names_the_stack_limits():
    assert "50 requests/s, burst 100" in throttling_note("staging", 3)
    assert "1000 requests/s, burst 2000" in throttling_note("production", 3)


def test_the_report_counts_429s_and_says_so():
    row = {"requests": 10, "failures": 3, "p50_ms": 5, "p95_ms": 9, "p99_ms": 9}
    raw = {
        "duration_s": 5.0,
        "users": 2,
        "entries": [{"name": "POST /orders", **row}],
        "total": row,
        "statuses": {"POST /orders": {"202": 7, "429": 3}},
    }
    report = build_report(raw, None, {"stack": "staging"})
    assert report["throttled"] == 3 and "staging stack's stage throttling (50 requests/s, burst 100)" in report["throttling_note"]
    assert report["routes"][0] == {"route": "POST /orders", **row, "rps": 2.0, "statuses": {"202": 7, "429": 3}}
    assert report["slo"] == {"met": True, "breaches": [], "objectives": {}} and report["error_rate"] == 0.3
    assert "throttling_note" not in build_report({**raw, "statuses": {}}, None, {"stack": "staging"})
