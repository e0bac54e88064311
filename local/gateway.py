"""The HTTP API, locally: a threaded HTTP server (werkzeug's) that does what API Gateway (HTTP API, payload 2.0) does.

For each request, in API Gateway's order:
1. a body over 10 MB (the HTTP API payload limit)  -> 413 {"message": "Request Entity Too Large"}
2. no route for the method and path                -> 404 {"message": "Not Found"}
3. a protected route without an Authorization header -> 401 {"message": "Unauthorized"}, no function runs
4. the REQUEST authorizer (simple responses) says no -> 403 {"message": "Forbidden"}
   it says yes -> its `context` becomes requestContext.authorizer.lambda of the route's event
5. the route's function gets a real payload 2.0 event; its response (statusCode, headers, cookies, body,
   isBase64Encoded, or any other JSON value as a 200 application/json body) becomes the HTTP response;
   a function error (exception, timeout, bad response) -> 500 {"message": "Internal Server Error"}.

The authorizer's result is not cached (API Gateway may cache it for the configured TTL): locally a
logged-out token is refused at once. There is no throttling. CORS, when the runtime sets `Gateway.cors`
(components/cors.py, the configuration the stack gives the HTTP API), is answered as the HTTP API's CORS configuration does: preflights first, then
Access-Control-Allow-Origin on every answer to an allowed origin.
Each request prints one line: METHOD PATH STATUS DURATIONms.

Locally only, GET /openapi.json answers the API's OpenAPI document (todo_app.openapi).

The HTTP edge (local/http_server.py) answers in JSON `{"message": ...}` too, never an HTML page: a
malformed request line or header 400, a request line over 64 KiB 414, an unparseable Content-Length or
chunk size 400 (the connection is closed: the body's end is unknown), a NUL byte (`%00`) in the path
400; any method is routed (TRACE or a made-up one matches no route: 404). A body must arrive within
`body_timeout` seconds as a whole (408 and the connection closed), so a client that sends less than its
Content-Length cannot hold a thread forever. Connections are kept alive and each answer leaves in one
write, so back-to-back requests on one connection run at the handler's speed.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from components.cors import CorsRules
from todo_app.catalog import AUTH_HEADER

from .containers import FunctionError, Invoker
from .events import authorizer_event, http_event, match_route, new_request_id
from .http_server import BODY_TIMEOUT, CLOSE_CONNECTION, RAW_HEADERS, BackgroundServer, BodyTimeout, MalformedBody, RequestBody, respond

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
MAX_DRAIN_BYTES = 4 * MAX_REQUEST_BYTES  # an over-limit body up to this size is read and dropped; a larger one closes the connection


class GatewayResponse(Exception):
    """An answer API Gateway gives itself, before or instead of the route's function."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def to_http(self) -> tuple[int, list[tuple[str, str]], bytes]:
        """As API Gateway sends it: a JSON body {"message": ...}."""
        return self.status, [("content-type", "application/json")], json.dumps({"message": self.message}).encode()


BAD_REQUEST = (400, "Bad Request")
TIMEOUT = (408, "Request Timeout")
NOT_FOUND = (404, "Not Found")
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
TOO_LARGE = (413, "Request Entity Too Large")
INTERNAL = (500, "Internal Server Error")


class Gateway:
    """Routing, the authorizer and the function call; independent of the HTTP server so it stays testable."""

    def __init__(self, functions: Invoker, log: Callable[[str], None] = print) -> None:
        self.functions = functions  # the warm containers (or a test's stand-in), invoked by catalog name
        self.log = log
        self.cors: CorsRules | None = None  # the stack's CORS allow-list, when the runtime serves the web app

    def handle(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str, request_id: str | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request in, (status, headers, body) out, or GatewayResponse for an answer of API Gateway's own.

        `request_id` (new when not given) is the requestContext.requestId of the events this request makes."""
        request_id = request_id or new_request_id()
        url = urlsplit(target)
        raw_path, raw_query = url.path or "/", url.query
        if raw_path == OPENAPI_PATH and method in ("GET", "HEAD"):
            return 200, [("content-type", "application/json"), ("x-content-type-options", "nosniff")], openapi_document()
        found = match_route(method, raw_path)
        if found is None:
            raise GatewayResponse(*NOT_FOUND)
        route, raw_params = found
        params = {k: unquote(v) for k, v in raw_params.items()}
        authorizer_context = None
        if route.auth:
            identity = next((v for k, v in headers if k.lower() == AUTH_HEADER and v.strip()), None)
            if identity is None:
                raise GatewayResponse(*UNAUTHORIZED)
            event = authorizer_event(
                method,
                raw_path,
                route=route,
                identity=[identity],
                path_parameters=params,
                raw_query=raw_query,
                headers=headers,
                source_ip=source_ip,
                request_id=request_id,
            )
            authorizer_context = self._authorize(event)
        event = http_event(
            method,
            raw_path,
            route=route,
            path_parameters=params,
            raw_query=raw_query,
            headers=headers,
            body=body or None,
            authorizer_context=authorizer_context,
            source_ip=source_ip,
            request_id=request_id,
        )
        try:
            result = self.functions.invoke(route.function, event)
        except FunctionError:
            raise GatewayResponse(*INTERNAL) from None
        try:
            return to_http(result)
        except ValueError as error:
            self.log(f"  {route.function}: malformed response: {error}")
            raise GatewayResponse(*INTERNAL) from None

    def _authorize(self, event: dict[str, Any]) -> dict[str, Any]:
        """The REQUEST authorizer's simple response: its context when it allows, else GatewayResponse 403 (500 when it fails)."""
        try:
            decision = self.functions.invoke("authorizer", event)
        except FunctionError:
            raise GatewayResponse(*INTERNAL) from None
        if not isinstance(decision, dict) or not isinstance(decision.get("isAuthorized"), bool):
            self.log(f"  authorizer: not a simple response: {decision!r:.200}")
            raise GatewayResponse(*INTERNAL)
        if not decision["isAuthorized"]:
            raise GatewayResponse(*FORBIDDEN)
        return decision.get("context") or {}


OPENAPI_PATH = "/openapi.json"  # local only: the deployed API has no such route (the web app ships the file)


@functools.cache
def openapi_document() -> bytes:
    """The API's OpenAPI document, generated as the committed openapi.json is (a test keeps the two equal)."""
    from todo_app.openapi import render

    return render().encode()


def to_http(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A payload 2.0 function response as API Gateway turns it into HTTP; ValueError when it cannot."""
    try:
        serialized = json.dumps(result)  # what the Lambda runtime does with the return value
    except (TypeError, ValueError) as error:
        raise ValueError(f"not JSON-serializable: {error}") from error
    if len(serialized.encode()) > MAX_RESPONSE_BYTES:
        raise ValueError("response over Lambda's 6 MB limit")
    if not (isinstance(result, dict) and "statusCode" in result):
        # no statusCode: the whole value is a JSON body with status 200
        return 200, [("content-type", "application/json")], serialized.encode()
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"bad statusCode {status!r}")
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    body = result.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    elif result.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError as error:
            raise ValueError(f"isBase64Encoded but the body is not base64: {error}") from error
    else:
        raw = body.encode()
    return status, headers, raw


def read_body(body: RequestBody) -> bytes:
    """The whole request body, within the HTTP API's payload limit; GatewayResponse 400, 408 or 413 when not."""
    try:
        if body.length is not None and body.length > MAX_REQUEST_BYTES:
            if body.length <= MAX_DRAIN_BYTES:
                body.drain()  # read and dropped, so that the client sees the 413 instead of a broken pipe
            raise GatewayResponse(*TOO_LARGE)
        data = body.read(MAX_REQUEST_BYTES + 1)
    except BodyTimeout:
        raise GatewayResponse(*TIMEOUT) from None
    except MalformedBody:
        raise GatewayResponse(*BAD_REQUEST) from None
    if len(data) > MAX_REQUEST_BYTES:
        raise GatewayResponse(*TOO_LARGE)
    return data


def header_text(value: str) -> str:
    """A header value as API Gateway passes it to a function: its bytes decoded as UTF-8 (invalid sequences as
    U+FFFD). Python's HTTP server reads header bytes as Latin-1, which would turn "é" into "Ã©"."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value  # already text beyond Latin-1: not bytes read as Latin-1
    return raw.decode("utf-8", errors="replace")


class GatewayServer(BackgroundServer):
    """The gateway on werkzeug's threaded server (local/http_server.py): one WSGI application."""

    thread_name = "gateway"

    def __init__(
        self, gateway: Gateway, host: str, port: int, log: Callable[[str], None] = print, body_timeout: float = BODY_TIMEOUT
    ) -> None:
        self.gateway = gateway
        super().__init__(self.wsgi, host, port, log=log, body_timeout=body_timeout)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return respond(start_response, *self.answer(environ))

    def answer(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request as API Gateway answers it, CORS included; one log line."""
        started = time.monotonic()
        request_id = new_request_id()
        method, target = environ["REQUEST_METHOD"], environ["RAW_URI"]
        headers_in = [(name, header_text(value)) for name, value in environ[RAW_HEADERS]]
        cors = self.gateway.cors
        preflight = cors.preflight(method, headers_in) if cors else None
        try:
            body = read_body(environ["wsgi.input"])
            if "\0" in unquote(urlsplit(target).path):
                raise GatewayResponse(*BAD_REQUEST)
            status, headers, payload = preflight or self.gateway.handle(
                method, target, headers_in, body, environ["REMOTE_ADDR"], request_id
            )
        except GatewayResponse as answer:
            if answer.status in (BAD_REQUEST[0], TIMEOUT[0], TOO_LARGE[0]):
                environ[CLOSE_CONNECTION] = True  # the unread (or unframed) body makes the connection unusable
            status, headers, payload = answer.to_http()
        except Exception as error:  # noqa: BLE001 - the HTTP server's boundary: a bug in the runtime itself (a handler's never gets here) still gets API Gateway's 500
            self.log_line(f"  gateway error: {error!r}")
            status, headers, payload = GatewayResponse(*INTERNAL).to_http()
        if cors and not preflight:
            headers = cors.apply(headers_in, headers)
        headers = [*headers, ("apigw-requestid", request_id)]
        self.log_line(f"{method} {urlsplit(target).path} {status} {(time.monotonic() - started) * 1000:.0f}ms")
        return status, headers, payload
