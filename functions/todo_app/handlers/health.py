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
    db.run(lambda conn: conn.execute("SELECT 1").fetchone())


def _dynamodb() -> None:
    aws.client("dynamodb").get_item(TableName=aws.table_name("sessions"), Key={"tokenHash": {"S": SENTINEL}})


@router.operation
def health():
    checks, failed = {}, []
    for name, check in (("postgres", _postgres), ("dynamodb", _dynamodb)):
        try:
            check()
            checks[name] = "ok"
        except (DependencyUnavailable, psycopg.Error, *aws.errors()) as exc:  # the dependency failed, not this function
            logger.warning("health check failed", extra={"check": name, "reason": repr(exc)})
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
