"""Regression tests for the holes an adversarial run of the API found: each failed before its fix."""

from __future__ import annotations

import base64
import threading
import time

import pytest

from todo_app.handlers import users as users_handler
from todo_app.tokens import token_hash

from .conftest import Api

# ------------------------------------------------------------------------------ control characters


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b"])
def test_control_characters_are_a_400_naming_the_field(api, bad):
    cases = [
        ("POST", "/users", {"name": bad, "email": "ada@example.com", "password": "correct horse"}, "name"),
        ("POST", "/users", {"name": "Ada", "email": f"a{bad}@example.com", "password": "correct horse"}, "email"),
        ("POST", "/users", {"name": "Ada", "email": "ada@example.com", "password": f"correct {bad} horse"}, "password"),
        ("POST", "/sessions", {"email": f"a{bad}@example.com", "password": "correct horse"}, "email"),
        ("POST", "/sessions", {"email": "ada@example.com", "password": f"correct {bad}"}, "password"),
    ]
    for method, path, body, field in cases:
        reply = api.request(method, path, json_body=body)
        assert (reply.status, reply.fields()) == (400, [field]), (path, body, reply.body)


def test_control_characters_in_updates_todos_and_orders_are_400(api):
    user, token = api.user_with_token("ada@example.com")
    uid = user["id"]
    todo = api.post(f"/users/{uid}/todos", json_body={"title": "ok"}, token=token).body
    cases = [
        ("PUT", f"/users/{uid}", {"name": "A\x00"}, "name"),
        ("PUT", f"/users/{uid}", {"email": "a\x00@example.com"}, "email"),
        ("POST", f"/users/{uid}/todos", {"title": "t\x00"}, "title"),
        ("POST", f"/users/{uid}/todos", {"title": "t", "description": "d\x00"}, "description"),
        ("PUT", f"/todos/{todo['id']}", {"title": "t\x01"}, "title"),
        ("PUT", f"/todos/{todo['id']}", {"description": "\x00"}, "description"),
        ("POST", "/orders", {"amount": "1.00", "currency": "EUR", "items": [{"sku": "A\x00", "quantity": 1}]}, "items.0.sku"),
    ]
    for method, path, body, field in cases:
        reply = api.request(method, path, json_body=body, token=token)
        assert (reply.status, reply.fields()) == (400, [field]), (path, body, reply.body)


def test_a_description_may_span_lines(api):
    user, token = api.user_with_token("ada@example.com")
    reply = api.post(f"/users/{user['id']}/todos", json_body={"title": "t", "description": "one\ntwo\r\n\tthree"}, token=token)
    assert reply.status == 201 and reply.body["description"] == "one\ntwo\r\n\tthree"


# ------------------------------------------------------------------------------ amounts out of range


@pytest.mark.parametrize("amount", [10**27, 10**26 + 7, "1e50", "1e1000000", "-1e1000000", "1E+27"])
def test_huge_amounts_are_the_range_400(api, amount):
    _, token = api.user_with_token("ada@example.com")
    reply = api.post("/orders", json_body={"amount": amount, "currency": "EUR"}, token=token)
    assert (reply.status, reply.fields()) == (400, ["amount"]), reply.body


@pytest.mark.parametrize("raw", ["1e27", "1e100", "1e309", "123456789012345678901234567"])
def test_huge_json_number_amounts_are_the_range_400(api, raw):
    _, token = api.user_with_token("ada@example.com")
    reply = api.post("/orders", body='{"amount": ' + raw + ', "currency": "EUR"}', token=token)
    assert (reply.status, reply.fields()) == (400, ["amount"]), reply.body


# ------------------------------------------------------------------------------ cursors


def test_a_deeply_nested_cursor_is_a_400_naming_cursor(api):
    user, token = api.user_with_token("ada@example.com")
    cursor = base64.urlsafe_b64encode(b"[" * 1000).decode().rstrip("=")
    for path in ("/users", f"/users/{user['id']}/todos"):
        reply = api.get(path, query=f"cursor={cursor}", token=token)
        assert (reply.status, reply.fields()) == (400, ["cursor"]), (path, reply.body)


# ------------------------------------------------------------------------------ the user list


def test_the_user_list_shows_only_ids_and_names(api):
    api.sign_up("grace@example.com", name="Grace", age=85)
    _, token = api.user_with_token("ada@example.com")
    items = api.get("/users", token=token).body["items"]
    assert len(items) == 2
    assert all(set(item) == {"id", "name"} for item in items), items


# ------------------------------------------------------------------------------ e-mail uniqueness


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Ärger@example.com", "ärger@example.com"),
        ("straße@example.com", "STRASSE@example.com"),
        ("ﬁle@example.com", "file@example.com"),  # NFKC: the ligature is "fi"
        ("Ａda@example.com", "ada@example.com"),  # NFKC: a full-width letter
    ],
)
def test_email_uniqueness_is_unicode_case_insensitive(api, first, second):
    api.sign_up(first)
    reply = api.post("/users", json_body={"name": "Other", "email": second, "password": "correct horse"})
    assert (reply.status, reply.error["code"]) == (409, "email_taken"), reply.body
    assert api.post("/sessions", json_body={"email": second, "password": "correct horse"}).status == 201


def test_email_change_to_a_unicode_case_variant_is_409(api):
    api.sign_up("Ärger@example.com")
    user, token = api.user_with_token("other@example.com")
    reply = api.put(f"/users/{user['id']}", json_body={"email": "äRGER@example.com", "currentPassword": "correct horse"}, token=token)
    assert (reply.status, reply.error["code"]) == (409, "email_taken"), reply.body


def test_the_unique_index_holds_without_the_application(api, stack):
    import psycopg

    api.sign_up("Ärger@example.com")
    with stack.admin() as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO users (id, name, email, email_key, password_hash) VALUES (gen_random_uuid(), 'x', 'ärger@example.com', %s, 'h')",
            ("ärger@example.com",),
        )


# ------------------------------------------------------------------------------ headers


def test_every_response_is_nosniff_and_token_responses_are_no_store(api):
    user, token = api.user_with_token("ada@example.com")
    login = api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"})
    replies = [
        login,
        api.get("/health"),
        api.post("/users", json_body={"name": ""}),
        api.get("/users", token=token),
        api.get(f"/users/{user['id']}", token=token),
        api.get("/todos/01ARZ3NDEKTSV4RRFFQ69G5FAV", token=token),
        api.delete("/sessions/current", token=token),
    ]
    for reply in replies:
        headers = {k.lower(): v for k, v in reply.headers.items()}
        assert headers.get("x-content-type-options") == "nosniff", (reply.status, headers)
    for reply in [login, *replies[3:]]:
        headers = {k.lower(): v for k, v in reply.headers.items()}
        assert headers.get("cache-control") == "no-store", (reply.status, headers)


# ------------------------------------------------------------------------------ log-in racing a deletion


def test_a_log_in_that_read_the_user_before_the_deletion_gets_no_working_token(api, monkeypatch):
    """The worst interleaving, forced: the log-in checks the password before the tombstone and writes
    its session after the deletion answered 204 (a stalled Lambda can do exactly that)."""
    from todo_app.handlers import sessions as sessions_handler

    user, token = api.user_with_token("ada@example.com")
    checked, deleted = threading.Event(), threading.Event()
    real_find = sessions_handler.user_rows.find_login

    def find_then_wait(conn, email):
        row = real_find(conn, email)
        checked.set()
        assert deleted.wait(30)
        return row

    monkeypatch.setattr(sessions_handler.user_rows, "find_login", find_then_wait)
    result: dict = {}
    login = threading.Thread(
        target=lambda: result.update(reply=Api().post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}))
    )
    login.start()
    assert checked.wait(30)
    # the deletion runs in full while the log-in waits (PostgreSQL is reached on another connection)
    with users_handler.db.another_connection():
        assert api.delete(f"/users/{user['id']}", token=token).status == 204
    deleted.set()
    login.join(30)
    reply = result["reply"]
    if reply.status == 201:
        late = reply.body["token"]
        assert api.get("/users", token=late).status == 403
        assert api.post("/orders", json_body={"amount": "1.00", "currency": "EUR"}, token=late).status == 403
    else:
        assert reply.status == 401


def test_a_deleted_users_leftover_session_is_refused(api, stack):
    """Whatever the sweep missed (a session written behind it), the authorizer refuses."""
    user, token = api.user_with_token("ada@example.com")
    other = api.log_in("ada@example.com")
    item = stack.client("dynamodb").get_item(TableName="fntest-sessions", Key={"tokenHash": {"S": token_hash(other)}})["Item"]
    assert api.delete(f"/users/{user['id']}", token=token).status == 204
    stack.client("dynamodb").put_item(TableName="fntest-sessions", Item=item)  # as if written after the sweep
    assert api.get("/users", token=other).status == 403


# ------------------------------------------------------------------------------ log-in throttling


def _wrong(api, email, password="wrong password"):
    return api.post("/sessions", json_body={"email": email, "password": password})


@pytest.mark.parametrize("exists", [True, False])
def test_five_failures_then_429_until_the_window_passes(api, monkeypatch, exists):
    from todo_app import login_throttle

    clock = [1_000_000.0]
    monkeypatch.setattr(login_throttle, "now", lambda: clock[0])
    if exists:
        api.sign_up("ada@example.com")
    statuses = [_wrong(api, "ada@example.com").status for _ in range(5)]
    assert statuses == [401] * 5
    for email in ("ada@example.com", "ADA@example.com"):  # the same address, however spelled
        reply = _wrong(api, email, "correct horse")
        assert (reply.status, reply.error["code"]) == (429, "too_many_attempts"), reply.body
        assert reply.headers["retry-after"] == "900"
    clock[0] += 600
    assert _wrong(api, "ada@example.com", "correct horse").headers["retry-after"] == "300"
    assert _wrong(api, "other@example.com").status == 401  # another e-mail is not affected
    clock[0] += 301
    assert _wrong(api, "ada@example.com", "correct horse").status == (201 if exists else 401)


def test_a_success_resets_the_count(api, monkeypatch):
    api.sign_up("ada@example.com")
    for _ in range(4):
        assert _wrong(api, "ada@example.com").status == 401
    assert _wrong(api, "ada@example.com", "correct horse").status == 201
    for _ in range(5):
        assert _wrong(api, "ada@example.com").status == 401
    assert _wrong(api, "ada@example.com").status == 429


def test_an_attempt_is_counted_before_its_password_is_checked(api, stack, monkeypatch):
    """So that parallel guesses cannot all slip in under the limit: the count is a conditional write
    made before the (slow) password check, and over the limit no password is checked at all. (Its
    atomicity is DynamoDB's; the emulator does not serialise concurrent writes, so no parallel test.)"""
    from todo_app.handlers import sessions as sessions_handler

    checks = []
    real_verify = sessions_handler.verify_password
    monkeypatch.setattr(sessions_handler, "verify_password", lambda *a: checks.append(1) or real_verify(*a))
    statuses = [_wrong(api, "ada@example.com").status for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3 and len(checks) == 5
    # only a hash of the e-mail is stored, with a TTL
    (item,) = stack.scan("loginAttempts")
    assert "ada" not in str(item) and item["expiresAt"] == item["windowEnd"]


# ------------------------------------------------------------------------------ device tokens and the per-source limit


def _log_in(api, email, password="correct horse", device=None, source_ip="127.0.0.1"):
    body = {"email": email, "password": password} | ({"deviceToken": device} if device else {})
    return api.post("/sessions", json_body=body, source_ip=source_ip)


def test_a_log_in_returns_a_device_token_stored_only_as_a_hash(api, stack):
    user = api.sign_up("ada@example.com")
    reply = _log_in(api, "ada@example.com")
    assert reply.status == 201
    device = reply.body["deviceToken"]
    assert len(device) >= 32 and device != reply.body["token"]
    (item,) = stack.scan("devices")
    assert item["tokenHash"] == token_hash(device) and item["userId"] == user["id"] and device not in str(item)
    assert int(item["expiresAt"]) > time.time() + 90 * 24 * 3600  # long-lived
    # presented again, it is replaced by a new one
    again = _log_in(api, "ada@example.com", device=device)
    assert again.status == 201 and again.body["deviceToken"] != device
    assert [i["tokenHash"] for i in stack.scan("devices")] == [token_hash(again.body["deviceToken"])]


def test_an_attacker_cannot_lock_out_a_known_device(api, monkeypatch):
    """The issue's finding 1: five wrong passwords for an e-mail locked its owner out."""
    api.sign_up("ada@example.com")
    device = _log_in(api, "ada@example.com").body["deviceToken"]
    for _ in range(5):
        assert _log_in(api, "ada@example.com", "wrong password", source_ip="203.0.113.9").status == 401
    assert _log_in(api, "ada@example.com", source_ip="203.0.113.9").status == 429  # no device token: per e-mail
    reply = _log_in(api, "ada@example.com", device=device, source_ip="198.51.100.7")
    assert reply.status == 201, reply.body


def test_attempts_with_a_device_token_are_counted_per_device(api):
    api.sign_up("ada@example.com")
    device = _log_in(api, "ada@example.com").body["deviceToken"]
    for _ in range(5):
        assert _log_in(api, "ada@example.com", "wrong password", device=device).status == 401
    reply = _log_in(api, "ada@example.com", device=device)
    assert (reply.status, reply.error["code"]) == (429, "too_many_attempts") and int(reply.headers["retry-after"]) > 0
    # the e-mail itself was not counted: a log-in without the device token still works
    assert _log_in(api, "ada@example.com").status == 201


def test_a_device_token_counts_only_for_its_own_e_mail(api):
    api.sign_up("ada@example.com")
    api.sign_up("grace@example.com", name="Grace")
    device = _log_in(api, "ada@example.com").body["deviceToken"]
    for _ in range(5):
        assert _log_in(api, "grace@example.com", "wrong password", device=device).status == 401
    assert _log_in(api, "grace@example.com", device=device).status == 429  # counted per e-mail: not Grace's device


def test_an_unknown_device_token_is_no_device(api):
    api.sign_up("ada@example.com")
    for _ in range(5):
        assert _log_in(api, "ada@example.com", "wrong password", device="x" * 43).status == 401
    assert _log_in(api, "ada@example.com", device="y" * 43).status == 429
    reply = _log_in(api, "ada@example.com", device="not a token!")
    assert reply.status == 400 and reply.error["details"][0]["field"] == "deviceToken"


def test_failed_log_ins_are_limited_per_source_ip_across_e_mails(api, monkeypatch):
    """Password spraying: one wrong password each for many e-mails from one address (limit 20 in the tests)."""
    from todo_app import login_throttle

    clock = [1_000_000.0]
    monkeypatch.setattr(login_throttle, "now", lambda: clock[0])
    api.sign_up("ada@example.com")
    device = _log_in(api, "ada@example.com", source_ip="203.0.113.9").body["deviceToken"]
    statuses = [_log_in(api, f"user{n}@example.com", "wrong password", source_ip="203.0.113.9").status for n in range(21)]
    assert statuses == [401] * 20 + [429]
    reply = _log_in(api, "ada@example.com", source_ip="203.0.113.9")
    assert reply.status == 429 and reply.headers["retry-after"] == "900"
    assert _log_in(api, "ada@example.com", source_ip="198.51.100.7").status == 201  # another source is not affected
    # a valid device token is exempt: users behind one NAT do not lock each other out
    assert _log_in(api, "ada@example.com", device=device, source_ip="203.0.113.9").status == 201
    clock[0] += 901
    assert _log_in(api, "ada@example.com", source_ip="203.0.113.9").status == 201


def test_successful_log_ins_do_not_count_against_the_source(api):
    api.sign_up("ada@example.com")
    for _ in range(25):
        assert _log_in(api, "ada@example.com").status == 201


# ------------------------------------------------------------------------------ clean stored input (the findings 3-5)


@pytest.mark.parametrize("amount", ["1_000", "\u0665", "\uff15", "+5", " 5 ", ".5", "1.", "00012", "5\n", "-5", "1,000", "1e3", "0x10"])
def test_amount_strings_are_plain_ascii_digits(api, amount):
    _, token = api.user_with_token("ada@example.com")
    reply = api.post("/orders", json_body={"amount": amount, "currency": "EUR"}, token=token)
    assert (reply.status, reply.fields()) == (400, ["amount"]), (amount, reply.body)


@pytest.mark.parametrize("amount", ["0.50", "12", "12.5", "1000000000", "999.99"])
def test_plain_amounts_are_accepted(api, amount):
    _, token = api.user_with_token("ada@example.com")
    assert api.post("/orders", json_body={"amount": amount, "currency": "EUR"}, token=token).status == 202


def test_the_amount_pattern_is_the_openapi_documents():
    import json
    from pathlib import Path

    from todo_app.models import AMOUNT_PATTERN

    document = json.loads((Path(__file__).resolve().parents[2] / "openapi.json").read_text())
    (as_string,) = [c for c in document["components"]["schemas"]["OrderCreate"]["properties"]["amount"]["anyOf"] if c["type"] == "string"]
    assert as_string["pattern"] == AMOUNT_PATTERN


HIDDEN = ["\u200b", "\u200e", "\u202e", "\u2028", "\u2029", "\u2066", "\ufeff", "\u00ad", "\x1b"]


@pytest.mark.parametrize("char", HIDDEN)
def test_names_titles_and_skus_refuse_invisible_and_direction_changing_characters(api, char):
    user, token = api.user_with_token("ada@example.com")
    uid = user["id"]
    todo = api.post(f"/users/{uid}/todos", json_body={"title": "ok"}, token=token).body
    cases = [
        ("POST", "/users", {"name": f"Mallory{char}Admin", "email": "m@example.com", "password": "correct horse"}, "name", None),
        ("PUT", f"/users/{uid}", {"name": f"Ada{char}"}, "name", token),
        ("POST", f"/users/{uid}/todos", {"title": f"pay{char}bill"}, "title", token),
        ("PUT", f"/todos/{todo['id']}", {"title": f"{char}pay"}, "title", token),
        ("POST", f"/users/{uid}/todos", {"title": "t", "description": f"a{char}b"}, "description", token),
        ("POST", "/orders", {"amount": "1.00", "currency": "EUR", "items": [{"sku": f"A{char}1", "quantity": 1}]}, "items.0.sku", token),
    ]
    for method, path, body, field, auth in cases:
        reply = api.request(method, path, json_body=body, token=auth)
        assert (reply.status, reply.fields()) == (400, [field]), (method, path, body, reply.body)


def test_ordinary_text_in_any_script_and_emoji_is_accepted(api):
    user, token = api.user_with_token("ada@example.com")
    uid = user["id"]
    for text in [
        "Zoë Ñúñez",
        "李小龍",
        "Ελένη",
        "محمد",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "नमस्ते",
        "👨\u200d👩\u200d👧 family",
        "👍🏽 ok",
    ]:
        assert api.put(f"/users/{uid}", json_body={"name": text}, token=token).body["name"] == text
        reply = api.post(f"/users/{uid}/todos", json_body={"title": text, "description": f"{text}\n\tline two\r\n"}, token=token)
        assert reply.status == 201 and reply.body["title"] == text, reply.body
    assert api.post(f"/users/{uid}/todos", json_body={"title": "a\nb"}, token=token).fields() == ["title"]
    assert api.post(f"/users/{uid}/todos", json_body={"title": "\u200dstart"}, token=token).fields() == [
        "title"
    ]  # a joiner joining nothing


@pytest.mark.parametrize(
    ("agent", "stored"),
    [
        ("evil\x1b[31mred\x07", "evil[31mred"),
        ("Mozilla\u202egnp.exe", "Mozillagnp.exe"),
        ("a\u200bb\u2028c\u2066d\u2069", "abcd"),
        ("Café/1.0 日本", "Café/1.0 日本"),
        ("x" * 1000, "x" * 256),
    ],
)
def test_user_agents_are_stored_without_control_or_format_characters_and_bounded(api, stack, agent, stored):
    api.sign_up("ada@example.com")
    reply = api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}, headers={"User-Agent": agent})
    assert reply.status == 201
    (item,) = stack.scan("sessions")
    assert item["userAgent"] == stored
    assert api.get("/sessions", token=reply.body["token"]).body["items"][0]["userAgent"] == stored
