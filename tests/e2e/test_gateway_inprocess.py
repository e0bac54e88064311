"""The gateway's translation rules, in-process with stand-in functions: crashes, odd responses, the authorizer."""

from __future__ import annotations

import base64

import pytest

from local.containers import FunctionError
from local.gateway import Gateway, GatewayResponse, to_http


class FakeFunctions:
    """Stands in for the warm containers: canned answers (or exceptions) by function name."""

    def __init__(self, **behaviour):
        self.behaviour, self.calls = behaviour, []

    def invoke(self, name, event):
        self.calls.append((name, event))
        action = self.behaviour[name]
        if isinstance(action, Exception):
            raise FunctionError(name, type(action).__name__, str(action))
        return action(event) if callable(action) else action


ALLOW = {"isAuthorized": True, "context": {"userId": "u-1"}}


def call(functions, method="GET", target="/users/u-1", headers=(("Authorization", "Bearer t"),), body=b""):
    return Gateway(functions, log=lambda line: None).handle(method, target, list(headers), body, "127.0.0.1")


def test_the_authorizer_context_reaches_the_route_as_requestcontext_authorizer_lambda():
    functions = FakeFunctions(authorizer=ALLOW, users={"statusCode": 200, "body": "{}"})
    call(functions, target="/users/u-1?x=1")
    (auth_name, auth_event), (name, event) = functions.calls
    assert auth_name == "authorizer" and auth_event["type"] == "REQUEST" and auth_event["identitySource"] == ["Bearer t"]
    assert name == "users"
    assert event["requestContext"]["authorizer"] == {"lambda": {"userId": "u-1"}}
    assert event["pathParameters"] == {"userId": "u-1"} and event["queryStringParameters"] == {"x": "1"}
    assert event["routeKey"] == "GET /users/{userId}"


def test_the_authorizer_and_the_route_see_the_requests_one_id():
    functions = FakeFunctions(authorizer=ALLOW, users={"statusCode": 200})
    Gateway(functions, log=lambda line: None).handle("GET", "/users/u-1", [("Authorization", "Bearer t")], b"", "127.0.0.1", "REQ-1")
    assert [event["requestContext"]["requestId"] for _, event in functions.calls] == ["REQ-1", "REQ-1"]


def test_public_routes_skip_the_authorizer():
    functions = FakeFunctions(health={"statusCode": 200})
    call(functions, target="/health", headers=())
    assert [name for name, _ in functions.calls] == ["health"]


@pytest.mark.parametrize("authorizer", [RuntimeError("boom"), {"isAuthorized": "yes"}, None])
def test_an_authorizer_that_fails_or_answers_nonsense_is_500(authorizer):
    functions = FakeFunctions(authorizer=authorizer, users={"statusCode": 200})
    with pytest.raises(GatewayResponse) as caught:
        call(functions)
    assert (caught.value.status, caught.value.message) == (500, "Internal Server Error")
    assert [name for name, _ in functions.calls] == ["authorizer"]


@pytest.mark.parametrize(
    "response",
    [
        RuntimeError("crash"),
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_a_crashing_function_or_a_malformed_response_is_500(response):
    with pytest.raises(GatewayResponse) as caught:
        call(FakeFunctions(authorizer=ALLOW, users=response))
    assert (caught.value.status, caught.value.message) == (500, "Internal Server Error")


def test_payload_2_0_response_mapping():
    assert to_http({"hello": "world"}) == (200, [("content-type", "application/json")], b'{"hello": "world"}')
    status, headers, body = to_http({"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["a=1", "b=2"], "body": "ok"})
    assert (status, body) == (201, b"ok")
    assert headers == [("x-a", "1"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    assert to_http({"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True})[2] == b"\x00\x01"
    assert to_http({"statusCode": 204}) == (204, [], b"")


def test_each_function_gets_its_own_copy_of_the_todo_app_package():
    import sys

    from local.containers import import_isolated

    before = {name: module for name, module in sys.modules.items() if name.startswith("todo_app")}
    users = import_isolated("todo_app.handlers.users")
    todos = import_isolated("todo_app.handlers.todos")
    assert users.db is not todos.db  # one PostgreSQL connection per function, as one per container
    assert {name: module for name, module in sys.modules.items() if name.startswith("todo_app")} == before
