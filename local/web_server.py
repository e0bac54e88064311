"""The web app on its own origin, the way the deployed stack serves it from CloudFront and S3.

- web/'s files with the stack's Content-Type and Cache-Control (`components.site_rules`), read at each
  request so an edited file shows on reload; `/` is index.html.
- index.html with the <meta> CSP and config.json naming the local API, rendered by the same functions
  the stack uses.
- The response-headers policy's security headers on every answer; locally the CSP header names the
  exact API origin (there is no distribution whose creation must not wait for the API).
- gzip for text when the browser accepts it, as CloudFront compresses; ETag and 304 for revalidation.
- GET and HEAD only; anything else is 405, an unknown path 404, a NUL byte (`%00`) in the path 400.
- Served by werkzeug's threaded server with the gateway's HTTP edge (local/http_server.py).

`serve_web_app` also hands the gateway its CORS rules (components/cors.py): the web app's origin plus the
config's `corsOrigins` and the route table's methods, as the stack configures the HTTP API.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from components import site_rules
from components.cors import CorsRules
from todo_app.catalog import ROUTES

from .gateway import GatewayServer
from .http_server import RAW_HEADERS, BackgroundServer, respond

COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")
MIN_COMPRESS_BYTES = 1000  # CloudFront compresses from 1,000 bytes on


class WebServer(BackgroundServer):
    thread_name = "web"

    def __init__(self, api_url: str, host: str, port: int, log: Callable[[str], None] = print, root: Path | None = None) -> None:
        self.api_url = api_url
        self.host = host
        self.root = (root or site_rules.WEB_DIR).resolve()
        # refuse to start on a web/ the stack could not deploy; serve what it would upload
        self._files = {f.key: f.path for f in site_rules.site_files(self.root)}
        self.security_headers = site_rules.security_headers([site_rules.origin_of(api_url)])
        super().__init__(self.wsgi, host, port, log=log)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        started = time.monotonic()
        method = environ["REQUEST_METHOD"]
        path = unquote(urlsplit(environ["RAW_URI"]).path)
        request_headers = {name.lower(): value for name, value in environ[RAW_HEADERS]}
        status, headers, body = self.answer(method, path, request_headers)
        self.log_line(f"web {method} {path} {status} {(time.monotonic() - started) * 1000:.0f}ms")
        return respond(start_response, status, [*self.security_headers.items(), *headers], body)

    def answer(self, method: str, path: str, request_headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) for a request: the file, 304, or 400, 404 or 405 as text."""
        if method not in ("GET", "HEAD"):
            return 405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")], b"Method Not Allowed\n"
        if "\0" in path:  # a NUL byte cannot name a file: refused before any lookup
            return 400, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache")], b"Bad Request\n"
        key = site_rules.INDEX if path == "/" else path.removeprefix("/")
        body = self.content(key)
        if body is None:
            return 404, [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache")], b"Not Found\n"
        content_type = site_rules.content_type(key)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = [
            ("Content-Type", content_type),
            ("Cache-Control", site_rules.cache_control(key)),
            ("ETag", etag),
            ("Vary", "Accept-Encoding"),
        ]
        if etag in request_headers.get("if-none-match", ""):
            return 304, headers, b""
        if (
            "gzip" in request_headers.get("accept-encoding", "")
            and content_type.startswith(COMPRESSIBLE)
            and len(body) >= MIN_COMPRESS_BYTES
        ):
            body = gzip.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        return 200, headers, body

    def content(self, key: str) -> bytes | None:
        """The bytes served for an object key, None when there is no such file."""
        if key == site_rules.CONFIG:
            return site_rules.config_json(self.api_url).encode()
        if not key or any(part.startswith(".") or part == "" for part in key.split("/")):
            return None
        path = self._files.get(key) or (self.root / key).resolve()
        if not (key in self._files or path.is_relative_to(self.root)) or not path.is_file():
            return None
        try:
            site_rules.content_type(key)
        except ValueError:
            return None
        if key == site_rules.INDEX:
            return site_rules.render_index(path.read_text(encoding="utf-8"), self.api_url).encode()
        return path.read_bytes()


def default_web_port(api_port: int, requested: int | None) -> int:
    """--web-port, or the API's port + 1; with a free API port (0), a free one too."""
    if requested is not None:
        return requested
    return 0 if api_port == 0 else api_port + 1


def serve_web_app(
    gateway: GatewayServer, extra_origins: Sequence[str], *, host: str, api_port: int, web_port: int | None, log: Callable[[str], None]
) -> WebServer:
    """Start the web app beside the gateway (`api_port` as requested, 0 for a free one), and give the
    gateway the stack's CORS rules for it."""
    chosen = default_web_port(api_port, web_port)
    try:
        server = WebServer(gateway.url, host, chosen, log=log)
    except OSError as error:
        raise RuntimeError(f"the web app cannot listen on {host}:{chosen} ({error.strerror}); choose a port with --web-port") from None
    gateway.gateway.cors = CorsRules.for_site(server.url, extra_origins, [route.method for route in ROUTES])
    server.start()
    return server
