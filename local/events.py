"""Real Lambda event shapes, built the way API Gateway (HTTP API, payload 2.0) and SQS build them.

The local runtime turns each HTTP request into these events, and the function tests use the same
builders, so a handler sees one event shape everywhere. Routing uses the catalog's route table.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from todo_app.catalog import ROUTES, Route

from .account import ACCOUNT_ID, REGION

API_ID = "local"


# API Gateway picks the most specific route: a literal segment (/sessions/current) before a variable
# one (/sessions/{sessionId}); so fewer variables first, the catalog's order otherwise
_BY_SPECIFICITY = sorted(ROUTES, key=lambda r: r.path.count("{"))


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for this request, and its path parameters; None answers 404."""
    for route in _BY_SPECIFICITY:
        found = route.path_pattern.match(path)
        if found and route.method == method.upper():
            return route, found.groupdict()
    return None


def new_request_id() -> str:
    """An id in the shape API Gateway gives each request (its `apigw-requestid` header and requestContext.requestId)."""
    return base64.b32encode(uuid.uuid4().bytes)[:16].decode()


def _request_context(method: str, path: str, route_key: str, source_ip: str, user_agent: str, request_id: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "domainPrefix": API_ID,
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": user_agent},
        "requestId": request_id or new_request_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }


def _headers_and_cookies(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Lower-cased names, repeated headers joined with commas, cookies split out (payload 2.0 rules)."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged, cookies


Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _common(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    route: Route,
    params: dict[str, str],
    source_ip: str,
    request_id: str | None,
) -> dict[str, Any]:
    header_map, cookies = _headers_and_cookies(headers.items() if isinstance(headers, Mapping) else headers)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": _request_context(method, raw_path, route.route_key, source_ip, header_map.get("user-agent", ""), request_id),
    }
    if cookies:
        event["cookies"] = cookies
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    return event


def http_event(
    method: str,
    raw_path: str,
    *,
    route: Route,
    path_parameters: dict[str, str] | None = None,
    raw_query: str = "",
    headers: Headers = (),
    body: bytes | str | None = None,
    authorizer_context: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event for a matched route; text bodies stay text, others go base64."""
    method = method.upper()
    event = _common(method, raw_path, raw_query, headers, route, path_parameters or {}, source_ip, request_id)
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = {"lambda": authorizer_context}
    if body:
        raw = body.encode() if isinstance(body, str) else body
        try:
            event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["isBase64Encoded"] = False
    return event


def authorizer_event(
    method: str,
    raw_path: str,
    *,
    route: Route,
    identity: list[str],
    path_parameters: dict[str, str] | None = None,
    raw_query: str = "",
    headers: Headers = (),
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) API Gateway sends before a protected route."""
    method = method.upper()
    event = _common(method, raw_path, raw_query, headers, route, path_parameters or {}, source_ip, request_id)
    event["type"] = "REQUEST"
    event["routeArn"] = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/$default/{method}{raw_path}"
    event["identitySource"] = identity
    return event


def sqs_record(
    body: str,
    *,
    queue_arn: str,
    message_id: str | None = None,
    receive_count: int = 1,
    receipt_handle: str | None = None,
    attributes: dict[str, str] | None = None,
    message_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One record of an SQS event as Lambda's event source mapping delivers it."""
    now = str(int(time.time() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or base64.b64encode(uuid.uuid4().bytes).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now,
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": now,
            **(attributes or {}),
        },
        "messageAttributes": message_attributes or {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else REGION,
    }


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


@dataclass
class LambdaContext:
    """The context object a warm Lambda passes: name, version, ARN, memory, request id, time left."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 10
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
