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
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from todo_app.catalog import AUTH_HEADER

from .cors import CorsRules
from .events import authorizer_event, http_event, match_route
from .lambdas import FunctionError, Functions

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API payload limit
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
MAX_DRAIN_BYTES = 4 * MAX_REQUEST_BYTES  # an over-limit body up to this size is read and dropped; a larger one closes the connection


class GatewayResponse(Exception):
    """An answer API Gateway gives itself, before or instead of the route's function."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


NOT_FOUND = (404, "Not Found")
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
TOO_LARGE = (413, "Request Entity Too Large")
INTERNAL = (500, "Internal Server Error")


class Gateway:
    """Routing, the authorizer and the function call; independent of the HTTP server so it stays testable."""

    def __init__(self, functions: Functions, log: Callable[[str], None] = print) -> None:
        self.functions = functions
        self.log = log
        self.cors: CorsRules | None = None  # web app hook: set by local/web.py, the stack's allow-list

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request in, (status, headers, body) out."""
        url = urlsplit(target)
        raw_path, raw_query = url.path or "/", url.query
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
            event = authorizer_event(method, raw_path, route=route, identity=[identity], path_parameters=params, raw_query=raw_query, headers=headers, source_ip=source_ip)
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
        event = http_event(method, raw_path, route=route, path_parameters=params, raw_query=raw_query, headers=headers, body=body or None,
                           authorizer_context=authorizer_context, source_ip=source_ip)
        try:
            result = self.functions.invoke(route.function, event)
        except FunctionError:
            raise GatewayResponse(*INTERNAL) from None
        try:
            return to_http(result)
        except ValueError as error:
            self.log(f"  {route.function}: malformed response: {error}")
            raise GatewayResponse(*INTERNAL) from None


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
    server: "GatewayServer"

    def log_message(self, format: str, *args: Any) -> None:  # the runtime prints its own request line
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                length = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                size += length
                if size > MAX_REQUEST_BYTES:
                    raise GatewayResponse(*TOO_LARGE)
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            if length <= MAX_DRAIN_BYTES:  # read it, so that the client sees the 413 instead of a broken pipe
                while length > 0:
                    length -= len(self.rfile.read(min(length, 1 << 20)) or b"\0" * length)
            raise GatewayResponse(*TOO_LARGE)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        started = time.monotonic()
        request_id = base64.b32encode(uuid.uuid4().bytes)[:16].decode()
        method = self.command
        cors = self.server.gateway.cors  # web app hook
        preflight = cors.preflight(method, list(self.headers.items())) if cors else None  # web app hook
        try:
            body = self._read_body()
            status, headers, payload = preflight or self.server.gateway.handle(method, self.path, list(self.headers.items()), body, self.client_address[0])
        except GatewayResponse as answer:
            if answer.status == 413:
                self.close_connection = True  # the unread body makes the connection unusable
            status, headers, payload = answer.status, [("content-type", "application/json")], json.dumps({"message": answer.message}).encode()
        except Exception as error:  # a bug in the runtime itself, never a handler's
            self.server.log(f"  gateway error: {error!r}")
            status, headers, payload = INTERNAL[0], [("content-type", "application/json")], json.dumps({"message": INTERNAL[1]}).encode()
        if cors and not preflight:  # web app hook
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


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, gateway: Gateway, host: str, port: int, log: Callable[[str], None] = print) -> None:
        self.gateway, self.log = gateway, log
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
        self.server_close()
