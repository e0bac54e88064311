import time

from local import events
from todo_app import catalog
from todo_app.tokens import token_hash

from .conftest import context_for, handler_of

ROUTE = next(r for r in catalog.ROUTES if r.route_key == "GET /users")


def authorize(headers):
    identity = [headers["authorization"]] if "authorization" in headers else []
    event = events.authorizer_event("GET", "/users", route=ROUTE, identity=identity, headers=headers)
    return handler_of("authorizer")(event, context_for("authorizer"))


def test_valid_token_is_authorized_with_the_user_id(api):
    user, token = api.user_with_token("ada@example.com")
    assert authorize({"Authorization": f"Bearer {token}"}) == {"isAuthorized": True, "context": {"userId": user["id"]}}
    assert authorize({"authorization": f"bearer {token}"})["isAuthorized"] is True


def test_missing_malformed_and_unknown_tokens_are_refused(api):
    _, token = api.user_with_token("ada@example.com")
    for headers in (
        {},
        {"Authorization": token},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer " + "A" * 43},
        {"Authorization": f"Bearer {token}x"},
    ):
        assert authorize(headers) == {"isAuthorized": False}, headers


def test_expired_token_is_refused_even_before_ttl_deletion(api, stack):
    user, token = api.user_with_token("ada@example.com")
    stack.client("dynamodb").update_item(
        TableName="fntest-sessions",
        Key={"tokenHash": {"S": token_hash(token)}},
        UpdateExpression="SET expiresAt = :e",
        ExpressionAttributeValues={":e": {"N": str(int(time.time()) - 5)}},
    )
    assert authorize({"Authorization": f"Bearer {token}"}) == {"isAuthorized": False}
    assert api.get("/users", token=token).status == 403


def test_gateway_statuses_without_and_with_bad_token(api):
    assert api.get("/users").status == 401
    assert api.get("/users", token="nonsense-token-that-is-long").status == 403


def test_handler_without_authorizer_context_answers_401(base_env):
    route = ROUTE
    event = events.http_event("GET", "/users", route=route)
    reply = handler_of("users")(event, context_for("users"))
    assert reply["statusCode"] == 401
