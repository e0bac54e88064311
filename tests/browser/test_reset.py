"""Password reset in a real browser through the local runtime: "Forgot password?", the mail read from the runtime's
.eml outbox, the reset screen its link opens, the new password, the old session ended, the link refused again."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.watch import Watched

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from test_password_reset import mail_to  # noqa: E402  (the e2e test's outbox reader, shared)


def test_forgot_password_mail_link_new_password(browser: Watched, site) -> None:
    page = browser.page
    email = f"reset-{uuid.uuid4().hex[:10]}@example.com"
    old_session = site.client()
    old_session.sign_up("Reset Me", email, "the-old-password")
    old_session.log_in(email, "the-old-password")

    page.goto(browser.web)
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_role("status").filter(has_text="If the address has an account")).to_be_visible()
    assert browser.unlabelled_controls() == []
    browser.shot("reset-01-requested")

    mail = mail_to(site.outputs_path.parent / "outbox", email)
    link = re.search(r"(https?://\S+)", mail.get_content()).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "token=" not in page.url  # taken out of the address bar once read
    page.get_by_label("New password", exact=True).fill("the-new-password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    browser.shot("reset-02-done")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("the-new-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Todos")).to_be_visible()

    status = 0
    try:
        old_session.list_sessions()
    except Exception as error:  # noqa: BLE001 - the client's ApiError
        status = getattr(error, "status", 0)
    assert status in (401, 403)

    page.goto(link)  # the same link again: refused
    page.get_by_label("New password", exact=True).fill("another-password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert").filter(has_text="expired or was already used")).to_be_visible()
    assert browser.foreign_requests() == []
