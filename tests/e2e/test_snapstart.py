"""The local runtime's SnapStart mode runs the functions' real runtime hooks, and the API still works.

`python -m local --snapstart` runs each function's before-snapshot hooks right after its init and its
after-restore hooks before its first request. The hooks close the PostgreSQL connection, forget the
database token and drop the boto3 clients; everything must come back lazily, so requests that need
PostgreSQL and DynamoDB succeed after the restore.
"""

from __future__ import annotations

import re
import shutil

import pytest
from e2e_support import LocalRuntime, data_dir, signed_up


@pytest.fixture(scope="module")
def snapstart():
    workdir = data_dir()
    local = LocalRuntime(workdir, workdir / "data", options=("--snapstart",)).start()
    try:
        yield local
    finally:
        local.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_api_works_after_each_function_was_snapshotted_and_restored(snapstart):
    user = signed_up(snapstart)  # users (PostgreSQL), sessions (PostgreSQL + DynamoDB), the authorizer
    todo = user.create_todo(None, "made after a restore")  # todos: PostgreSQL (the user) + DynamoDB
    assert user.get_todo(todo["id"])["title"] == "made after a restore"
    dashboard = user.dashboard()  # PostgreSQL and DynamoDB in one request
    assert dashboard["user"]["email"] == user.email and dashboard["todos"]["counts"]["open"] == 1
    assert snapstart.client().health()["checks"] == {"postgres": "ok", "dynamodb": "ok"}

    log = snapstart.log()
    # the runtime ran each function's own hooks: two before the snapshot where the function uses PostgreSQL
    # (the connection and token, the AWS clients), one (the AWS clients) for the authorizer
    for name, before in (("users", 2), ("sessions", 2), ("todos", 2), ("dashboard", 2), ("health", 2), ("authorizer", 1)):
        assert f"snapstart {name}: snapshot taken after {before} before-snapshot hooks" in log, name
        assert f"snapstart {name}: restored, 1 after-restore hooks ran" in log, name
    # init, snapshot, restore, then the first request (its line is written once it is answered)
    order = [log.index(line) for line in ("cold start users", "snapstart users: snapshot", "snapstart users: restored", "POST /users 201")]
    assert order == sorted(order), order
    # the hooks themselves ran (their log lines, in the functions' own log), once per function each
    functions_log = snapstart.function_log_path.read_text()
    assert len(re.findall(r"SnapStart: before the snapshot, forgot the PostgreSQL connection and the database token", functions_log)) >= 5
    assert len(re.findall(r"SnapStart: before the snapshot, forgot the AWS clients", functions_log)) >= 6
    assert len(re.findall(r"SnapStart: restored from the snapshot", functions_log)) >= 6


def test_without_the_mode_no_hook_runs(runtime):
    signed_up(runtime)
    assert "snapstart" not in runtime.log()
