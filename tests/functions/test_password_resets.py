"""POST /password-resets and /password-resets/confirm, the outbox and the mailer, on real PostgreSQL and moto (SES
included): the mailer is fed the outbox table's stream as an event source mapping would."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

import pytest

from local import outbox
from local.emulator import read_stream, verify_sender
from tests.functions.conftest import PREFIX, context_for, handler_of
from todo_app import catalog, reset_items
from todo_app.tokens import token_hash

SENDER, WEB = "no-reply@example.com", "https://app.example.com"
ACCEPTED = {"status": "accepted", "message": "If the address has an account, a reset link is on its way."}


@pytest.fixture
def mail(stack, monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_FROM", SENDER)
    monkeypatch.setenv("WEB_URL", WEB)
    verify_sender(stack.client("ses"), SENDER)
    return Mailer(stack, tmp_path)


class Mailer:
    def __init__(self, stack, directory):
        self.stack, self.directory, self.iterators, self.written = stack, directory, {}, set()
        self.seen: list[dict] = []

    def records(self) -> list[dict]:
        found = read_stream(self.stack.client("dynamodb"), self.stack.client("dynamodbstreams"), PREFIX, "resetOutbox", self.iterators)
        self.seen += found
        return found

    def deliver(self, records=None) -> dict:
        records = self.records() if records is None else records
        return handler_of("mailer")({"Records": records}, context_for("mailer"))

    def mails(self):
        outbox.write_new(self.stack.emulator.url, self.directory, self.written)
        return [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(self.directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        ]

    def token_for(self, address: str) -> str:
        mails = [m for m in self.mails() if m["To"] == address and "token=" in m.get_content()]
        assert mails, f"no mail to {address}"
        link = re.search(r"(https?://\S+)", mails[-1].get_content()).group(1)
        assert link.startswith(WEB + catalog.RESET_LINK_PATH)
        return link.split("token=", 1)[1]


def test_known_and_unknown_addresses_get_the_same_answer_and_path(api, mail):
    api.sign_up("ada@example.com")
    known = api.post("/password-resets", json_body={"email": "ADA@example.com"})
    unknown = api.post("/password-resets", json_body={"email": "nobody@example.com"})
    assert (known.status, known.body) == (unknown.status, unknown.body) == (202, ACCEPTED)
    items = mail.stack.scan("resetOutbox")
    assert len(items) == 2  # an outbox item each: the decoy too
    decoy = next(i for i in items if i.get("decoy"))
    real = next(i for i in items if not i.get("decoy"))
    assert set(decoy) == {"requestId", "expiresAt", "decoy"}
    assert set(real) == {"requestId", "expiresAt", "userId", "email"}  # no token, ever
    assert mail.deliver() == {"batchItemFailures": []}
    assert [m["To"] for m in mail.mails()] == ["ADA@example.com"]  # the decoy is dropped
    assert mail.mails()[0]["From"] == SENDER


def test_the_token_is_stored_only_as_a_hash_and_expires_in_30_minutes(api, mail):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    token = mail.token_for("ada@example.com")
    assert len(token) >= 40
    stored = [i for i in mail.stack.scan("resetTokens") if not i["tokenHash"].startswith(catalog.RESET_SENT_PREFIX)]
    assert [i["tokenHash"] for i in stored] == [token_hash(token)]
    assert abs(int(stored[0]["expiresAt"]) - (time.time() + 1800)) < 10
    assert all(token not in str(r) for r in mail.seen)  # the stream never carries it


def test_confirm_sets_the_password_revokes_every_session_and_works_once(api, mail):
    api.sign_up("ada@example.com")
    sessions = [api.log_in("ada@example.com") for _ in range(2)]
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    token = mail.token_for("ada@example.com")
    reply = api.post("/password-resets/confirm", json_body={"token": token, "newPassword": "a new horse battery"})
    assert reply.status == 204, reply.body
    for session in sessions:
        assert api.get("/users", token=session).status in (401, 403)
    assert api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}).status == 401
    assert api.log_in("ada@example.com", "a new horse battery")
    again = api.post("/password-resets/confirm", json_body={"token": token, "newPassword": "another horse battery"})
    assert (again.status, again.error["code"], again.fields()) == (400, "invalid_token", ["token"])


def test_an_expired_or_unknown_token_is_refused(api, mail, monkeypatch):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    token = mail.token_for("ada@example.com")
    monkeypatch.setattr(reset_items, "now", lambda: time.time() + 1801)
    reply = api.post("/password-resets/confirm", json_body={"token": token, "newPassword": "a new horse battery"})
    assert (reply.status, reply.fields()) == (400, ["token"])
    monkeypatch.undo()
    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "sent#whatever"):
        reply = api.post("/password-resets/confirm", json_body={"token": bad, "newPassword": "a new horse battery"})
        assert (reply.status, reply.fields()) == (400, ["token"])
    short = api.post("/password-resets/confirm", json_body={"token": token, "newPassword": "short"})
    assert (short.status, short.fields()) == (400, ["newPassword"])


def test_a_redelivered_stream_record_sends_no_second_mail(api, mail):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    records = mail.records()
    mail.deliver(records)
    mail.deliver(records)  # the event source mapping retried the batch
    assert len(mail.mails()) == 1
    assert len([i for i in mail.stack.scan("resetTokens") if "userId" in i]) == 1


def test_a_failed_send_is_reported_and_retried(api, mail, monkeypatch):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    records = mail.records()
    monkeypatch.setenv("MAIL_FROM", "unverified@example.com")  # SES refuses it
    failed = mail.deliver(records)
    assert failed == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    monkeypatch.setenv("MAIL_FROM", SENDER)
    assert mail.deliver(records) == {"batchItemFailures": []}
    assert len(mail.mails()) == 1


def test_reset_requests_are_throttled_per_email_and_per_source(api, mail):
    for _ in range(3):
        assert api.post("/password-resets", json_body={"email": "nobody@example.com"}).status == 202
    throttled = api.post("/password-resets", json_body={"email": "NOBODY@example.com"})
    assert throttled.status == 429 and int(throttled.headers["retry-after"]) > 0
    for n in range(16):  # 20 from one source in all
        assert api.post("/password-resets", json_body={"email": f"user{n}@example.com"}).status == 202
    source = api.post("/password-resets", json_body={"email": "someone.else@example.com"})
    assert source.status == 429 and "retry-after" in source.headers
    other = api.post("/password-resets", json_body={"email": "x@example.com"}, headers={"X-Forwarded-For": "10.0.0.9"})
    assert other.status == 429  # the source is the connection's, not a header the client chooses


def test_invalid_bodies_name_the_field(api, mail):
    assert api.post("/password-resets", json_body={}).fields() == ["email"]
    assert api.post("/password-resets/confirm", json_body={"newPassword": "long enough"}).fields() == ["token"]


def test_the_throttle_answers_known_and_unknown_addresses_alike(api, mail):
    api.sign_up("ada@example.com")
    answers = {}
    for address in ("ada@example.com", "nobody@example.com"):
        replies = [api.post("/password-resets", json_body={"email": address}) for _ in range(4)]
        answers[address] = [(r.status, r.body if r.status == 202 else r.error["code"]) for r in replies]
    assert answers["ada@example.com"] == answers["nobody@example.com"] == [(202, ACCEPTED)] * 3 + [(429, "too_many_requests")]


def test_the_mailer_ignores_the_outbox_items_ttl_removes(api, mail):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    (record,) = mail.records()
    removal = {**record, "eventName": "REMOVE", "eventID": "removal-1"}
    assert mail.deliver([removal]) == {"batchItemFailures": []}
    assert mail.mails() == []


def test_a_reset_spends_every_other_outstanding_link_of_the_user(api, mail):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    first = mail.token_for("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    second = mail.token_for("ada@example.com")
    assert first != second
    assert api.post("/password-resets/confirm", json_body={"token": second, "newPassword": "a new horse battery"}).status == 204
    stale = api.post("/password-resets/confirm", json_body={"token": first, "newPassword": "an old link's password"})
    assert (stale.status, stale.error["code"], stale.fields()) == (400, "invalid_token", ["token"])
    assert api.log_in("ada@example.com", "a new horse battery")
    # a link asked for after the reset works
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    assert (
        api.post("/password-resets/confirm", json_body={"token": mail.token_for("ada@example.com"), "newPassword": "third horse"}).status
        == 204
    )


def test_the_owner_is_told_by_mail_that_the_password_was_changed(api, mail):
    api.sign_up("ada@example.com")
    api.post("/password-resets", json_body={"email": "ada@example.com"})
    mail.deliver()
    token = mail.token_for("ada@example.com")
    assert api.post("/password-resets/confirm", json_body={"token": token, "newPassword": "a new horse battery"}).status == 204
    notice = next(i for i in mail.stack.scan("resetOutbox") if i.get("notice"))
    assert set(notice) == {"requestId", "expiresAt", "userId", "email", "notice"}  # no token, no password
    assert mail.deliver() == {"batchItemFailures": []}
    last = mail.mails()[-1]
    assert (last["To"], last["Subject"]) == ("ada@example.com", "Your todo-platform password was changed")
    assert "token=" not in last.get_content()
