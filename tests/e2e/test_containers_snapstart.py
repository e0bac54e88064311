"""The warm containers' SnapStart mode, in-process: which hooks run, in what order, and what a failure does."""

from __future__ import annotations

import sys
import textwrap

import pytest

from local.containers import FunctionError, WarmContainer, import_with_hooks
from todo_app.catalog import FunctionSpec

MODULE = "snapstart_probe_fn"


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A function module that records init, its two hooks and each invocation in `events`."""

    def make(after_restore_fails: bool = False) -> FunctionSpec:
        (tmp_path / f"{MODULE}.py").write_text(
            textwrap.dedent(
                f"""
                from snapshot_restore_py import register_after_restore, register_before_snapshot
                events = ["init"]
                register_before_snapshot(lambda: events.append("before-snapshot"))
                def restored():
                    if {after_restore_fails!r}:
                        raise RuntimeError("could not reconnect")
                    events.append("after-restore")
                register_after_restore(restored)
                def handler(event, context):
                    events.append("invoke")
                    return events
                """
            )
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, MODULE, raising=False)
        return FunctionSpec(name="probe", handler=f"{MODULE}.handler", kind="api", description="probe", timeout=5)

    yield make
    sys.modules.pop(MODULE, None)


def test_hooks_run_after_init_and_before_the_first_invocation_only(probe):
    lines: list[str] = []
    container = WarmContainer(probe(), physical_name="probe", memory_mb=128, log=lines.append, snapstart=True)
    assert container.invoke({}) == ["init", "before-snapshot", "after-restore", "invoke"]
    assert container.invoke({}) == ["init", "before-snapshot", "after-restore", "invoke", "invoke"]
    assert "  snapstart probe: snapshot taken after 1 before-snapshot hooks" in lines
    assert "  snapstart probe: restored, 1 after-restore hooks ran" in lines


def test_without_snapstart_the_hooks_never_run(probe):
    container = WarmContainer(probe(), physical_name="probe", memory_mb=128, log=lambda line: None)
    assert container.invoke({}) == ["init", "invoke"]


def test_a_failing_after_restore_hook_fails_the_invocation(probe):
    container = WarmContainer(probe(after_restore_fails=True), physical_name="probe", memory_mb=128, log=lambda line: None, snapstart=True)
    with pytest.raises(FunctionError) as error:
        container.invoke({})
    assert error.value.error_type == "Runtime.AfterRestoreError" and "could not reconnect" in error.value.message


def test_each_import_gets_only_the_hooks_it_registered():
    _, users = import_with_hooks("todo_app.handlers.users")  # PostgreSQL and AWS: two resets
    _, authorizer = import_with_hooks("todo_app.handlers.authorizer")  # AWS only
    assert len(users.before_snapshot) == 2 and len(users.after_restore) == 1
    assert len(authorizer.before_snapshot) == 1 and len(authorizer.after_restore) == 1
