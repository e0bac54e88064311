"""Every route of the API over HTTP through the local runtime, driven by the client: happy and key error paths."""

from __future__ import annotations

import pytest

from client import ApiError


def fails(call, *args, **kwargs) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(*args, **kwargs)
    return caught.value


# ------------------------------------------------------------------------------ health


def test_health_checks_postgres_and_dynamodb(api):
    """The local runtime mirrors staging, whose database pauses: PostgreSQL's part is its last known state
    (the migrate function recorded it at start), DynamoDB's a real call."""
    health = api.health()
    assert health["status"] == "ok" and health["checks"] == {"postgres": "ok", "dynamodb": "ok"}
    assert health["lastKnown"]["postgres"]["state"] == "ok" and health["lastKnown"]["postgres"]["at"].endswith("Z")


# ------------------------------------------------------------------------------ users and sessions


def test_sign_up_returns_the_user_without_the_password(api, new_email):
    email = new_email()
    user = api.sign_up("Grace", email, "a-good-password", age=85)
    assert user["email"] == email and user["name"] == "Grace" and user["age"] == 85 and user["id"]
    assert not {"password", "passwordHash", "password_hash"} & set(user)


def test_sign_up_errors(api, user):
    taken = fails(api.sign_up, "Other", user.email.upper(), "another-password")
    assert (taken.status, taken.code) == (409, "email_taken")
    invalid = fails(api.sign_up, "", "not-an-email", "short")
    assert invalid.status == 400
    assert {"name", "email", "password"} <= {d["field"] for d in invalid.details}
    not_json = fails(api.request, "POST", "/users", raw=b"{not json", auth=False)
    assert (not_json.status, not_json.code) == (400, "invalid_json")


def test_log_in_and_log_out(api, user):
    session = api.log_in(user.email, user.password)
    assert set(session) >= {"token", "userId", "expiresAt"} and session["userId"] == user.user_id
    assert api.token == session["token"]
    assert api.get_user()["id"] == user.user_id
    api.log_out()
    assert api.token is None
    api.token = session["token"]  # the discarded token no longer works
    assert fails(api.get_user, user.user_id).status == 403


def test_the_client_keeps_its_device_token_and_is_not_locked_out_by_anyone_elses_guesses(runtime, user):
    """The device token from the fixture's log-in is sent with the next: five wrong passwords from elsewhere lock
    the e-mail, not this device."""
    first = user.device_tokens[user.email.strip().lower()]
    attacker = runtime.client()
    for _ in range(5):
        assert fails(attacker.log_in, user.email, "wrong-password").status == 401
    error = fails(attacker.log_in, user.email, user.password)
    assert (error.status, error.code) == (429, "too_many_attempts")
    session = user.log_in(user.email, user.password)  # with the device token: counted per device
    assert session["deviceToken"] != first and user.device_tokens[user.email.strip().lower()] == session["deviceToken"]


def test_log_in_with_a_wrong_password_or_an_unknown_email_is_401(api, user, new_email):
    for email, password in [(user.email, "wrong-password"), (new_email(), "whatever-password")]:
        error = fails(api.log_in, email, password)
        assert (error.status, error.code) == (401, "invalid_credentials")
    assert api.token is None


def test_profile_is_readable_only_by_its_owner(user, other):
    assert user.get_user()["email"] == user.email
    assert fails(other.get_user, user.user_id).status == 403
    assert fails(other.update_user, user.user_id, name="hijack").status == 403
    assert fails(other.delete_user, user.user_id).status == 403


def test_list_users_pages_with_a_cursor(user, runtime, new_email):
    for _ in range(3):
        runtime.client().sign_up("Listed", new_email("listed"), "a-good-password")
    first = user.list_users(limit=2)
    assert len(first["items"]) == 2 and first["nextCursor"]
    seen = [u["id"] for u in user.all_users(limit=2)]
    assert len(seen) == len(set(seen)) >= 4 and user.user_id in seen
    assert fails(user.list_users, limit=0).status == 400
    assert fails(user.list_users, cursor="tampered").status == 400


def test_update_user(user, runtime, new_email):
    updated = user.update_user(name="New Name", age=None)
    assert updated["name"] == "New Name" and updated["age"] is None
    assert fails(user.update_user).status == 400  # at least one field
    assert fails(user.update_user, unknown="x").status == 400
    other_email = new_email()
    runtime.client().sign_up("Taken", other_email, "a-good-password")
    assert fails(user.update_user, email=other_email, currentPassword=user.password).code == "email_taken"


def test_delete_user_removes_the_user_their_todos_and_sessions(user, runtime):
    todo = user.create_todo(None, "soon gone")
    token = user.token
    user.delete_user()
    user.token = token
    assert fails(user.get_user).status in (401, 403)  # the session is gone with the user
    assert fails(runtime.client().log_in, user.email, user.password).status == 401
    # the e-mail can be used again
    assert runtime.client().sign_up("Again", user.email, "a-good-password")["id"] != user.user_id
    assert todo["id"]


# ------------------------------------------------------------------------------ todos


def test_todo_lifecycle(user):
    todo = user.create_todo(None, "buy milk", description="2 litres", due_date="2030-01-31", priority="high")
    assert {k: todo[k] for k in ("title", "description", "dueDate", "priority", "status", "userId")} == {
        "title": "buy milk",
        "description": "2 litres",
        "dueDate": "2030-01-31",
        "priority": "high",
        "status": "open",
        "userId": user.user_id,
    }
    assert user.get_todo(todo["id"]) == todo
    done = user.update_todo(todo["id"], status="done", description=None)
    assert done["status"] == "done" and done.get("description") is None
    assert [t["id"] for t in user.all_todos(status="done")] == [todo["id"]]
    assert user.all_todos(status="open") == []
    assert user.delete_todo(todo["id"]) is None
    assert fails(user.get_todo, todo["id"]).status == 404


def test_list_todos_newest_first_with_pages(user):
    ids = [user.create_todo(None, f"todo {i}")["id"] for i in range(5)]
    page = user.list_todos(limit=2)
    assert len(page["items"]) == 2 and page["nextCursor"]
    assert [t["id"] for t in user.all_todos(limit=2)] == ids[::-1]
    assert fails(user.list_todos, status="maybe").status == 400


def test_todo_errors(user, other):
    assert fails(user.create_todo, None, "").status == 400
    bad = fails(user.create_todo, None, "x", due_date="31/01/2030")
    assert bad.status == 400 and bad.details[0]["field"] == "dueDate"
    assert fails(user.get_todo, "01UNKNOWNTODO0000000000000").status == 404
    assert fails(user.update_todo, "01UNKNOWNTODO0000000000000", title="x").status == 404
    assert fails(user.create_todo, "someone-else", "x").status == 403
    todo = user.create_todo(None, "mine")
    for call, args in [(other.get_todo, ()), (other.update_todo, ()), (other.delete_todo, ())]:
        kwargs = {"title": "stolen"} if call == other.update_todo else {}
        assert fails(call, todo["id"], *args, **kwargs).status == 403
    assert fails(other.list_todos, user.user_id).status == 403


# ------------------------------------------------------------------------------ dashboard


def test_dashboard(user):
    user.create_todo(None, "late", due_date="2000-01-01")
    done = user.create_todo(None, "finished")
    user.update_todo(done["id"], status="done")
    board = user.dashboard()
    assert board["user"]["id"] == user.user_id
    assert board["todos"]["counts"] == {"open": 1, "done": 1}
    assert board["todos"]["overdue"] == 1
    assert {t["title"] for t in board["todos"]["recent"]} == {"late", "finished"}
    assert "counts" in board["orders"]
    assert fails(user.dashboard, "someone-else").status == 403


# ------------------------------------------------------------------------------ orders


def test_an_order_goes_through_the_queue_and_the_worker(user):
    accepted = user.create_order("12.50", "EUR", [{"sku": "PEN-1", "quantity": 2}])
    assert accepted["status"] == "PENDING" and accepted["orderId"]
    stored = user.wait_for_order(accepted["orderId"], timeout=30)
    assert stored["orderId"] == accepted["orderId"] and stored["status"] == "CONFIRMED"
    assert stored["amount"] == "12.50" and stored["currency"] == "EUR" and stored["items"] == [{"sku": "PEN-1", "quantity": 2}]
    assert user.dashboard()["orders"]["counts"].get("CONFIRMED", 0) >= 1


def test_orders_are_private_and_validated(user, other):
    accepted = user.create_order(5, "USD")
    user.wait_for_order(accepted["orderId"], timeout=30)
    assert fails(other.get_order, accepted["orderId"]).status == 404
    for amount, currency in [("0", "EUR"), ("1.234", "EUR"), ("-3", "EUR"), ("10", "XXY"), ("10", "eur")]:
        error = fails(user.create_order, amount, currency)
        assert error.status == 400, (amount, currency)
    assert fails(user.get_order, "no-such-order").status == 404


def test_the_idempotency_key_replays_the_first_answer(user):
    first = user.create_order("7.00", "GBP", idempotency_key="key-1")
    again = user.create_order("7.00", "GBP", idempotency_key="key-1")
    assert again == first
    reused = fails(user.create_order, "8.00", "GBP", idempotency_key="key-1")
    assert (reused.status, reused.code) == (409, "idempotency_key_reused")
    user.wait_for_order(first["orderId"], timeout=30)
