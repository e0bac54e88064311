"""CORS the way API Gateway's HTTP API answers it, from the allow-list the stack gives the API.

The stack configures the HTTP API with `components.web.cors_configuration`: the web app's origin plus
the configured `corsOrigins`, the route table's methods and OPTIONS, the headers in
`webapp.CORS_HEADERS`, a max age. With that configuration API Gateway:
- answers a preflight (OPTIONS carrying Origin and Access-Control-Request-Method) itself, before any
  route matching or authorizer: 204, and for an allowed origin Access-Control-Allow-Origin (that
  origin), -Allow-Methods, -Allow-Headers and -Max-Age; a disallowed origin gets none of them, so the
  browser refuses the real request;
- adds Access-Control-Allow-Origin to every other response to an allowed origin, its own 401/403/404
  included, and drops CORS headers a function returns (its configuration wins).
A request without an Origin header (not from a browser page of another origin) gets no CORS headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Headers = list[tuple[str, str]]


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


@dataclass(frozen=True)
class CorsRules:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    max_age: int

    @classmethod
    def for_site(cls, web_origin: str, extra_origins: Sequence[str]) -> CorsRules:
        """The allow-list the stack configures, with the local web app's origin as the site's."""
        from components import webapp  # here, not at import: the gateway imports this module before the runtime sets sys.path
        from todo_app.catalog import ROUTES

        return cls(
            origins=tuple(webapp.allowed_origins(web_origin, extra_origins)),
            methods=tuple(webapp.cors_methods(ROUTES)),
            headers=webapp.CORS_HEADERS,
            max_age=webapp.CORS_MAX_AGE_SECONDS,
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
