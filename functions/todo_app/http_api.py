"""The HTTP API plumbing shared by the API functions: routing of payload 2.0 events, responses, errors.

(Named `http_api`, not `http`, so that it never shadows the standard library's `http` package.)

Not Powertools' event handler: importing any of it runs its package's __init__, which loads every
resolver (AppSync's imports asyncio and ssl) and every event data class, a fifth of an API function's
cold start, for routing that API Gateway has already done (the event names its route).

- Routes come from the catalog: a handler module makes a `Router("<function>")` and decorates each
  route function with `@router.operation`; the decorator finds the catalog route whose `operation`
  is the function's name, so no handler module writes a path or a method. `router.lambda_handler()`
  fails at import if a catalog route of the function has no operation.
- Every response carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
- Every error is JSON `{"error": {"code", "message", "details"}}`: `ApiError` for expected ones,
  400 with each bad field named for validation, 404 `route_not_found` for a route or method that is
  not the function's, 503 when a
  dependency is down, 500 with a generic message (the exception is logged, never returned).
- Bodies are parsed here so that a malformed body is a 400 `invalid_json`, a body over 64 KiB a 413, and validation errors name the field in our format.
  JSON numbers with a fraction are parsed as Decimal, never float (amounts stay exact).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from todo_app import aws, catalog
from todo_app.aws import DependencyUnavailable
from todo_app.telemetry import logger, publish_metrics

MAX_BODY_BYTES = 64 * 1024
MAX_CURSOR_CHARS = 1024  # the cursors this API makes are a key of a few short strings
M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
Details = list[dict[str, Any]]  # an error's details: [{"field": ..., "message": ...}, ...]


@dataclass
class HttpResponse:
    """What a route function returns: a status, a JSON-serialisable body (None: no body) and headers."""

    status_code: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class App:
    """The request being answered, as the route functions and the request helpers read it."""

    event: dict[str, Any] = field(default_factory=dict)  # the payload 2.0 event
    lambda_context: Any = None
    request_model: str | None = None  # the route's declared request model (catalog.Endpoint.request), which `parse` must use


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Details | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []
        self.headers = dict(headers or {})  # e.g. Retry-After on a 429


def bad_request(field: str, message: str, code: str = "invalid_input") -> ApiError:
    return ApiError(400, code, "The request is invalid", [{"field": field, "message": message}])


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"The {what} does not exist")


def forbidden(message: str = "This resource belongs to someone else") -> ApiError:
    return ApiError(403, "forbidden", message)


def error_body(code: str, message: str, details: Details | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, body, {"Content-Type": "application/json", **(headers or {})})


def no_content() -> HttpResponse:
    return HttpResponse(204)


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# one encoder for every response: json.dumps with any option builds a new one per call
_dumps = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def _api_error(exc: ApiError) -> HttpResponse:
    return json_response(exc.status, error_body(exc.code, exc.message, exc.details), exc.headers)


def _dependency_unavailable(exc: DependencyUnavailable) -> HttpResponse:
    logger.warning("dependency unavailable", extra={"dependency": exc.dependency, "reason": str(exc.__cause__ or exc)})
    return unavailable(exc.dependency)


def _unexpected(exc: Exception) -> HttpResponse:
    # botocore's errors are told apart here, not registered as handlers of their own, so that
    # loading this module does not import botocore
    if aws.is_unavailable(exc):
        service = aws.service_of(exc)
        logger.warning("dependency unavailable", extra={"dependency": service, "reason": str(exc)})
        return unavailable(service)
    logger.exception("unhandled error")
    return json_response(500, error_body("internal_error", "An unexpected error occurred"))


def error_response(exc: Exception) -> HttpResponse:
    """The answer to an exception a route function raised."""
    if isinstance(exc, ApiError):
        return _api_error(exc)
    if isinstance(exc, DependencyUnavailable):
        return _dependency_unavailable(exc)
    return _unexpected(exc)


def unavailable(dependency: str) -> HttpResponse:
    return json_response(
        503,
        error_body("dependency_unavailable", f"A dependency is unavailable: {dependency}", [{"dependency": dependency}]),
    )


class Router:
    """The catalog's routes of one API function, bound to the route functions named by their `operation`.

    `app` holds the request being answered; the request helpers below read it from there.
    """

    def __init__(self, function: str) -> None:
        self.function = function
        self.routes = {route.operation: route for route in catalog.routes_for(function)}
        if not self.routes:
            raise RuntimeError(f"the catalog has no routes for {function!r}")
        self.app = App()
        self.operations: dict[str, Callable[..., Any]] = {}  # operation name -> route function, as bound

    def operation(self, func: F) -> F:
        """Decorator: serve `func` on the catalog route whose operation is `func.__name__`."""
        name = func.__name__
        route = self.routes.get(name)
        if route is None:
            raise RuntimeError(f"{self.function}: {name!r} is not the operation of any catalog route of this function")
        if name in self.operations:
            raise RuntimeError(f"{self.function}: operation {name!r} is bound twice")
        self.operations[name] = func
        return func

    def lambda_handler(self) -> LambdaHandler:
        """The Lambda entry point; every catalog route of the function must have its operation by now."""
        missing = [f"{route.route_key} ({name})" for name, route in self.routes.items() if name not in self.operations]
        if missing:
            raise RuntimeError(f"{self.function}: no route function for " + ", ".join(missing))
        app = self.app
        # API Gateway names the route it matched; its method and path are checked against the catalog's
        # route all the same, and anything else (another function's route, a path the route's pattern
        # refuses) is a 404.
        request_models = {e.operation: e.request for e in catalog.ENDPOINTS if e.function == self.function}
        by_route_key = {
            route.route_key: (route.method, self.operations[name], route.path_pattern, request_models.get(name))
            for name, route in self.routes.items()
        }
        cold_start = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"  # as Powertools tells it
        formatter = logger.registered_formatter  # what logger.append_keys finds through four calls each time

        @publish_metrics
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            nonlocal cold_start
            request_context = event.get("requestContext", {})
            # The keys logger.inject_lambda_context appends, in its order, and the request id as correlation
            # id, in one call: the decorator (a context model, an environment read per call) and a JMESPath
            # correlation id cost a good part of a GET's overhead.
            formatter.append_keys(
                cold_start=cold_start,
                function_name=context.function_name,
                function_memory_size=context.memory_limit_in_mb,
                function_arn=context.invoked_function_arn,
                function_request_id=context.aws_request_id,
                correlation_id=request_context.get("requestId"),
            )
            cold_start = False
            found = by_route_key.get(event.get("routeKey", ""))
            method = str(request_context.get("http", {}).get("method", "")).upper()
            match = found[2].match(event.get("rawPath") or "") if found and found[0] == method else None
            if found is None or match is None:
                return _answer(json_response(404, error_body("route_not_found", "No such route")))
            app.event, app.lambda_context, app.request_model = event, context, found[3]
            try:
                response: HttpResponse = found[1](**match.groupdict())
            except Exception as exc:  # noqa: BLE001 - every failure gets its JSON answer (error_response)
                response = error_response(exc)
            return _answer(response)

        return handler


def _answer(response: HttpResponse) -> dict[str, Any]:
    """The payload 2.0 answer of a response, with the security headers."""
    return {
        "statusCode": response.status_code,
        "body": None if response.body is None else _dumps(response.body),
        "isBase64Encoded": False,
        "headers": {**response.headers, **SECURITY_HEADERS},
        "cookies": [],
    }


# On every function response. no-store on all of them, not only those that carry a token or answer a
# request with one: every answer of this API is about one user (a profile, a token, an order), and a
# shared cache or a browser's disk must keep none of them.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


# --------------------------------------------------------------------------- request helpers


def caller_id(app: App) -> str:
    """The user id the authorizer put in the request context; the only identity a handler trusts."""
    context = app.event.get("requestContext", {}).get("authorizer", {}).get("lambda") or {}
    user_id = context.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ApiError(401, "unauthorized", "A valid bearer token is required")
    return user_id


def require_self(app: App, user_id: str) -> str:
    caller = caller_id(app)
    if user_id != caller:
        raise forbidden("You can only access your own user")
    return caller


def raw_body(app: App) -> bytes:
    event = app.event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_json", "The body is not valid base64") from None
    else:
        data = body.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def json_body(app: App) -> dict[str, Any]:
    data = raw_body(app)
    if not data.strip():
        raise ApiError(400, "invalid_json", "A JSON object body is required")
    try:
        value = json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object")
    return value


def validation_details(exc: ValidationError) -> Details:
    details: Details = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        details.append({"field": field, "message": message})
    return details


def parse(app: App, model: type[M]) -> M:
    """The request body validated by `model`, which must be the route's declared request model (so that the
    OpenAPI document, generated from the declaration, describes exactly what is validated)."""
    if model.__name__ != app.request_model:
        raise RuntimeError(f"{model.__name__} is not the request model the route declares ({app.request_model})")
    body = json_body(app)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, "invalid_input", "The request is invalid", validation_details(exc)) from None


def query_param(app: App, name: str) -> str | None:
    params = app.event.get("queryStringParameters") or {}
    return params.get(name)


def header(app: App, name: str) -> str | None:
    headers = app.event.get("headers") or {}
    return headers.get(name.lower())


def limit_param(app: App, default: int = 20, maximum: int = 100) -> int:
    raw = query_param(app, "limit")
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", raw.strip()) or not 1 <= int(raw) <= maximum:
        raise bad_request("limit", f"must be an integer from 1 to {maximum}")
    return int(raw)


def encode_cursor(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(_dumps(key).encode()).decode().rstrip("=")


def decode_cursor(app: App, required_keys: set[str]) -> dict[str, str] | None:
    """The opaque `cursor` query parameter back to its key; anything tampered with is a 400."""
    raw = query_param(app, "cursor")
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_CURSOR_CHARS:
        raise bad_request("cursor", "is not a cursor this API returned")
    try:
        value = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nests too deep
        raise bad_request("cursor", "is not a cursor this API returned") from None
    if not isinstance(value, dict) or set(value) != required_keys or not all(isinstance(v, str) and v for v in value.values()):
        raise bad_request("cursor", "is not a cursor this API returned")
    return value
