"""What API Gateway answers itself, before or instead of a function, as the local runtime reproduces it."""

from __future__ import annotations

import re
import urllib.request

import pytest

from client import OPERATIONS, ApiError, Client
from local.account import REGION
from todo_app.catalog import OUTPUT_KEYS, ROUTES


def test_the_client_has_one_method_per_catalog_route():
    assert sorted(OPERATIONS.values()) == sorted((r.method, r.path) for r in ROUTES)
    for name in OPERATIONS:
        assert callable(getattr(Client, name))


def test_outputs_have_exactly_the_stacks_keys(runtime):
    assert set(runtime.outputs) == set(OUTPUT_KEYS)
    assert runtime.outputs["stack"] == "local" and runtime.outputs["region"] == REGION
    assert runtime.outputs["apiUrl"] == f"http://127.0.0.1:{runtime.port}"
    assert runtime.outputs["usersDbName"] == "todo" and runtime.outputs["usersDbUser"] == "todo_app"
    assert runtime.outputs["usersDbSecretArn"].startswith("arn:aws:secretsmanager:")
    assert runtime.outputs["alarmTopicArn"].startswith("arn:aws:sns:")


def raw(runtime, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(runtime.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nowhere"),
        ("GET", "/users/a/b/c"),
        ("GET", "/health/"),  # no trailing-slash matching, as API Gateway
        ("PATCH", "/health"),  # a known path, an unknown method
        ("POST", "/todos/some-id"),
        ("PUT", "/orders"),
    ],
)
def test_an_unmatched_route_or_method_is_api_gateways_404(api, method, path):
    with pytest.raises(ApiError) as caught:
        api.request(method, path, auth=False)
    assert (caught.value.status, caught.value.body) == (404, {"message": "Not Found"})


def test_a_protected_route_without_a_token_is_401_without_calling_a_function(api, runtime):
    for method, path in [("GET", "/users"), ("DELETE", "/sessions/current"), ("POST", "/orders"), ("GET", "/dashboard/x")]:
        with pytest.raises(ApiError) as caught:
            api.request(method, path)
        assert (caught.value.status, caught.value.body, caught.value.code) == (401, {"message": "Unauthorized"}, "unauthorized")
    status, _, body = raw(runtime, "GET", "/users", headers={"Authorization": ""})
    assert (status, body) == (401, b'{"message": "Unauthorized"}')


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "garbage"])
def test_a_token_the_authorizer_refuses_is_403(runtime, header):
    status, _, body = raw(runtime, "GET", "/users", headers={"Authorization": header})
    assert (status, body) == (403, b'{"message": "Forbidden"}')


def test_a_client_with_a_bad_token_gets_one_error_type(runtime):
    client = Client(runtime.url, token="forged")
    with pytest.raises(ApiError) as caught:
        client.list_users()
    assert (caught.value.status, caught.value.code, caught.value.message) == (403, "forbidden", "Forbidden")


def test_a_body_over_the_http_api_limit_is_413_before_any_function(runtime):
    status, _, body = raw(runtime, "POST", "/users", body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert (status, body) == (413, b'{"message": "Request Entity Too Large"}')


def test_a_body_over_64_kib_reaches_the_function_which_answers_413(api):
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/users", raw=b'{"name": "' + b"x" * 70_000 + b'"}', auth=False)
    assert (caught.value.status, caught.value.code) == (413, "payload_too_large")
    assert "error" in caught.value.body  # the function's own error body, not API Gateway's


def test_responses_carry_the_functions_status_headers_and_body(runtime):
    status, headers, body = raw(runtime, "GET", "/health")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert "apigw-requestid" in headers and headers["content-length"] == str(len(body))


def test_every_request_prints_one_line_with_method_path_status_and_milliseconds(runtime, api):
    with pytest.raises(ApiError):
        api.request("GET", "/a-path-for-the-log", auth=False)
    assert re.search(r"^GET /a-path-for-the-log 404 \d+ms$", runtime.log(), re.MULTILINE)


def test_the_functions_own_output_goes_to_the_function_log_not_the_console(runtime, user):
    user.create_todo(None, "logged")
    assert '"TodosCreated"' in runtime.function_log_path.read_text()  # an EMF metric line, as CloudWatch would get it
    assert not [line for line in runtime.log().splitlines() if line.startswith("{")]
