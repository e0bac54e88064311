import time

import pytest

from local import events
from todo_app import catalog
from todo_app.tokens import token_hash, token_user

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


def _session(stack, token, user_id):
    stack.client("dynamodb").put_item(
        TableName="fntest-sessions",
        Item={"tokenHash": {"S": token_hash(token)}, "userId": {"S": user_id}, "expiresAt": {"N": str(int(time.time()) + 60)}},
    )


def _mark_deleted(stack, user_id):
    stack.client("dynamodb").put_item(TableName="fntest-sessions", Item={"tokenHash": {"S": catalog.DELETED_USER_PREFIX + user_id}})


def test_a_token_names_its_user_and_is_trusted_only_for_the_user_its_session_names(api, stack):
    ada, token = api.user_with_token("ada@example.com")
    bob, _ = api.user_with_token("bob@example.com")
    assert token_user(token) == ada["id"]
    # a session that names Ada, found by a token that names Bob: Ada's deletion marker would go unread
    forged = f"{bob['id']}.{'x' * 43}"
    _session(stack, forged, ada["id"])
    assert authorize({"Authorization": f"Bearer {forged}"}) == {"isAuthorized": False}
    _session(stack, forged, bob["id"])
    assert authorize({"Authorization": f"Bearer {forged}"}) == {"isAuthorized": True, "context": {"userId": bob["id"]}}
    _mark_deleted(stack, bob["id"])
    assert authorize({"Authorization": f"Bearer {forged}"}) == {"isAuthorized": False}


def test_a_token_issued_before_tokens_named_their_user_still_works_until_its_user_is_deleted(api, stack):
    ada, _ = api.user_with_token("ada@example.com")
    older = "A1b2" * 10 + "xyz"  # 43 URL-safe characters, no user id
    assert token_user(older) is None
    _session(stack, older, ada["id"])
    assert authorize({"Authorization": f"Bearer {older}"}) == {"isAuthorized": True, "context": {"userId": ada["id"]}}
    _mark_deleted(stack, ada["id"])
    assert authorize({"Authorization": f"Bearer {older}"}) == {"isAuthorized": False}


class _Throttled:
    """A DynamoDB client whose BatchGetItem leaves every key unprocessed `times` times, then answers."""

    def __init__(self, real, times):
        self.real, self.times, self.calls = real, times, 0

    def batch_get_item(self, RequestItems):
        self.calls += 1
        if self.calls <= self.times:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        return self.real.batch_get_item(RequestItems=RequestItems)


@pytest.mark.parametrize("times, authorized", [(2, True), (3, None)])
def test_unprocessed_keys_are_retried_and_never_read_as_absent(api, monkeypatch, times, authorized):
    from todo_app import aws, session_items

    ada, token = api.user_with_token("ada@example.com")
    client = _Throttled(aws.client("dynamodb"), times)
    monkeypatch.setattr(aws, "client", lambda service: client)
    if authorized is None:  # a session unread is neither a yes nor a no: API Gateway answers 500
        with pytest.raises(RuntimeError, match="unprocessed"):
            authorize({"Authorization": f"Bearer {token}"})
    else:
        assert authorize({"Authorization": f"Bearer {token}"}) == {"isAuthorized": True, "context": {"userId": ada["id"]}}
    assert client.calls == min(times + 1, session_items.BATCH_ATTEMPTS)
