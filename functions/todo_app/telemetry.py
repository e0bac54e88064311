"""Telemetry shared by every function: Powertools Logger (JSON) and Metrics (EMF).

Names and level come from POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and LOG_LEVEL
(catalog.COMMON_ENV). Unlike the settings in `settings`, these have fallbacks, deliberately: they are
read at import (the logger decorates each handler as its module loads), and each fallback is the very
value the stack and the local runtime set (catalog.common_environment), so a missing variable cannot
give a wrong name, and a bare import (tools, tests of single modules) still works.

Tracing is X-Ray "Active" mode, set by the stack (the authorizer's mode and the sampling rule are
per stack): Lambda itself records each sampled invocation's segment (init, invocation, overhead). Log
levels are the stack's too: Lambda filters these JSON lines by their "level" (EMF lines count as INFO). The Powertools Tracer is deliberately not used:
it imports the X-Ray SDK and botocore at module load, which cost ~150 ms of every cold start and
~20 MB of layer (bench/), for per-call subsegments this small service does not need.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from todo_app import catalog

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or catalog.SERVICE_NAME
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or catalog.METRICS_NAMESPACE

logger = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL") or "INFO")
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
            elif metrics.dimension_set or metrics.metadata_set:
                metrics.clear_metrics()  # only then is there anything to clear (it costs a few µs per GET)

    return wrapper


__all__ = ["logger", "metrics", "MetricUnit", "publish_metrics"]
