"""Applies the versioned SQL migrations (todo_app/migrations) and answers
{"applied": [versions applied by this run], "current": latest version}.

Invoked by the Pulumi program on deploy (re-run when the migrations change) and by the local runtime
at start. A failure raises, so the invocation (and the deploy) fails. Env: DB_*.
"""

from __future__ import annotations

from typing import Any

from todo_app import db, migrator
from todo_app.telemetry import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> migrator.MigrationRun:
    result = db.run(migrator.migrate)
    logger.info("migrations", extra=result)
    return result
