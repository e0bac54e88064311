"""The migrator's RDS Data API path (todo_app.migrator.DataApiExecutor): its requests, checked with botocore's
Stubber (moto's rds-data runs no SQL; the same statements run against real PostgreSQL in test_migrations.py)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from todo_app import migrator

CLUSTER = "arn:aws:rds:us-east-1:123456789012:cluster:todo"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf"
TARGET = {"resourceArn": CLUSTER, "secretArn": SECRET}
TX = "tx-1"
MIGRATIONS = [migrator.Migration("0001", "first", "CREATE TABLE a (id int);\n-- a comment; here\nCREATE TABLE b (t text DEFAULT 'x;y');\n")]


@pytest.fixture
def client():
    return boto3.client("rds-data", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


class Clock:
    """A fake clock that sleeping advances."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def executor(client, clock: Clock) -> migrator.DataApiExecutor:
    return migrator.DataApiExecutor(
        client, resource_arn=CLUSTER, secret_arn=SECRET, database="todo", sleep=clock.sleep, clock=lambda: clock.now
    )


def statement(sql: str, records=None, **extra) -> tuple[dict, dict]:
    """(response, expected params) of one ExecuteStatement inside the transaction."""
    return {"records": records or []}, {**TARGET, "sql": sql, "database": "todo", "transactionId": TX, **extra}


def role_statements() -> list[str]:
    class Answers:
        def execute(self, sql, params=None):
            return [("todo",)] if "current_database" in sql else [("a",), ("b",)]

    return migrator.role_statements(Answers(), "todo_app")


def expect_run(stub: Stubber, *, resuming: int = 0, fail_at: str | None = None) -> None:
    for _ in range(resuming):
        stub.add_client_error("begin_transaction", service_error_code="DatabaseResumingException", http_status_code=400)
    stub.add_response("begin_transaction", {"transactionId": TX}, {**TARGET, "database": "todo"})
    calls = [
        statement(f"SELECT pg_advisory_xact_lock({migrator.LOCK_KEY})"),
        statement(_create_bookkeeping()),
        statement("SELECT version, checksum FROM schema_migrations"),
        statement("CREATE TABLE a (id int)"),
        statement("-- a comment; here\nCREATE TABLE b (t text DEFAULT 'x;y')"),
        statement(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (:version, :name, :checksum)",
            parameters=[
                {"name": "version", "value": {"stringValue": "0001"}},
                {"name": "name", "value": {"stringValue": "first"}},
                {"name": "checksum", "value": {"stringValue": MIGRATIONS[0].checksum}},
            ],
        ),
        statement("SELECT current_database()", [[{"stringValue": "todo"}]]),
        statement(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> :bookkeeping ORDER BY tablename",
            [[{"stringValue": "a"}], [{"stringValue": "b"}]],
            parameters=[{"name": "bookkeeping", "value": {"stringValue": "schema_migrations"}}],
        ),
        *(statement(sql) for sql in role_statements()),
    ]
    for response, expected in calls:
        if fail_at is not None and expected["sql"] == fail_at:
            stub.add_client_error(
                "execute_statement", service_error_code="DatabaseErrorException", service_message="syntax error", expected_params=expected
            )
            stub.add_response("rollback_transaction", {"transactionStatus": "Rollback Complete"}, {**TARGET, "transactionId": TX})
            return
        stub.add_response("execute_statement", response, expected)
    stub.add_response("commit_transaction", {"transactionStatus": "Transaction Committed"}, {**TARGET, "transactionId": TX})


def _create_bookkeeping() -> str:
    """The CREATE TABLE the run sends first (its text, as the migrator writes it)."""
    recorder: list[str] = []

    class Recorder:
        def transaction(self):
            from contextlib import nullcontext

            return nullcontext()

        def execute(self, sql, params=None):
            recorder.append(sql)
            if len(recorder) == 2:
                raise StopIteration

    with pytest.raises(StopIteration):
        migrator.migrate(Recorder(), [])
    return recorder[1]


def test_one_transaction_statement_by_statement_with_the_version_row_and_the_role(client):
    clock = Clock()
    with Stubber(client) as stub:
        expect_run(stub)
        assert migrator.migrate(executor(client, clock), MIGRATIONS) == {"applied": ["0001"], "current": "0001"}
        stub.assert_no_pending_responses()
    assert clock.sleeps == []


def test_a_resuming_cluster_is_retried(client):
    clock = Clock()
    run = executor(client, clock)
    with Stubber(client) as stub:
        expect_run(stub, resuming=2)
        assert migrator.migrate(run, MIGRATIONS)["applied"] == ["0001"]
        stub.assert_no_pending_responses()
    assert clock.sleeps == [migrator.RESUME_RETRY_INTERVAL] * 2 and run.resume_retries == 2


def test_a_cluster_still_resuming_after_a_minute_fails_the_run(client):
    clock = Clock()
    with Stubber(client) as stub:
        for _ in range(20):
            stub.add_client_error("begin_transaction", service_error_code="DatabaseResumingException", http_status_code=400)
        with pytest.raises(client.exceptions.DatabaseResumingException):
            migrator.migrate(executor(client, clock), MIGRATIONS)
    assert sum(clock.sleeps) <= migrator.RESUME_WAIT_SECONDS and len(clock.sleeps) >= 10


def test_a_failing_statement_rolls_the_transaction_back(client):
    clock = Clock()
    with Stubber(client) as stub:
        expect_run(stub, fail_at="-- a comment; here\nCREATE TABLE b (t text DEFAULT 'x;y')")
        with pytest.raises(client.exceptions.DatabaseErrorException):
            migrator.migrate(executor(client, clock), MIGRATIONS)
        stub.assert_no_pending_responses()  # the rollback was sent, and no commit


def test_a_failed_rollback_does_not_hide_the_failure(client):
    with Stubber(client) as stub:
        stub.add_response("begin_transaction", {"transactionId": TX}, {**TARGET, "database": "todo"})
        stub.add_client_error("execute_statement", service_error_code="StatementTimeoutException")
        stub.add_client_error("rollback_transaction", service_error_code="TransactionNotFoundException")
        with pytest.raises(client.exceptions.StatementTimeoutException) as failed:
            migrator.migrate(executor(client, Clock()), MIGRATIONS)
    assert "the rollback failed too" in failed.value.__notes__[0]


def test_the_client_waits_longer_than_the_data_api_and_never_continues_after_a_timeout(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    config = migrator.data_api_client().meta.config
    assert config.read_timeout >= 60
    assert config.retries["total_max_attempts"] == 1  # no automatic retry of a statement
    # continueAfterTimeout appears in no request above: Stubber compares the whole parameter set


def test_the_migrate_function_takes_the_data_api_path_from_its_settings(bare_stack, client, monkeypatch):
    """DB_ADMIN_ACCESS data-api: resourceArn DB_CLUSTER_ARN, secretArn DB_SECRET_ARN, database DB_NAME; no
    connection and no secret read by the function itself; the database recorded as ok."""
    from .conftest import context_for, handler_of

    for key, value in {"DB_ADMIN_ACCESS": "data-api", "DB_CLUSTER_ARN": CLUSTER, "DB_SECRET_ARN": SECRET, "DB_NAME": "todo"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(migrator, "data_api_client", lambda: client)
    monkeypatch.setattr(migrator, "discover", lambda directory=migrator.MIGRATIONS_DIR: MIGRATIONS)
    with monkeypatch.context() as patch, Stubber(client) as stub:  # undone before the database's teardown connects
        patch.setattr("psycopg.connect", lambda *a, **k: pytest.fail("the Data API path opened a connection"))
        expect_run(stub)
        assert handler_of("migrate")({}, context_for("migrate")) == {"applied": ["0001"], "current": "0001"}
        stub.assert_no_pending_responses()
    assert [item["state"] for item in bare_stack.scan("dependencyStatus")] == ["ok"]
