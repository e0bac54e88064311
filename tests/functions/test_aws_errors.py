"""AWS failures: an unavailable service answers 503 naming that service, and only the errors meant are caught."""

import pytest

from local import events
from todo_app import aws, catalog

from .conftest import context_for, handler_of, reply_of

DEAD_ENDPOINT = "http://127.0.0.1:1"  # nothing listens there: the connection is refused at once


@pytest.fixture
def sqs_down(stack, monkeypatch):
    """SQS unreachable (botocore's per-service endpoint setting), DynamoDB still up."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", DEAD_ENDPOINT)
    aws.reset()
    yield
    aws.reset()


def test_an_unreachable_queue_is_503_naming_sqs(api, stack, sqs_down):
    _, token = api.user_with_token("ada@example.com")
    reply = api.post("/orders", token=token, json_body={"amount": 1, "currency": "EUR"})
    assert reply.status == 503, reply.body
    assert reply.error["code"] == "dependency_unavailable" and reply.error["details"] == [{"dependency": "sqs"}]


def test_an_unreachable_table_is_503_naming_dynamodb(stack, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", DEAD_ENDPOINT)
    aws.reset()
    # called directly with the authorizer's context: through the gateway the authorizer, which reads
    # DynamoDB too, would fail first (API Gateway's own 500)
    route = next(r for r in catalog.ROUTES if r.route_key == "GET /todos/{todoId}")
    todo_id = "0" * 26
    event = events.http_event(
        "GET", f"/todos/{todo_id}", route=route, path_parameters={"todoId": todo_id}, authorizer_context={"userId": "u-1"}
    )
    reply = reply_of(handler_of("todos")(event, context_for("todos")))
    assert reply.status == 503, reply.body
    assert reply.error["details"] == [{"dependency": "dynamodb"}]


def test_service_of_names_the_client_that_raised(stack):
    with pytest.raises(Exception) as secret:
        aws.client("secretsmanager").get_secret_value(SecretId="no-such-secret")
    assert aws.service_of(secret.value) == "secretsmanager"
    with pytest.raises(Exception) as permission:
        aws.client("sqs").add_permission(
            QueueUrl=stack.queue_url + "-missing", Label="x", AWSAccountIds=["123456789012"], Actions=["SendMessage"]
        )
    assert aws.service_of(permission.value) == "sqs"


def test_health_reports_only_dependency_failures_as_unavailable(api, stack, monkeypatch):
    """A fault of the function itself (here its table setting is missing) is a 500, not a dependency 'unavailable'."""
    assert api.get("/health").status == 200
    monkeypatch.delenv(catalog.TABLES["sessions"].env)
    reply = api.get("/health")
    assert reply.status == 500, reply.body
    assert reply.error["code"] == "internal_error"
