"""Applies the versioned SQL migrations and maintains the application role (`todo_app.migrator`), as the
master user, and answers {"applied": [versions applied by this run], "current": latest version}.

Invoked by the Pulumi program on deploy (re-run when the migrations change) and by the local runtime at
start. A failure raises, so the invocation (and the deploy) fails. On success it records PostgreSQL as
"ok" in the status table (what GET /health reports where the database pauses).

Env (catalog.admin_database_environment): DB_ADMIN_ACCESS chooses the path:
- `data-api` (AWS): the RDS Data API on DB_CLUSTER_ARN with the master secret DB_SECRET_ARN, database
  DB_NAME: no VPC, no connection, no Secrets Manager endpoint; a paused cluster is waited for;
- `connection` (the local runtime): a PostgreSQL connection to DB_HOST:DB_PORT/DB_NAME (DB_SSLMODE) with
  the credentials of the secret DB_SECRET_ARN ({"username", "password"}).
DB_USER names the application role the run maintains.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg

from todo_app import aws, dependency_status, migrator, settings
from todo_app.db import SSL_MODES
from todo_app.telemetry import logger

ADMIN_ACCESS = frozenset({"data-api", "connection"})
CONNECT_TIMEOUT = 60  # seconds: a paused database resumes in ~15-30 s


def _master_credentials() -> dict[str, str]:
    value = aws.client("secretsmanager").get_secret_value(SecretId=settings.text("DB_SECRET_ARN"))
    secret = json.loads(value["SecretString"])
    return {"username": secret["username"], "password": secret["password"]}


def _run_over_connection(app_user: str) -> migrator.MigrationRun:
    credentials = _master_credentials()
    with psycopg.connect(
        host=settings.text("DB_HOST"),
        port=settings.integer("DB_PORT", minimum=1, maximum=65535),
        dbname=settings.text("DB_NAME"),
        sslmode=settings.choice("DB_SSLMODE", SSL_MODES),
        user=credentials["username"],
        password=credentials["password"],
        connect_timeout=CONNECT_TIMEOUT,
        application_name="todo-platform-migrate",
        autocommit=True,
    ) as conn:
        return migrator.migrate(migrator.ConnectionExecutor(conn), app_user=app_user)


def _run_over_data_api(app_user: str) -> migrator.MigrationRun:
    executor = migrator.DataApiExecutor(
        migrator.data_api_client(),
        resource_arn=settings.text("DB_CLUSTER_ARN"),
        secret_arn=settings.text("DB_SECRET_ARN"),
        database=settings.text("DB_NAME"),
    )
    result = migrator.migrate(executor, app_user=app_user)
    if executor.resume_retries:
        logger.info("the database was resuming", extra={"retries": executor.resume_retries})
    return result


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> migrator.MigrationRun:
    app_user = settings.text("DB_USER")
    if settings.choice("DB_ADMIN_ACCESS", ADMIN_ACCESS) == "data-api":
        result = _run_over_data_api(app_user)
    else:
        result = _run_over_connection(app_user)
    dependency_status.record("ok")
    logger.info("migrations", extra=result)
    return result
