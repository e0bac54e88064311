"""GET /health: PostgreSQL (SELECT 1) and DynamoDB (a GetItem of a sentinel key in the sessions
table). 200 {"status": "ok", "checks": {...}}; 503 with the failed check(s) named in `checks` and in
the error details.

Env: SESSIONS_TABLE, DB_*.
"""

from __future__ import annotations

import psycopg

from todo_app import aws, db, http_api
from todo_app.aws import DependencyUnavailable
from todo_app.telemetry import logger

router = http_api.Router("health")
app = router.app
SENTINEL = "health-check"


def _postgres() -> None:
    try:
        db.run(lambda conn: conn.execute("SELECT 1").fetchone())
    except psycopg.Error as exc:  # the connection's own failures are DependencyUnavailable already
        raise DependencyUnavailable("postgres") from exc


def _dynamodb() -> None:
    dynamodb, table = aws.client("dynamodb"), aws.table_name("sessions")
    try:
        dynamodb.get_item(TableName=table, Key={"tokenHash": {"S": SENTINEL}})
    except aws.errors() as exc:
        raise DependencyUnavailable("dynamodb") from exc


@router.operation
def health() -> http_api.HttpResponse:
    checks: dict[str, str] = {}
    failed: list[str] = []
    for name, check in (("postgres", _postgres), ("dynamodb", _dynamodb)):
        try:
            check()
            checks[name] = "ok"
        except DependencyUnavailable as exc:  # only the dependency's failure; a fault of this function is a 500
            logger.warning("health check failed", extra={"check": name, "reason": repr(exc.__cause__ or exc)})
            checks[name] = "unavailable"
            failed.append(name)
    if not failed:
        return http_api.json_response(200, {"status": "ok", "checks": checks})
    body = http_api.error_body(
        "dependency_unavailable",
        "Unavailable: " + ", ".join(failed),
        [{"check": name, "message": f"{name} is unavailable"} for name in failed],
    )
    return http_api.json_response(503, {"status": "unavailable", "checks": checks, **body})


handler = router.lambda_handler()
