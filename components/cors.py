"""The HTTP API's CORS, worked out once: the stack configures API Gateway with it and the local gateway
answers with it. Plain data and functions: no Pulumi, no application.

- `allowed_origins` and `methods_for`: the allow-list (a web app's origin first, then the configured
  extra origins) and the methods (a route table's, plus OPTIONS); `api_configuration` is the HTTP API's
  `cors_configuration` from them, with `ALLOW_HEADERS` (what the web app and the client send) and
  `MAX_AGE_SECONDS`. The stack builds it through `components.web.cors_configuration` (its web origin is
  an Output there) for `ApiTier`.
- `CorsRules`: the same configuration as API Gateway applies it, for the local gateway (local/gateway.py):
  - a preflight (OPTIONS carrying Origin and Access-Control-Request-Method) is answered before any route
    matching or authorizer: 204, and for an allowed origin Access-Control-Allow-Origin (that origin),
    -Allow-Methods, -Allow-Headers and -Max-Age; a disallowed origin gets none of them, so the browser
    refuses the real request;
  - every other response to an allowed origin, API Gateway's own 401/403/404 included, gets
    Access-Control-Allow-Origin, and CORS headers a function returns are dropped (the configuration wins).
  A request without an Origin header (not from a browser page of another origin) gets no CORS headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ALLOW_HEADERS = ("authorization", "content-type", "idempotency-key")  # what the web app and the client send
MAX_AGE_SECONDS = 600

Headers = list[tuple[str, str]]


class OriginError(ValueError):
    """An extra origin is not scheme://host[:port]."""


def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(web_origin: str | None, extra_origins: Sequence[str]) -> list[str]:
    """The site's own origin first, then the configured extra ones, each once; OriginError for a bad extra one."""
    for origin in extra_origins:
        if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
            raise OriginError(f"{origin!r} is not an origin (scheme://host[:port], no path, no trailing slash)")
    origins = [origin_of(web_origin)] if web_origin else []
    return list(dict.fromkeys([*origins, *extra_origins]))


def methods_for(route_methods: Iterable[str]) -> list[str]:
    """The methods a route table's browser calls need: its own and OPTIONS (the preflight), sorted."""
    return sorted({method.upper() for method in route_methods} | {"OPTIONS"})


def api_configuration(origins: Any, route_methods: Iterable[str]) -> dict[str, Any]:
    """The HTTP API's `cors_configuration` (`origins` as `allowed_origins` gives them, or an Output of them)."""
    return {
        "allow_origins": origins,
        "allow_methods": methods_for(route_methods),
        "allow_headers": list(ALLOW_HEADERS),
        "max_age": MAX_AGE_SECONDS,
    }


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


@dataclass(frozen=True)
class CorsRules:
    """A CORS configuration as API Gateway answers with it."""

    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...] = ALLOW_HEADERS
    max_age: int = MAX_AGE_SECONDS

    @classmethod
    def for_site(cls, web_origin: str | None, extra_origins: Sequence[str], route_methods: Iterable[str]) -> CorsRules:
        """The rules of the configuration `api_configuration` gives the stack's HTTP API."""
        configuration = api_configuration(allowed_origins(web_origin, extra_origins), route_methods)
        return cls(
            origins=tuple(configuration["allow_origins"]),
            methods=tuple(configuration["allow_methods"]),
            headers=tuple(configuration["allow_headers"]),
            max_age=configuration["max_age"],
        )

    def preflight(self, method: str, request_headers: Sequence[tuple[str, str]]) -> tuple[int, Headers, bytes] | None:
        """The answer to a preflight request; None when the request is not one (it is routed as usual)."""
        origin = _header(request_headers, "origin")
        if method.upper() != "OPTIONS" or origin is None or _header(request_headers, "access-control-request-method") is None:
            return None
        if origin not in self.origins:
            return 204, [], b""
        return (
            204,
            [
                ("access-control-allow-origin", origin),
                ("access-control-allow-methods", ",".join(self.methods)),
                ("access-control-allow-headers", ",".join(self.headers)),
                ("access-control-max-age", str(self.max_age)),
            ],
            b"",
        )

    def apply(self, request_headers: Sequence[tuple[str, str]], response_headers: Iterable[tuple[str, str]]) -> Headers:
        """A response's headers with CORS as API Gateway sets it: the function's own CORS headers dropped,
        Access-Control-Allow-Origin added for an allowed origin."""
        kept = [(name, value) for name, value in response_headers if not name.lower().startswith("access-control-")]
        origin = _header(request_headers, "origin")
        if origin is not None and origin in self.origins:
            kept.append(("access-control-allow-origin", origin))
        return kept
