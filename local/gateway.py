"""The HTTP API, locally: a threading HTTP server that does what API Gateway (HTTP API, payload 2.0) does.

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
(local/cors.py), is answered as the HTTP API's CORS configuration does: preflights first, then
Access-Control-Allow-Origin on every answer to an allowed origin.
Each request prints one line: METHOD PATH STATUS DURATIONms.

Locally only, GET /openapi.json answers the API's OpenAPI document (todo_app.openapi).

The HTTP edge answers in JSON `{"message": ...}` too, never the standard library's HTML pages: a
malformed request line or header 400, a request line over 64 KiB 414, an unparseable Content-Length or
chunk size 400 (the connection is closed: the body's end is unknown); any method is routed (TRACE or a
made-up one matches no route: 404). A body must arrive within `body_timeout` seconds as a whole
(408 and the connection closed), so a client that sends less than its Content-Length cannot hold a
thread forever.
"""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from todo_app.catalog import AUTH_HEADER

from .containers import FunctionError, Invoker
from .cors import CorsRules
from .events import authorizer_event, http_event, match_route, new_request_id
from .system import BackgroundServer

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
BODY_TIMEOUT = 30.0  # seconds for a whole body to arrive (API Gateway's integration timeout is 30 s too)
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
            try:
                decision = self.functions.invoke("authorizer", event)
            except FunctionError:
                raise GatewayResponse(*INTERNAL) from None
            if not isinstance(decision, dict) or not isinstance(decision.get("isAuthorized"), bool):
                self.log(f"  authorizer: not a simple response: {decision!r:.200}")
                raise GatewayResponse(*INTERNAL)
            if not decision["isAuthorized"]:
                raise GatewayResponse(*FORBIDDEN)
            authorizer_context = decision.get("context") or {}
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway offers
    server: GatewayServer

    def log_message(self, format: str, *args: Any) -> None:  # the runtime prints its own request line
        pass

    def __getattr__(self, name: str) -> Any:
        # every method reaches the gateway, which answers an unrouted one (TRACE, a made-up one) 404 as
        # API Gateway does, rather than the standard library's HTML 501
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own errors (bad request line, headers, version; a request line over 64 KiB) as JSON."""
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"  # an unparsed request line: still answer with a status line and headers
        self.close_connection = True
        phrase = self.responses.get(code, ("Error", ""))[0]
        body = json.dumps({"message": phrase}).encode()
        self.send_response(code, phrase)
        self.send_header("content-type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        deadline = time.monotonic() + self.server.body_timeout
        try:
            return self._read_framed_body(deadline)
        except TimeoutError:
            raise GatewayResponse(*TIMEOUT) from None
        finally:
            self.connection.settimeout(None)

    def _until(self, deadline: float) -> None:
        """The socket's reads from now on end by `deadline` (a TimeoutError after it)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the body did not arrive in time")
        self.connection.settimeout(remaining)

    def _read_exactly(self, length: int, deadline: float) -> bytes:
        """`length` bytes, read piece by piece so that a trickle cannot outlast the deadline."""
        parts, missing = [], length
        while missing > 0:
            self._until(deadline)
            part = self.rfile.read1(min(missing, 1 << 20))
            if not part:
                raise GatewayResponse(*BAD_REQUEST)  # the client closed before its body was complete
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)

    def _read_line(self, deadline: float) -> bytes:
        self._until(deadline)
        return self.rfile.readline(1024)

    def _read_framed_body(self, deadline: float) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                length = _number(self._read_line(deadline).split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self._read_line(deadline) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                size += length
                if size > MAX_REQUEST_BYTES:
                    raise GatewayResponse(*TOO_LARGE)
                chunks.append(self._read_exactly(length, deadline))
                self._read_line(deadline)
        length = _number(self.headers.get("Content-Length") or b"0", 10)
        if length > MAX_REQUEST_BYTES:
            if length <= MAX_DRAIN_BYTES:  # read it, so that the client sees the 413 instead of a broken pipe
                while length > 0:
                    self._until(deadline)
                    length -= len(self.rfile.read1(min(length, 1 << 20)) or b"\0" * length)
            raise GatewayResponse(*TOO_LARGE)
        return self._read_exactly(length, deadline) if length > 0 else b""

    def _handle(self) -> None:
        started = time.monotonic()
        request_id = new_request_id()
        method = self.command
        cors = self.server.gateway.cors
        preflight = cors.preflight(method, list(self.headers.items())) if cors else None
        try:
            body = self._read_body()
            status, headers, payload = preflight or self.server.gateway.handle(
                method, self.path, list(self.headers.items()), body, self.client_address[0], request_id
            )
        except GatewayResponse as answer:
            if answer.status in (BAD_REQUEST[0], TIMEOUT[0], TOO_LARGE[0]):
                self.close_connection = True  # the unread (or unframed) body makes the connection unusable
            status, headers, payload = answer.to_http()
        except Exception as error:  # noqa: BLE001 - the HTTP server's boundary: a bug in the runtime itself (a handler's never gets here) still gets API Gateway's 500
            self.server.log(f"  gateway error: {error!r}")
            status, headers, payload = GatewayResponse(*INTERNAL).to_http()
        if cors and not preflight:
            headers = cors.apply(list(self.headers.items()), headers)
        self.send_response(status)
        for name, value in headers:
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)
        path = urlsplit(self.path).path
        self.server.log(f"{method} {path} {status} {(time.monotonic() - started) * 1000:.0f}ms")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def _number(raw: str | bytes, base: int) -> int:
    """A Content-Length (base 10) or chunk size (base 16): digits only, else a 400."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    text = text.strip()
    digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
    if not text or len(text) > 16 or any(c not in digits for c in text):
        raise GatewayResponse(*BAD_REQUEST)
    return int(text, base)


class GatewayServer(BackgroundServer):
    request_queue_size = 128
    thread_name = "gateway"

    def __init__(
        self, gateway: Gateway, host: str, port: int, log: Callable[[str], None] = print, body_timeout: float = BODY_TIMEOUT
    ) -> None:
        self.gateway, self.log = gateway, log
        self.body_timeout = body_timeout  # seconds for a whole request body to arrive
        super().__init__((host, port), _Handler)
