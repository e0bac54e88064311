"""The web app's serving rules as plain data, read by the stack and by the local runtime alike.

Nothing here imports Pulumi, so the local runtime and the tests load it cheaply. It answers:
- which files of `web/` are served, with which Content-Type and Cache-Control;
- `config.json` and `index.html` as served (index.html gains a <meta> CSP naming the exact API origin);
- the security headers every response of the site carries (CSP, HSTS, nosniff, frame and referrer policy).
The HTTP API's CORS, which names the site's origin, is components/cors.py.

Content-Security-Policy, two layers (the browser enforces both, so the stricter one wins):
- the response header, from CloudFront's response-headers policy, allows `connect-src` to the API's
  origin *pattern* for the region (`https://*.execute-api.<region>.amazonaws.com`) and forbids framing;
- the <meta> tag in index.html allows `connect-src` to the exact API origin only.
The header cannot name the exact API: the API's CORS allow-list needs the distribution's domain, so the
API is created after the distribution, and a distribution naming the API would close a cycle.
index.html is an S3 object, not part of the distribution, so it can carry the exact origin.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .cors import origin_of

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / "web"
INDEX = "index.html"
CONFIG = "config.json"  # generated from the API's URL, never a file in web/
API_DOCUMENT = "openapi.json"  # the API's OpenAPI document (the repository's, generated from the declaration), shipped beside the app

# A file type not listed here is refused: under `nosniff` a wrong type breaks the page.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

# index.html and config.json change with every deploy (the API URL, the asset list): no cache, the
# browser's or CloudFront's, may answer for them without asking the origin first.
DOCUMENT_CACHE_CONTROL = "no-cache"
# The rest have fixed names (no build step, so no content hashes in their names): a short max-age
# bounds how long a deploy takes to reach every browser.
ASSET_MAX_AGE_SECONDS = 60
ASSET_CACHE_CONTROL = f"public, max-age={ASSET_MAX_AGE_SECONDS}"

# --------------------------------------------------------------------------- security headers

HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 3600
HSTS = f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
FRAME_OPTIONS = "DENY"
REFERRER_POLICY = "no-referrer"  # the API needs no Referer; the Origin header carries what CORS needs
# Headers CloudFront's policy has no typed field for.
EXTRA_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def content_security_policy(connect_sources: Sequence[str], *, meta: bool = False) -> str:
    """The site's CSP: everything from the site itself, fetches also to `connect_sources`.

    `meta=True` leaves out frame-ancestors, which a <meta> policy may not carry (browsers ignore it
    there and log an error). `require-trusted-types-for` makes any HTML-string sink (innerHTML and
    friends) throw, so "user data only as text" is enforced by the browser, not just by review.
    """
    directives = [
        ("default-src", "'none'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("img-src", "'self'"),
        ("connect-src", " ".join(["'self'", *connect_sources])),
        ("manifest-src", "'self'"),
        ("base-uri", "'none'"),
        ("form-action", "'none'"),
        ("object-src", "'none'"),
        ("require-trusted-types-for", "'script'"),
    ]
    if not meta:
        directives.append(("frame-ancestors", "'none'"))
    return "; ".join(f"{name} {value}" for name, value in directives)


def api_origin_pattern(region: str) -> str:
    """Every HTTP API endpoint of a region: what the CSP header can name before the API exists."""
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ValueError(f"not an AWS region: {region!r}")
    return f"https://*.execute-api.{region}.amazonaws.com"


def security_headers(connect_sources: Sequence[str]) -> dict[str, str]:
    """The headers every response of the site carries, as CloudFront's response-headers policy adds them."""
    return {
        "Content-Security-Policy": content_security_policy(connect_sources),
        "Strict-Transport-Security": HSTS,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": FRAME_OPTIONS,
        "Referrer-Policy": REFERRER_POLICY,
        **EXTRA_HEADERS,
    }


# --------------------------------------------------------------------------- the files


@dataclass(frozen=True)
class SiteFile:
    key: str  # the object key and URL path, without the leading slash
    path: Path
    content_type: str
    cache_control: str


def cache_control(key: str) -> str:
    return DOCUMENT_CACHE_CONTROL if key in (INDEX, CONFIG) else ASSET_CACHE_CONTROL


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix not in CONTENT_TYPES:
        raise ValueError(f"web/{key}: no content type for {suffix or 'a file without an extension'}; known: {', '.join(CONTENT_TYPES)}")
    return CONTENT_TYPES[suffix]


def site_files(root: Path = WEB_DIR, api_document: Path | None = ROOT / API_DOCUMENT) -> list[SiteFile]:
    """Every file of the app, sorted by key, and the API's OpenAPI document; hidden files are not part of it."""
    if not (root / INDEX).is_file():
        raise ValueError(f"{root} has no {INDEX}")
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in key.split("/")):
            continue
        if key == CONFIG:
            raise ValueError(f"{root / CONFIG} must not exist: {CONFIG} is generated from the API's URL")
        files.append(SiteFile(key, path, content_type(key), cache_control(key)))
    if api_document is not None:
        files.append(SiteFile(API_DOCUMENT, api_document, content_type(API_DOCUMENT), cache_control(API_DOCUMENT)))
    return sorted(files, key=lambda f: f.key)


def config_json(api_url: str) -> str:
    """What the app reads at start: where the API is."""
    origin_of(api_url)
    return json.dumps({"apiUrl": api_url.rstrip("/")}, indent=2) + "\n"


def render_index(page: str, api_url: str) -> str:
    """index.html with the <meta> CSP that allows fetches to exactly this API, first thing in <head>."""
    heads = re.findall(r"<head>", page, flags=re.IGNORECASE)
    if len(heads) != 1:
        raise ValueError(f"{INDEX} must have exactly one <head> tag, found {len(heads)}")
    policy = html.escape(content_security_policy([origin_of(api_url)], meta=True), quote=False).replace('"', "&quot;")
    meta = f'\n<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return re.sub(r"<head>", lambda m: m.group(0) + meta, page, count=1, flags=re.IGNORECASE)
