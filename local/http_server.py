"""The local servers' HTTP layer: werkzeug's threaded WSGI server, with the edge behaviour API Gateway and
CloudFront have and werkzeug's development defaults lack.

`BackgroundServer(app, host, port)` serves a WSGI application on its own thread: `url`, `start()`, `stop()`.
Its request handler (a `werkzeug.serving.WSGIRequestHandler`) differs from werkzeug's in these ways:
- errors of the HTTP layer itself are JSON `{"message": ...}`, never an HTML page: a malformed request line
  or header 400, a request line over 64 KiB 414, an unparseable Content-Length 400; any method reaches the
  application (which answers an unknown one as it sees fit);
- the request body (`wsgi.input`) is framed by Content-Length or chunked encoding (werkzeug's
  `DechunkedInput`) and must arrive as a whole within `body_timeout` seconds: a read after that raises
  `BodyTimeout`, so a client that sends less than it announced cannot hold a thread forever; a malformed
  chunk or a body cut short raises `MalformedBody`;
- connections are kept alive (werkzeug closes each one after a single response) unless the request asked
  to close, its body was not read to the end, or the application set `environ[CLOSE_CONNECTION]`;
- the response is framed with its Content-Length and leaves in one write on a TCP_NODELAY socket, so a
  request sent right after another on a kept-alive connection does not wait for a delayed ACK (Nagle's
  algorithm held the body of a two-write response back by ~40 ms).

The application gets the request's headers as received, names and order kept, in `environ[RAW_HEADERS]`
(werkzeug's environ drops any header whose name has an underscore and joins repeated ones).
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from werkzeug.serving import DechunkedInput, ThreadedWSGIServer, WSGIRequestHandler, select_address_family

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

RAW_HEADERS = "local.raw_headers"  # environ key: [(name, value), ...] as the client sent them
CLOSE_CONNECTION = "local.close_connection"  # environ key an application sets to close after its answer
BODY_TIMEOUT = 30.0  # seconds for a whole body to arrive (API Gateway's integration timeout is 30 s too)
_HOP_BY_HOP = ("content-length", "connection", "transfer-encoding", "keep-alive")


class BodyTimeout(TimeoutError):
    """The request body did not arrive within the server's `body_timeout`."""


class MalformedBody(ValueError):
    """The request body's framing is broken: a bad chunk, or the client closed before the end."""


def json_error(status: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """An answer of the HTTP layer: its reason phrase as `{"message": ...}`."""
    return status, [("content-type", "application/json")], json.dumps({"message": HTTPStatus(status).phrase}).encode()


def parse_length(raw: str | bytes, base: int = 10) -> int:
    """A Content-Length (base 10) or chunk size (base 16): digits only, else MalformedBody."""
    text = (raw.decode("latin-1") if isinstance(raw, bytes) else raw).strip()
    digits = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
    if not text or len(text) > 16 or any(c not in digits for c in text):
        raise MalformedBody(f"not a length: {text[:20]!r}")
    return int(text, base)


class _DeadlineReader:
    """The connection's buffered reader, each read ending by `deadline` (BodyTimeout after it)."""

    def __init__(self, rfile: io.BufferedIOBase, connection: socket.socket, deadline: float) -> None:
        self._rfile, self._connection, self._deadline = rfile, connection, deadline

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise BodyTimeout("the body did not arrive in time")
        self._connection.settimeout(remaining)

    def read1(self, size: int) -> bytes:
        self._arm()
        try:
            return self._rfile.read1(size)
        except TimeoutError:
            raise BodyTimeout("the body did not arrive in time") from None

    def read(self, size: int) -> bytes:
        """Up to `size` bytes, fewer only at the end of the stream; a trickle cannot outlast the deadline."""
        parts, missing = [], size
        while missing > 0:
            part = self.read1(min(missing, 1 << 20))
            if not part:
                break
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)

    def readline(self, limit: int = -1) -> bytes:
        line = bytearray()
        while limit < 0 or len(line) < limit:
            byte = self.read1(1)
            line += byte
            if not byte or byte == b"\n":
                break
        return bytes(line)


class RequestBody:
    """`wsgi.input`: the request's body as framed, read against the server's deadline."""

    def __init__(self, reader: _DeadlineReader, *, length: int | None) -> None:
        self._reader = reader
        self.length = length  # None: chunked
        self._remaining = length
        self._chunks = DechunkedInput(reader) if length is None else None  # type: ignore[arg-type]
        self.complete = length == 0

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of the body (all of it when negative); b"" at its end."""
        size = (1 << 62) if size < 0 else size
        if self._chunks is not None:
            return self._read_chunks(size)
        assert self._remaining is not None
        want = min(size, self._remaining)
        data = self._reader.read(want) if want else b""
        if len(data) < want:
            raise MalformedBody("the client closed before its body was complete")
        self._remaining -= len(data)
        self.complete = self._remaining == 0
        return data

    def _read_chunks(self, size: int) -> bytes:
        assert self._chunks is not None
        parts: list[bytes] = []
        while size > 0 and not self.complete:
            buffer = bytearray(min(size, 1 << 20))
            try:
                count = self._chunks.readinto(buffer)
            except BodyTimeout:
                raise
            except (OSError, ValueError) as error:
                raise MalformedBody(str(error)) from None
            self.complete = count < len(buffer)  # DechunkedInput fills the buffer unless the last chunk came
            parts.append(bytes(buffer[:count]))
            size -= count
        return b"".join(parts)

    def drain(self) -> None:
        """Read and drop the rest of the body (so that the client sees the answer, not a broken pipe)."""
        while not self.complete and self.read(1 << 20):
            pass


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    server: BackgroundServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:  # the servers print their own line
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The request line or headers could not be parsed (400, 414, 431, 505): JSON, and the connection closed."""
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"  # an unparsed request line: still answer with a status line and headers
        if not hasattr(self, "command"):
            self.command = ""
        self.close_connection = True
        self._write(*json_error(code))

    def _body(self) -> RequestBody:
        deadline = time.monotonic() + self.server.body_timeout
        reader = _DeadlineReader(self.rfile, self.connection, deadline)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return RequestBody(reader, length=None)
        return RequestBody(reader, length=parse_length(self.headers.get("Content-Length") or "0"))

    def run_wsgi(self) -> None:
        try:
            body = self._body()
        except MalformedBody:
            self.close_connection = True  # the body's end is unknown
            self._write(*json_error(400))
            return
        # an "Expect: 100-continue" was answered by http.server's parse_request already
        environ: dict[str, Any] = {}
        try:
            self.environ = environ = self.make_environ()
            environ["wsgi.input"] = body
            environ.pop("wsgi.input_terminated", None)
            environ[RAW_HEADERS] = list(self.headers.items())
            status, headers, payload = _call(self.server.app, environ)
        except Exception as error:  # noqa: BLE001 - the server's boundary: a bug of the application still gets a 500
            self.server.log_line(f"  {self.server.thread_name} error: {error!r}")
            environ[CLOSE_CONNECTION] = True
            status, headers, payload = json_error(500)
        finally:
            self.connection.settimeout(None)
        if environ.get(CLOSE_CONNECTION) or not body.complete:
            self.close_connection = True  # an unread (or unframed) body makes the connection unusable
        try:
            self._write(status, headers, payload)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _write(self, status: int, headers: Iterable[tuple[str, str]], payload: bytes) -> None:
        """Status line, headers and body in one write."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() not in _HOP_BY_HOP]
        lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            lines.append("Connection: close")
        try:
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:  # a header value HTTP cannot carry: the application's error, answered 500
            self.server.log_line(f"  {self.server.thread_name}: a response header is not latin-1: {lines!r:.200}")
            self.close_connection = True
            self._write(*json_error(500))
            return
        self.wfile.write(head if self.command == "HEAD" else head + payload)


def _call(app: WSGIApplication, environ: WSGIEnvironment) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run a WSGI application to the end: (status, headers, body)."""
    answer: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
        answer[:] = [int(status.split(None, 1)[0]), headers]
        return lambda data: None  # the legacy write() callable: not used by these applications

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return answer[0], answer[1], payload


def respond(start_response: StartResponse, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> list[bytes]:
    """The WSGI answer of (status, headers, body); the server frames it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    start_response(f"{status} {phrase}".strip(), list(headers))
    return [body]


class BackgroundServer(ThreadedWSGIServer):
    """A WSGI application served on its own thread (the gateway, the web app): `url`, `start()`, `stop()`."""

    request_queue_size = 128
    thread_name = "server"
    _thread: threading.Thread | None = None

    def __init__(
        self, app: WSGIApplication, host: str, port: int, log: Callable[[str], None] = print, body_timeout: float = BODY_TIMEOUT
    ) -> None:
        self.log_line = log
        self.body_timeout = body_timeout  # seconds for a whole request body to arrive
        # bound here, so that a taken port is an OSError (werkzeug prints and exits the process)
        listener = socket.create_server((host, port), family=select_address_family(host, port), backlog=self.request_queue_size)
        try:
            super().__init__(host, port, app, _Handler, fd=listener.fileno())
        finally:
            listener.close()

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]  # the bound address: a port 0 is resolved
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(5)
        self.server_close()
