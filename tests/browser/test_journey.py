"""The whole journey a person makes through the web app, in a real browser, against the local runtime.

Everything is found by visible labels, roles and texts, as a person (or a screen reader) finds it.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.watch import Watched

PASSWORD = "correct horse battery"
XSS = "<img src=x onerror=alert(1)>"


def add_todo(page: Page, title: str, *, description: str = "", due: str = "", priority: str = "") -> None:
    form = page.get_by_role("form", name="New todo")
    form.get_by_label("Title").fill(title)
    if description:
        form.get_by_label("Description").fill(description)
    if due:
        form.get_by_label("Due date").fill(due)
    if priority:
        form.get_by_label("Priority").select_option(priority)
    form.get_by_role("button", name="Add todo").click()
    expect(page.get_by_role("list", name="List").get_by_role("listitem").filter(has_text=title).first).to_be_visible()
    expect(form.get_by_label("Title")).to_have_value("")


def row(page: Page, label: str) -> str:
    """The number in the report's table row headed `label`."""
    return page.get_by_role("row", name=re.compile(rf"^{label}\b")).get_by_role("cell").inner_text()


def test_sign_up_log_in_todos_report_orders_log_out(browser: Watched) -> None:  # noqa: PLR0915  # one journey, step after step on one page
    page = browser.page
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"

    # ------------------------------------------------------------------ sign up, with an error beside its field
    page.goto(browser.web)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    browser.assert_no_leaked_values()
    browser.shot("01-log-in")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    browser.assert_no_leaked_values()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("at least 8 characters"))
    expect(page.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")
    assert browser.unlabelled_controls() == []
    browser.assert_no_leaked_values()
    browser.shot("02-sign-up-error")
    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # ------------------------------------------------------------------ log in
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Your account is ready. Log in.")
    expect(page.get_by_label("Email")).to_have_value(email)
    browser.assert_no_leaked_values()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My todos")).to_be_visible()

    # ------------------------------------------------------------------ todos: three, and one that looks like HTML
    add_todo(page, "Buy milk", priority="high")
    add_todo(page, "File the taxes", description="Form 1040", due="2020-01-02")
    add_todo(page, "Water the plants")
    add_todo(page, XSS)
    todos = page.get_by_role("list", name="List").get_by_role("listitem")
    expect(todos).to_have_count(4)
    titles = [t.strip() for t in page.locator("li.todo .todo-title").all_inner_texts()]
    assert titles == [XSS, "Water the plants", "File the taxes", "Buy milk"]  # newest first
    # the HTML-looking title is text: no <img> element, no dialog (checked by assert_clean)
    expect(todos.filter(has_text=XSS)).to_have_count(1)
    assert page.locator("main img").count() == 0
    overdue = todos.filter(has_text="File the taxes")
    expect(overdue.get_by_text("Overdue", exact=True)).to_be_visible()
    expect(todos.filter(has_text="Buy milk").get_by_text("Overdue", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Mark done: Buy milk").click()
    expect(todos.filter(has_text="Buy milk").get_by_text("Done", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Mark open: Buy milk")).to_be_visible()

    page.get_by_label("Show").select_option("done")
    expect(todos).to_have_count(1)
    expect(todos.first).to_contain_text("Buy milk")
    page.get_by_label("Show").select_option("open")
    expect(todos).to_have_count(3)
    expect(todos.filter(has_text="Buy milk")).to_have_count(0)
    page.get_by_label("Show").select_option("")
    expect(todos).to_have_count(4)
    assert browser.unlabelled_controls() == []
    browser.assert_no_leaked_values()
    browser.shot("03-todos")

    # ------------------------------------------------------------------ the report's numbers
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Report", level=1)).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Todos by status"))).to_have_accessible_name(
        "Todos by status: Open 3, Done 1, Overdue 1"
    )
    assert (row(page, "Open"), row(page, "Done"), row(page, "Overdue")) == ("3", "1", "1")
    expect(page.get_by_text("No orders yet.")).to_be_visible()
    browser.assert_no_leaked_values()
    browser.shot("04-report")

    # ------------------------------------------------------------------ orders: a bad amount, then one order from a double click
    page.get_by_role("link", name="Orders").click()
    expect(page.get_by_role("heading", name="Orders", level=1)).to_be_visible()
    amount = page.get_by_label("Amount")
    amount.fill("12.345")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Place order").click()
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_accessible_description(re.compile("at most 2 decimal places"))
    error = page.locator(".field", has=page.get_by_label("Amount")).locator(".field-error")
    expect(error).to_have_text("must have at most 2 decimal places")
    expect(page.get_by_label("Currency")).not_to_have_attribute("aria-invalid", "true")
    assert browser.unlabelled_controls() == []
    browser.assert_no_leaked_values()
    browser.shot("05-order-error")

    amount.fill("12.50")
    page.get_by_role("button", name="Place order").dblclick()
    orders = page.locator("li.order")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text("12.50 EUR")
    state = orders.first.get_by_role("status")
    expect(state).to_contain_text("PENDING")  # 202 from the API; the worker has not stored it yet
    expect(state).to_contain_text("CONFIRMED", timeout=30_000)
    order_id = orders.first.get_attribute("data-id")
    polls = [url for method, url, _ in browser.requests if method == "GET" and url == f"{browser.api}/orders/{order_id}"]
    assert polls, "the order's state comes from polling GET /orders/{id}"
    posts = [headers for method, url, headers in browser.requests if method == "POST" and url == f"{browser.api}/orders"]
    keys = [headers.get("idempotency-key") for headers in posts]
    assert len(keys) >= 2 and all(keys), keys
    assert len(set(keys[1:])) == 1 and keys[0] != keys[1], "the bad submission and the placed order must have different keys"
    browser.assert_no_leaked_values()
    browser.shot("06-orders")

    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("table", name="Orders by status")).to_be_visible()
    assert row(page, "CONFIRMED") == "1"  # the double click placed one order
    browser.assert_no_leaked_values()

    # ------------------------------------------------------------------ profile
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile", level=1)).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text=email)).to_be_visible()
    assert browser.unlabelled_controls() == []
    browser.assert_no_leaked_values()
    browser.shot("07-profile")

    # ------------------------------------------------------------------ log out; a reload stays on log in
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    assert page.evaluate("() => Object.keys(sessionStorage)") == []  # token and orders forgotten
    browser.assert_no_leaked_values()
    page.reload()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    browser.assert_no_leaked_values()
    page.goto(f"{browser.web}/#/todos")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()

    browser.assert_clean()
