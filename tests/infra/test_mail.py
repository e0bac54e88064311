"""Password-reset mail in both stacks: the outbox table's stream, the mailer outside the VPC fed by it, and SES
permission on exactly the configured sender identity."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from todo_app import catalog

from .helpers import alias, as_list, function, policy_document, statements, table
from .mocks import evaluate


def test_the_outbox_table_has_a_new_image_stream_and_the_others_none(stack):
    assert table(stack, "resetOutbox").inputs["streamEnabled"] is True
    assert table(stack, "resetOutbox").inputs["streamViewType"] == "NEW_IMAGE"
    for key in catalog.TABLES:
        if key != "resetOutbox":
            assert not table(stack, key).inputs.get("streamEnabled"), key


def test_the_mailer_runs_outside_the_vpc_and_reads_only_the_outbox_stream(stack):
    assert "vpcConfig" not in function(stack, "mailer").inputs
    stream_arn = table(stack, "resetOutbox").outputs["streamArn"]
    reads = [
        s for s in statements(policy_document(stack, "mailer")) if any(a.startswith("dynamodb:GetRecords") for a in as_list(s["Action"]))
    ]
    assert [as_list(s["Resource"]) for s in reads] == [[stream_arn]]
    for name in catalog.FUNCTIONS:  # no other role reads a stream
        if name != "mailer":
            actions = {a for s in statements(policy_document(stack, name)) for a in as_list(s["Action"])}
            assert not actions & {"dynamodb:GetRecords", "dynamodb:GetShardIterator"}, name


def test_the_mailer_is_fed_by_the_outbox_stream(stack):
    mapping = stack.named("aws:lambda/eventSourceMapping:EventSourceMapping", "mailer-stream")
    assert mapping.inputs["eventSourceArn"] == table(stack, "resetOutbox").outputs["streamArn"]
    assert mapping.inputs["functionName"] == alias(stack, "mailer").outputs["arn"]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["startingPosition"] == "TRIM_HORIZON"
    assert mapping.inputs["maximumRetryAttempts"] > 0 and mapping.inputs["maximumRecordAgeInSeconds"] >= 1800


def test_only_the_mailer_may_send_mail_and_only_from_the_sender_identity(stack):
    identity = f"arn:aws:ses:us-east-1:123456789012:identity/{stack.program.config.mail_from}"
    for name in catalog.FUNCTIONS:
        ses = [s for s in statements(policy_document(stack, name)) if any(a.startswith("ses:") for a in as_list(s["Action"]))]
        if name == "mailer":
            assert [(sorted(as_list(s["Action"])), as_list(s["Resource"])) for s in ses] == [
                (["ses:SendEmail", "ses:SendRawEmail"], [identity])
            ]
        else:
            assert ses == [], name


def test_the_mailer_gets_the_sender_and_the_web_apps_origin(stack):
    env = function(stack, "mailer").inputs["environment"]["variables"]
    assert env["MAIL_FROM"] == stack.program.config.mail_from
    assert env["WEB_URL"] == stack.outputs["webUrl"]
    for name in catalog.FUNCTIONS:  # no in-VPC function could reach SES anyway; none is told how
        if name != "mailer":
            assert "MAIL_FROM" not in function(stack, name).inputs["environment"]["variables"], name


def test_the_outbox_writer_has_no_ses_and_no_token_store_write():
    sessions = catalog.FUNCTIONS["sessions"]
    assert not sessions.sends_mail
    assert {a.table: a.actions for a in sessions.tables}["resetTokens"] == ("DeleteItem", "GetItem", "PutItem")
    assert {a.table: a.actions for a in sessions.tables}["resetOutbox"] == ("PutItem",)


def test_a_sender_that_is_not_an_address_is_refused():
    with pytest.raises(ConfigError, match="mailFrom"):
        evaluate("staging", overrides={"mailFrom": "not an address"})
