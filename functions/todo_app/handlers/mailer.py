"""The password-reset mailer, fed by the `resetOutbox` table's stream (an event source mapping), outside the VPC.

For each inserted outbox item: a notice (the password was changed) is mailed as it is; a decoy (an address without an account) is dropped; otherwise, unless the stream
record's event id is already marked sent (a redelivery), a random token is made, its SHA-256 stored with the user
id for 30 minutes (reset_items.put_token), and the link `<WEB_URL>/#/reset-password?token=<token>` is mailed through
SES from MAIL_FROM; then the record is marked sent. The token exists only here and in the mail: the outbox and its
stream never carry one.

Records are handled in order; the first that fails is reported in `batchItemFailures` (its sequence number: the
mapping retries from there, ReportBatchItemFailures) and the rest of the batch waits for that retry. A failure
after the mail left but before the mark means one more mail with another valid link, never none.

Env: RESET_TOKENS_TABLE, MAIL_FROM, WEB_URL.
"""

from __future__ import annotations

import secrets
from typing import Any

from todo_app import aws, catalog, reset_items, settings
from todo_app.telemetry import MetricUnit, logger, metrics, publish_metrics
from todo_app.tokens import token_hash

SUBJECT = "Reset your todo-platform password"
NOTICE_SUBJECT = "Your todo-platform password was changed"
NOTICE_TEXT = (
    "The password of your todo-platform account was just changed with a reset link, and every session was ended.\n\n"
    "If it was not you, ask for a new reset link at once from the log-in screen.\n"
)


def reset_link(token: str) -> str:
    return settings.text("WEB_URL").rstrip("/") + catalog.RESET_LINK_PATH + token


def message_text(link: str) -> str:
    return (
        "Someone asked to reset the password of your todo-platform account.\n\n"
        f"To choose a new password, open this link within 30 minutes (it works once):\n\n{link}\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )


def send(address: str, subject: str, text: str) -> None:
    aws.client("ses").send_email(
        Source=settings.text("MAIL_FROM"),
        Destination={"ToAddresses": [address]},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}},
    )


def process(record: dict[str, Any]) -> str:
    """What became of one stream record: "sent", "notice", "decoy", "duplicate" or "ignored"."""
    if record.get("eventName") != "INSERT":
        return "ignored"  # TTL's removals of outbox items
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if image.get("decoy", {}).get("BOOL") or "userId" not in image:
        return "decoy"
    event_id = str(record["eventID"])
    if reset_items.was_sent(event_id):
        return "duplicate"
    if image.get("notice", {}).get("BOOL"):
        send(str(image["email"]["S"]), NOTICE_SUBJECT, NOTICE_TEXT)
        reset_items.mark_sent(event_id)
        return "notice"
    token = secrets.token_urlsafe(32)
    reset_items.put_token(token_hash(token), str(image["userId"]["S"]))
    send(str(image["email"]["S"]), SUBJECT, message_text(reset_link(token)))
    reset_items.mark_sent(event_id)
    return "sent"


@logger.inject_lambda_context
@publish_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    for record in event.get("Records") or []:
        try:
            outcome = process(record)
        except Exception as error:  # noqa: BLE001 - reported below; the mapping retries from this record
            logger.error(
                "reset mail failed", extra={"eventID": record.get("eventID"), "error": type(error).__name__, "reason": str(error)[:500]}
            )
            return {"batchItemFailures": [{"itemIdentifier": str(record.get("dynamodb", {}).get("SequenceNumber", ""))}]}
        metrics.add_metric(
            name={"sent": "ResetMailsSent", "notice": "ResetNoticesSent", "decoy": "ResetDecoysDropped"}.get(
                outcome, "ResetRecordsSkipped"
            ),
            unit=MetricUnit.Count,
            value=1,
        )
    return {"batchItemFailures": []}
