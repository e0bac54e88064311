"""The local runtime's execution environments per function, in-process: a new one (with its own copy of
`todo_app`) only when the started ones are busy, never more than the limit, waiting beyond it."""

from __future__ import annotations

import sys
import textwrap
import threading
import time

import pytest

from local.containers import Containers, FunctionEnvironments, WarmContainer
from todo_app.catalog import FUNCTIONS, FunctionSpec

MODULE = "pool_probe_fn"


@pytest.fixture
def slow_spec(tmp_path, monkeypatch) -> FunctionSpec:
    """A handler that records how many invocations overlap."""
    (tmp_path / f"{MODULE}.py").write_text(
        textwrap.dedent(
            """
            import threading, time
            lock = threading.Lock()
            state = {"running": 0, "most": 0}
            def handler(event, context):
                with lock:
                    state["running"] += 1
                    state["most"] = max(state["most"], state["running"])
                time.sleep(0.2)
                with lock:
                    state["running"] -= 1
                return state
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield FunctionSpec(name="probe", handler=f"{MODULE}.handler", kind="api", description="probe", timeout=5)
    sys.modules.pop(MODULE, None)


def run_together(pool: FunctionEnvironments, count: int) -> float:
    threads = [threading.Thread(target=pool.invoke, args=({},)) for _ in range(count)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return time.monotonic() - began


def test_environments_start_when_busy_up_to_the_limit(slow_spec):
    lines: list[str] = []
    pool = FunctionEnvironments(lambda n: WarmContainer(slow_spec, physical_name="probe", memory_mb=128, log=lines.append, number=n), 3)
    run_together(pool, 6)
    assert len(pool.environments) == 3 and pool.invocations == 6
    assert pool.first.handler({}, None)["most"] == 3  # three at once, never four
    assert sum("cold start probe" in line for line in lines) == 3 and any("probe #3" in line for line in lines)


def test_one_environment_runs_one_invocation_at_a_time(slow_spec):
    pool = FunctionEnvironments(lambda n: WarmContainer(slow_spec, physical_name="probe", memory_mb=128, log=lambda _: None), 1)
    assert run_together(pool, 3) >= 0.6
    assert len(pool.environments) == 1


def test_limits_cap_the_environments_and_each_has_its_own_package():
    containers = Containers("t", lambda spec: 128, log=lambda _: None, concurrency=4, limits=lambda spec: 2 if spec.database else -1)
    sql = [name for name, spec in FUNCTIONS.items() if spec.database]
    other = [name for name, spec in FUNCTIONS.items() if not spec.database]
    assert sql and other
    assert {containers[name].limit for name in sql} == {2} and {containers[name].limit for name in other} == {4}
    pool = containers["health"]
    first, second = pool._make(1), pool._make(2)
    # each environment's handler comes from its own copy of the todo_app package (its own db._conn)
    assert first.handler is not second.handler
    assert first.handler.__globals__["__name__"].startswith("todo_app.")
    assert first.handler.__globals__ is not second.handler.__globals__
