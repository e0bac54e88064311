"""The local runtime's web app origin and the gateway's CORS, over HTTP, against the stack's configuration."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
import urllib.request
from urllib.error import HTTPError

import pytest
from e2e_support import ROOT, free_port

from components import webapp
from components.config import StackConfig
from components.web import cors_configuration
from local.cors import CorsRules
from todo_app import catalog

SECURITY_HEADERS = ("content-security-policy", "strict-transport-security", "x-content-type-options", "x-frame-options", "referrer-policy")


def call(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture(scope="module")
def web(runtime) -> str:
    return runtime.outputs["webUrl"]


# --------------------------------------------------------------------------- the web app's origin


def test_the_web_app_has_its_own_origin_in_the_outputs(runtime, web):
    assert web == f"http://127.0.0.1:{runtime.web_port}" != runtime.url


def test_index_html_with_the_security_headers_and_a_csp_naming_the_local_api(runtime, web):
    for path in ("/", "/index.html"):
        status, headers, body = call(web + path)
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-cache"
        for name in SECURITY_HEADERS:
            assert name in headers, name
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert f"connect-src 'self' {runtime.url};" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        page = body.decode()
        meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
        assert meta and f"connect-src 'self' {runtime.url};" in meta.group(1)


def test_config_json_points_at_the_local_api(runtime, web):
    status, headers, body = call(web + "/config.json")
    assert status == 200 and headers["content-type"] == "application/json" and headers["cache-control"] == "no-cache"
    assert json.loads(body) == {"apiUrl": runtime.url}


def test_every_file_is_served_with_the_stacks_content_type_and_cache_control(web):
    for site_file in webapp.site_files():
        status, headers, body = call(f"{web}/{site_file.key}")
        assert status == 200, site_file.key
        assert headers["content-type"] == site_file.content_type and headers["cache-control"] == site_file.cache_control, site_file.key
        if site_file.key != "index.html":
            assert body == site_file.path.read_bytes(), site_file.key


def test_text_is_compressed_and_revalidated_like_cloudfront(web):
    status, headers, body = call(web + "/js/todos.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == (webapp.WEB_DIR / "js" / "todos.js").read_bytes()
    status, _, body = call(web + "/js/todos.js", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")


@pytest.mark.parametrize("path", ["/nothing.js", "/js/../../local/web.py", "/%2e%2e/README.md", "/.gitignore", "/js/", "/web/index.html"])
def test_only_the_apps_files_are_served(web, path):
    request = urllib.request.Request(web + path)
    request.selector = path  # as sent, not normalised by the client
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except HTTPError as error:
        status = error.code
    assert status == 404, path


def test_the_web_app_takes_only_get_and_head(web):
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, _ = call(web + "/", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD", method


# --------------------------------------------------------------------------- the gateway's CORS


def stack_cors() -> dict:
    """The HTTP API's CORS configuration as the stack builds it (extra origins of the staging config)."""
    configuration = cors_configuration(None, StackConfig.from_files("staging").cors_origins, webapp.cors_methods(catalog.ROUTES))
    assert configuration is not None
    return configuration


def test_a_preflight_from_the_web_app_is_answered_as_the_http_api_is_configured(runtime, web):
    configured = stack_cors()
    status, headers, body = call(
        runtime.url + "/users/someone/todos",
        method="OPTIONS",
        headers={"Origin": web, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"},
    )
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == web
    assert headers["access-control-allow-methods"].split(",") == configured["allow_methods"]
    assert headers["access-control-allow-headers"].split(",") == configured["allow_headers"]
    assert headers["access-control-max-age"] == str(configured["max_age"])


def test_the_configured_extra_origins_are_allowed_too(runtime):
    (extra,) = stack_cors()["allow_origins"]  # staging: http://localhost:3000
    status, headers, _ = call(runtime.url + "/orders", method="OPTIONS", headers={"Origin": extra, "Access-Control-Request-Method": "POST"})
    assert status == 204 and headers["access-control-allow-origin"] == extra


def test_a_disallowed_origin_gets_no_allow_origin(runtime):
    status, headers, _ = call(
        runtime.url + "/orders", method="OPTIONS", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert status == 204
    assert not [h for h in headers if h.startswith("access-control-")]
    status, headers, _ = call(runtime.url + "/health", headers={"Origin": "https://evil.example.com"})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_an_options_request_that_is_not_a_preflight_is_routed_like_any_other(runtime, web):
    status, headers, body = call(runtime.url + "/health", method="OPTIONS", headers={"Origin": web})
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    assert headers["access-control-allow-origin"] == web


@pytest.mark.parametrize(("path", "expected"), [("/health", 200), ("/users", 401), ("/nowhere", 404)])
def test_every_answer_to_an_allowed_origin_carries_allow_origin(runtime, web, path, expected):
    status, headers, _ = call(runtime.url + path, headers={"Origin": web})
    assert status == expected and headers["access-control-allow-origin"] == web
    status, headers, _ = call(runtime.url + path)  # no Origin: not a cross-origin request
    assert status == expected and "access-control-allow-origin" not in headers


def test_cors_rules_drop_a_functions_own_cors_headers():
    rules = CorsRules.for_site("http://127.0.0.1:3001", ["http://localhost:3000"])
    assert rules.origins == ("http://127.0.0.1:3001", "http://localhost:3000")
    answered = rules.apply(
        [("Origin", "http://localhost:3000")], [("access-control-allow-origin", "*"), ("content-type", "application/json")]
    )
    assert answered == [("content-type", "application/json"), ("access-control-allow-origin", "http://localhost:3000")]
    assert rules.apply([("Origin", "http://other:1")], [("Access-Control-Allow-Origin", "*")]) == []
    assert rules.preflight("GET", [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET")]) is None


# --------------------------------------------------------------------------- --web-port


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--web-port", "70000"], "--web-port must be 0..65535"), (["--port", "4100", "--web-port", "4100"], "differ from --port")],
)
def test_a_bad_web_port_is_refused_before_anything_starts(args, message):
    done = subprocess.run([sys.executable, "-m", "local", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


def test_a_taken_web_port_stops_the_start_up_and_says_which_option_to_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web_port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "local",
                "--port",
                str(free_port()),
                "--web-port",
                str(web_port),
                "--outputs",
                str(tmp_path / "outputs.json"),
                "--function-logs",
                str(tmp_path / "functions.log"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the web app cannot listen on 127.0.0.1:{web_port}" in done.stdout and "choose a port with --web-port" in done.stdout
    assert "[local] stopped" in done.stdout and not (tmp_path / "outputs.json").exists()


def test_the_default_web_port_is_the_api_port_plus_one():
    from local.web import default_web_port

    assert default_web_port(3000, None) == 3001
    assert default_web_port(0, None) == 0  # a free API port: a free web port too
    assert default_web_port(3000, 8080) == 8080
