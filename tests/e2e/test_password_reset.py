"""Password reset through the local runtime: the outbox item, the stream poller feeding the mailer, the mail as an
.eml file under the runtime's outbox directory, the link's token confirmed, the new password, the old sessions."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from e2e_support import unique_email

from client import ApiError


def mail_to(outbox: Path, address: str, timeout: float = 20, containing: str = "token=") -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            mail = message_from_bytes(path.read_bytes(), policy=policy.default)
            if mail["To"] == address and containing in mail.get_content():
                assert isinstance(mail, EmailMessage)
                return mail
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} in {outbox}")


def test_reset_by_mail_end_to_end(runtime):
    outbox = runtime.outputs_path.parent / "outbox"
    user = runtime.client()
    email, old_password = unique_email("reset"), "the-old-password"
    user.sign_up("Reset Me", email, old_password)
    sessions = [runtime.client() for _ in range(2)]
    for session in sessions:
        session.log_in(email, old_password)

    stranger = runtime.client().request_password_reset(unique_email("nobody"))
    assert runtime.client().request_password_reset(email) == stranger

    mail = mail_to(outbox, email)
    assert mail["From"] and mail["Subject"] and mail["Message-ID"]
    link = re.search(r"(https?://\S+)", mail.get_content()).group(1)
    assert link.startswith(runtime.outputs["webUrl"] + "/#/reset-password?token=")
    assert "[local] mail written to" in runtime.log()
    token = link.split("token=", 1)[1]

    runtime.client().confirm_password_reset(token, "the-new-password")
    for session in sessions:
        with pytest.raises(ApiError) as refused:
            session.list_sessions()
        assert refused.value.status in (401, 403)
    with pytest.raises(ApiError) as wrong:
        runtime.client().log_in(email, old_password)
    assert wrong.value.status == 401
    assert runtime.client().log_in(email, "the-new-password")["token"]
    notice = mail_to(outbox, email, containing="was just changed")
    assert "token=" not in notice.get_content()

    with pytest.raises(ApiError) as again:
        runtime.client().confirm_password_reset(token, "yet-another-password")
    assert (again.value.status, again.value.code) == (400, "invalid_token")
