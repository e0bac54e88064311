"""Each screen's own behaviour: paging, editing, the profile, a rejected token, the keyboard, the devices screen."""

from __future__ import annotations

import json
import re

import pytest
from e2e_support import LocalRuntime, signed_up
from playwright.sync_api import Page, Route, expect

from client import ApiError, Client
from tests.browser.watch import Watched


def log_in(browser: Watched, user: Client) -> Page:
    page = browser.page
    page.goto(browser.web)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    browser.assert_no_leaked_values()  # no message: nothing between the heading and the form
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My todos")).to_be_visible()
    browser.assert_no_leaked_values()
    return page


def test_load_more_pages_through_the_list_newest_first(browser: Watched, site: LocalRuntime) -> None:
    user = signed_up(site)
    for n in range(23):
        user.create_todo(None, f"Task {n:02d}")
    page = log_in(browser, user)
    items = page.get_by_role("list", name="List").get_by_role("listitem")
    expect(items).to_have_count(20)
    expect(items.first).to_contain_text("Task 22")
    page.get_by_role("button", name="Load more").click()
    expect(items).to_have_count(23)
    expect(items.last).to_contain_text("Task 00")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    browser.assert_clean()


def test_edit_and_delete_a_todo(browser: Watched, site: LocalRuntime) -> None:
    user = signed_up(site)
    user.create_todo(None, "Draft", description="old words", due_date="2030-05-01", priority="low")
    page = log_in(browser, user)
    page.get_by_role("button", name="Edit: Draft").click()
    editor = page.get_by_role("form", name="Edit todo")
    expect(editor.get_by_label("Title")).to_be_focused()
    browser.assert_no_leaked_values()
    editor.get_by_label("Title").fill("")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_label("Title")).to_have_attribute("aria-invalid", "true")  # the API's 400, beside the field
    editor.get_by_label("Title").fill("Final")
    editor.get_by_label("Description").fill("")
    editor.get_by_label("Priority").select_option("high")
    editor.get_by_role("button", name="Save").click()
    item = page.get_by_role("list", name="List").get_by_role("listitem").filter(has_text="Final")
    expect(item).to_contain_text("Priority: high")
    expect(item).not_to_contain_text("old words")
    stored = user.all_todos()
    assert [(t["title"], t.get("description"), t["priority"], t["dueDate"]) for t in stored] == [("Final", None, "high", "2030-05-01")]
    page.get_by_role("button", name="Delete: Final").click()
    expect(page.get_by_role("list", name="List").get_by_role("listitem")).to_have_count(0)
    assert user.all_todos() == []
    browser.assert_clean()


def test_a_rejected_token_goes_back_to_log_in_with_a_message(browser: Watched, site: LocalRuntime) -> None:
    browser.expected_api_statuses |= {403}  # the authorizer's answer is the point of this test
    page = log_in(browser, signed_up(site))
    page.evaluate(
        """() => {
            const key = "todo-platform.session";
            sessionStorage.setItem(key, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(key)), token: "forged" }));
        }"""
    )
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Please log in again.")
    browser.assert_no_leaked_values()
    assert page.evaluate("() => Object.keys(sessionStorage)") == []
    browser.assert_clean()


def test_the_keyboard_alone_logs_in_and_adds_a_todo(browser: Watched, site: LocalRuntime) -> None:
    user = signed_up(site)
    page = browser.page
    page.goto(browser.web)
    expect(page.get_by_role("heading", name="Log in")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(user.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My todos")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Title")).to_be_focused()
    page.keyboard.type("Typed, not clicked")
    page.keyboard.press("Enter")
    item = page.get_by_role("list", name="List").get_by_role("listitem").filter(has_text="Typed, not clicked")
    expect(item).to_be_visible()
    expect(page.get_by_label("Title")).to_be_focused()  # ready for the next one
    page.get_by_role("button", name="Mark done: Typed, not clicked").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Mark open: Typed, not clicked")).to_be_focused()
    browser.assert_clean()


def test_profile_edit_errors_and_account_deletion_after_a_confirmation(browser: Watched, site: LocalRuntime) -> None:
    browser.expected_api_statuses |= {400, 401, 409}  # no current password; a taken e-mail; a deleted user's log-in
    user, other = signed_up(site), signed_up(site)
    page = log_in(browser, user)
    page.get_by_role("link", name="Profile").click()
    form = page.get_by_role("form", name="Edit profile")
    form.get_by_label("Name").fill("Grace Hopper")
    form.get_by_role("button", name="Save changes").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("definition").filter(has_text="Grace Hopper")).to_be_visible()
    browser.assert_no_leaked_values()

    form.get_by_label("Email").fill(other.email)
    form.get_by_role("button", name="Save changes").click()
    expect(form.get_by_label("Current password")).to_have_accessible_description(re.compile("is required"))
    form.get_by_label("Current password").fill(user.password)
    form.get_by_role("button", name="Save changes").click()
    expect(form.get_by_label("Email")).to_have_accessible_description(re.compile("is already taken"))

    page.get_by_role("button", name="Delete my account").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    browser.assert_no_leaked_values()
    browser.shot("08-delete-confirmation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Delete my account")).to_be_focused()
    assert user.get_user()["name"] == "Grace Hopper"  # cancelling deleted nothing

    page.get_by_role("button", name="Delete my account").click()
    dialog.get_by_role("button", name="Delete account").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your account has been deleted.")
    browser.assert_no_leaked_values()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("The e-mail or the password is wrong")
    browser.assert_clean()


def test_change_password_on_the_profile_signs_out_the_other_sessions(browser: Watched, site: LocalRuntime) -> None:
    browser.expected_api_statuses |= {403}  # the wrong current password
    user = signed_up(site)
    other = Client(user.api_url)
    other.log_in(user.email, user.password)
    page = log_in(browser, user)
    page.get_by_role("link", name="Profile").click()
    form = page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill("not my password")
    form.get_by_label("New password").fill("a brand new password")
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_label("Current password")).to_have_accessible_description(re.compile("is wrong"))
    expect(page.get_by_role("heading", name="Profile", exact=True)).to_be_visible()  # still signed in
    form.get_by_label("Current password").fill(user.password)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("status")).to_have_text("Password changed. Your other sessions were signed out.")
    with pytest.raises(ApiError):
        other.list_sessions()
    Client(user.api_url).log_in(user.email, "a brand new password")
    browser.assert_clean()


def test_the_device_token_is_kept_in_local_storage_and_sent_with_the_next_log_in(browser: Watched, site: LocalRuntime) -> None:
    user = signed_up(site)
    page = log_in(browser, user)
    devices = json.loads(page.evaluate("localStorage.getItem('todo-platform.devices')"))
    first = devices[user.email.lower()]
    assert isinstance(first, str) and len(first) >= 32
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    with page.expect_request(lambda request: request.method == "POST" and request.url.endswith("/sessions")) as sent:
        page.get_by_role("button", name="Log in").click()
    assert json.loads(sent.value.post_data or "{}")["deviceToken"] == first
    expect(page.get_by_role("heading", name="My todos")).to_be_visible()
    assert json.loads(page.evaluate("localStorage.getItem('todo-platform.devices')"))[user.email.lower()] != first  # replaced
    browser.assert_clean()


def test_the_devices_screen_is_hidden_when_the_api_has_no_sessions_route(browser: Watched, site: LocalRuntime) -> None:
    """An API without the sessions routes (an older deployment) answers GET /sessions as API Gateway does: 404."""
    page = browser.page

    def no_route(route: Route) -> None:
        if route.request.method != "GET":
            route.continue_()  # preflights: the local gateway's real answers
            return
        cors = {"access-control-allow-origin": browser.web}
        route.fulfill(status=404, headers=cors, content_type="application/json", body=json.dumps({"message": "Not Found"}))

    page.route(re.compile(re.escape(browser.api) + r"/sessions$"), no_route)
    log_in(browser, signed_up(site))
    expect(page.get_by_role("link", name="Report")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the GET /sessions probe has answered (404)
    expect(page.get_by_role("link", name="Devices")).to_have_count(0)
    page.goto(f"{browser.web}/#/devices")
    expect(page.get_by_role("heading", name="My todos")).to_be_visible()
    browser.assert_clean()


def test_the_devices_screen_lists_my_sessions_and_signs_them_out(browser: Watched, site: LocalRuntime) -> None:
    """Against the real sessions routes: another device's session is listed and revoked at once, then every session."""
    user = signed_up(site)  # the client's own session: "another device" for the browser
    page = log_in(browser, user)
    page.get_by_role("link", name="Devices").click()
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    devices = page.get_by_role("list", name="My sessions").get_by_role("listitem")
    expect(devices).to_have_count(2)
    expect(devices.get_by_text("This device", exact=True)).to_have_count(1)
    browser.assert_no_leaked_values()
    browser.shot("09-devices")
    other = devices.filter(has_not=page.get_by_text("This device", exact=True))
    with page.expect_response(lambda response: response.request.method == "DELETE" and "/sessions/" in response.url):
        other.get_by_role("button").click()
    expect(devices).to_have_count(1)
    with pytest.raises(ApiError) as refused:  # the revoked token is refused at once
        user.list_sessions()
    assert refused.value.status == 403
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have signed out everywhere.")
    browser.assert_clean()


def test_a_config_json_without_an_api_url_is_reported_not_hidden(browser: Watched, site: LocalRuntime) -> None:
    page = browser.page
    page.route(f"{browser.web}/config.json", lambda route: route.fulfill(status=200, content_type="application/json", body='{"api": "x"}'))
    page.goto(browser.web)
    expect(page.get_by_role("heading", name="The app cannot start")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("config.json has no valid apiUrl")
    browser.assert_clean()


def test_a_route_named_like_an_inherited_property_shows_a_screen(browser: Watched, site: LocalRuntime) -> None:
    """`#/constructor` or `#/__proto__` is no route of the app: the default screen, not a hang on the last one."""
    page = browser.page
    names = ("constructor", "__proto__", "toString", "hasOwnProperty")
    for name in names:
        page.goto(f"{browser.web}/#/{name}")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        expect(page).to_have_url(f"{browser.web}/#/login")
        browser.assert_no_leaked_values()
    log_in(browser, signed_up(site))
    for name in names:
        page.get_by_role("link", name="Report").click()
        expect(page.get_by_role("heading", name="Report", level=1)).to_be_visible()
        page.goto(f"{browser.web}/#/{name}")
        expect(page.get_by_role("heading", name="My todos")).to_be_visible()
        expect(page).to_have_url(f"{browser.web}/#/todos")
        browser.assert_no_leaked_values()
    browser.assert_clean()
