"""GET /health: PostgreSQL and DynamoDB (a GetItem of a sentinel key in the sessions table).
200 {"status": "ok", "checks": {...}}; 503 with the failed check(s) named in `checks` and in the error details.

PostgreSQL's check depends on DB_HEALTH:
- `connect` (a database that never pauses): SELECT 1 on the function's connection;
- `last-known` (a database that pauses): the state the SQL functions and the migrator last recorded in the
  status table (`todo_app.dependency_status`), with no socket to PostgreSQL at all: a connection attempt
  would wake a paused database, and a monitor calling every minute would keep it running. `checks.postgres`
  is then "ok", "unavailable" (503) or "unknown" (nothing recorded yet: not a failure), and
  `lastKnown.postgres` says when it was recorded.

Env: SESSIONS_TABLE, STATUS_TABLE, DB_*.
"""

from __future__ import annotations

from typing import Any

import psycopg

from todo_app import aws, db, dependency_status, http_api, session_items, settings, user_rows
from todo_app.aws import DependencyUnavailable
from todo_app.telemetry import logger

router = http_api.Router("health")
app = router.app
HEALTH_MODES = frozenset({"connect", "last-known"})


def _postgres(last_known: dict[str, Any]) -> str:
    if settings.choice("DB_HEALTH", HEALTH_MODES) == "last-known":
        try:
            seen = dependency_status.read()
        except aws.errors() as exc:
            raise DependencyUnavailable("postgres", "its last known state could not be read") from exc
        last_known["postgres"] = {"state": seen["state"], "at": seen["at"]}
        if seen["state"] == "unavailable":
            raise DependencyUnavailable("postgres", f"unavailable when last seen, at {seen['at']}")
        return seen["state"]
    try:
        db.run(user_rows.ping)
    except psycopg.Error as exc:  # the connection's own failures are DependencyUnavailable already
        raise DependencyUnavailable("postgres") from exc
    return "ok"


def _dynamodb(last_known: dict[str, Any]) -> str:
    try:
        session_items.probe()
    except aws.errors() as exc:
        raise DependencyUnavailable("dynamodb") from exc
    return "ok"


@router.operation
def health() -> http_api.HttpResponse:
    checks: dict[str, str] = {}
    last_known: dict[str, Any] = {}
    failed: list[str] = []
    for name, check in (("postgres", _postgres), ("dynamodb", _dynamodb)):
        try:
            checks[name] = check(last_known)
        except DependencyUnavailable as exc:  # only the dependency's failure; a fault of this function is a 500
            logger.warning("health check failed", extra={"check": name, "reason": repr(exc.__cause__ or exc)})
            checks[name] = "unavailable"
            failed.append(name)
    extra = {"lastKnown": last_known} if last_known else {}
    if not failed:
        return http_api.json_response(200, {"status": "ok", "checks": checks, **extra})
    body = http_api.error_body(
        "dependency_unavailable",
        "Unavailable: " + ", ".join(failed),
        [{"check": name, "message": f"{name} is unavailable"} for name in failed],
    )
    return http_api.json_response(503, {"status": "unavailable", "checks": checks, **extra, **body})


handler = router.lambda_handler()
