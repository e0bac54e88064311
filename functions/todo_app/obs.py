"""Observability shared by every function: Powertools Logger (JSON), Tracer (X-Ray) and Metrics (EMF).

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE
(catalog.COMMON_ENV); the defaults below only keep a bare import working. The Tracer disables itself
outside Lambda (and imports the X-Ray SDK lazily), so tests and the local runtime need no daemon.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from todo_app import catalog

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or catalog.SERVICE_NAME
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or catalog.METRICS_NAMESPACE

logger = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL") or "INFO")
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def publish_metrics(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Like `metrics.log_metrics`, but an invocation that recorded no metric is normal, not a warning."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            if metrics.metric_set:
                metrics.flush_metrics()
            else:
                metrics.clear_metrics()

    return wrapper

__all__ = ["logger", "tracer", "metrics", "MetricUnit", "publish_metrics"]
