import json

from todo_app.tokens import token_hash


def test_sign_up_returns_the_user_without_secrets(api, stack):
    reply = api.post("/users", json_body={"name": " Ada ", "email": "Ada@Example.com", "password": "correct horse", "age": 36})
    assert reply.status == 201
    body = reply.body
    assert set(body) == {"id", "name", "email", "age", "createdAt", "updatedAt"}
    assert (body["name"], body["email"], body["age"]) == ("Ada", "Ada@Example.com", 36)
    assert body["createdAt"].endswith("Z")
    with stack.admin() as conn:
        stored = conn.execute("SELECT password_hash FROM users WHERE id = %s", (body["id"],)).fetchone()[0]
    assert stored.startswith("scrypt$") and "correct horse" not in stored


def test_sign_up_validation_names_each_field(api):
    reply = api.post("/users", json_body={"name": "", "email": "not-an-email", "password": "short", "age": "30", "role": "admin"})
    assert reply.status == 400
    assert reply.error["code"] == "invalid_input"
    assert sorted(reply.fields()) == ["age", "email", "name", "password", "role"]
    reply = api.post("/users", json_body={"email": "a@b.co", "password": "long enough", "age": 200})
    assert reply.status == 400 and sorted(reply.fields()) == ["age", "name"]


def test_malformed_json_and_wrong_shapes_are_400(api):
    for body in ('{"name": "Ada",', "[1, 2]", "", "NaN", '{"age": NaN}'):
        reply = api.post("/users", body=body, headers={"Content-Type": "application/json"})
        assert reply.status == 400, body
        assert reply.error["code"] in ("invalid_json", "invalid_input"), body
    assert api.post("/users", body="{oops").error["code"] == "invalid_json"


def test_body_over_64_kib_is_413(api):
    reply = api.post("/users", json_body={"name": "x" * (64 * 1024), "email": "a@b.co", "password": "12345678"})
    assert reply.status == 413 and reply.error["code"] == "payload_too_large"


def test_email_taken_case_insensitively_is_409(api):
    api.sign_up("ada@example.com")
    reply = api.post("/users", json_body={"name": "Other", "email": "ADA@example.COM", "password": "12345678"})
    assert reply.status == 409 and reply.error["code"] == "email_taken"
    assert reply.fields() == ["email"]


def test_log_in_and_out(api, stack):
    user = api.sign_up("ada@example.com")
    reply = api.post("/sessions", json_body={"email": "ADA@example.com", "password": "correct horse"})
    assert reply.status == 201
    assert reply.body["userId"] == user["id"] and reply.body["expiresAt"].endswith("Z")
    token = reply.body["token"]
    sessions = stack.scan("sessions")
    assert [s["tokenHash"] for s in sessions] == [token_hash(token)]  # only the hash is stored
    assert api.get(f"/users/{user['id']}", token=token).status == 200
    assert api.delete("/sessions/current", token=token).status == 204
    assert stack.scan("sessions") == []
    assert api.get(f"/users/{user['id']}", token=token).status == 403


def test_log_in_failures_are_401_without_telling_which(api):
    api.sign_up("ada@example.com")
    wrong_password = api.post("/sessions", json_body={"email": "ada@example.com", "password": "wrong password"})
    unknown = api.post("/sessions", json_body={"email": "bob@example.com", "password": "correct horse"})
    assert wrong_password.status == unknown.status == 401
    assert wrong_password.body == unknown.body
    assert api.post("/sessions", json_body={"email": "ada@example.com"}).fields() == ["password"]


def test_profile_is_self_only(api):
    ada, ada_token = api.user_with_token("ada@example.com")
    bob, bob_token = api.user_with_token("bob@example.com", name="Bob")
    assert api.get(f"/users/{ada['id']}", token=ada_token).body["name"] == "Ada"
    reply = api.get(f"/users/{ada['id']}", token=bob_token)
    assert reply.status == 403 and reply.error["code"] == "forbidden"
    assert api.put(f"/users/{ada['id']}", token=bob_token, json_body={"name": "Eve"}).status == 403
    assert api.delete(f"/users/{ada['id']}", token=bob_token).status == 403
    assert api.get(f"/users/{ada['id']}", token=ada_token).body["name"] == "Ada"


def test_update_user(api):
    ada, token = api.user_with_token("ada@example.com")
    api.sign_up("bob@example.com", name="Bob")
    path = f"/users/{ada['id']}"
    reply = api.put(path, token=token, json_body={})
    assert reply.status == 400 and "at least one" in reply.error["details"][0]["message"]
    assert api.put(path, token=token, json_body={"age": -1}).fields() == ["age"]
    assert api.put(path, token=token, json_body={"password": "x"}).fields() == ["password"]
    reply = api.put(path, token=token, json_body={"email": "BOB@example.com", "currentPassword": "correct horse"})
    assert reply.status == 409
    reply = api.put(path, token=token, json_body={"name": "Ada L.", "age": 37})
    assert reply.status == 200 and (reply.body["name"], reply.body["age"], reply.body["email"]) == ("Ada L.", 37, "ada@example.com")
    assert reply.body["updatedAt"] >= ada["updatedAt"]
    assert api.put(path, token=token, json_body={"age": None}).body["age"] is None
    assert api.get(path, token=token).body["name"] == "Ada L."


def test_user_not_found_is_404(api, stack):
    ada, token = api.user_with_token("ada@example.com")
    with stack.admin() as conn:
        conn.execute("DELETE FROM users")
    assert api.get(f"/users/{ada['id']}", token=token).status == 404
    assert api.put(f"/users/{ada['id']}", token=token, json_body={"name": "x"}).status == 404


def test_list_users_pages_through_everyone(api):
    _, token = api.user_with_token("u0@example.com")
    created = {api.sign_up(f"u{i}@example.com", name=f"U{i}")["id"] for i in range(1, 7)}
    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        reply = api.get("/users", token=token, query=query)
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= 3
        seen += [u["id"] for u in reply.body["items"]]
        pages += 1
        cursor = reply.body["nextCursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 7 and seen == sorted(seen)
    assert created < set(seen)
    assert all("password" not in json.dumps(u) for u in seen)


def test_list_users_bad_limit_and_cursor(api):
    _, token = api.user_with_token("ada@example.com")
    for query in ("limit=0", "limit=101", "limit=ten", "limit=-1"):
        reply = api.get("/users", token=token, query=query)
        assert reply.status == 400 and reply.fields() == ["limit"], query
    for cursor in ("garbage!", "eyJpZCI6IDF9", "eyJpZCI6Im5vdC1hLXV1aWQifQ"):
        reply = api.get("/users", token=token, query=f"cursor={cursor}")
        assert reply.status == 400 and reply.fields() == ["cursor"], cursor


def test_sign_up_survives_a_connection_dropped_after_its_commit(api, stack, monkeypatch):
    """db.run repeats the work on a fresh connection when a reused one drops; the sign-up must be
    safe to repeat: the first attempt's row is found again, not reported as a 500 or a false 409."""
    from todo_app import db

    api.sign_up("bob@example.com", name="Bob")  # the function's connection is now warm (a reused one is retried)
    real_run, dropped = db.run, []

    def run_dropping_the_connection_after_the_first_commit(work):
        def work_then_drop(conn):
            result = work(conn)
            if not dropped:  # autocommit: the INSERT is committed by now
                dropped.append(conn.info.backend_pid)
                with stack.admin() as admin:
                    assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (conn.info.backend_pid,)).fetchone()[0]
                conn.execute("SELECT 1")  # the client learns of the drop: OperationalError, connection broken
            return result

        return real_run(work_then_drop)

    monkeypatch.setattr(db, "run", run_dropping_the_connection_after_the_first_commit)
    reply = api.post("/users", json_body={"name": "Ada", "email": "ada@example.com", "password": "correct horse"})
    assert dropped, "the connection was not dropped"
    assert reply.status == 201, reply.body
    with stack.admin() as conn:
        assert conn.execute("SELECT id::text FROM users WHERE email = 'ada@example.com'").fetchall() == [(reply.body["id"],)]


def test_sign_up_with_a_taken_email_is_still_409_and_writes_nothing(api, stack):
    bob = api.sign_up("bob@example.com", name="Bob")
    reply = api.post("/users", json_body={"name": "Bobby", "email": "BOB@example.com", "password": "12345678"})
    assert reply.status == 409 and reply.error["code"] == "email_taken"
    with stack.admin() as conn:
        assert conn.execute("SELECT id::text, name FROM users").fetchall() == [(bob["id"], "Bob")]


# ------------------------------------------------------------------------------ password and e-mail change


def _sessions(api, token):
    return api.get("/sessions", token=token)


def test_change_password_keeps_this_session_and_revokes_the_others(api):
    ada, token = api.user_with_token("ada@example.com")
    other = api.log_in("ada@example.com")
    _, bob_token = api.user_with_token("bob@example.com")
    path = f"/users/{ada['id']}/password"
    body = {"currentPassword": "correct horse", "newPassword": "battery staple"}
    assert api.put(path, token=bob_token, json_body=body).status == 403  # someone else's
    reply = api.put(path, token=token, json_body=body)
    assert reply.status == 204, reply.body
    assert _sessions(api, token).status == 200
    assert _sessions(api, other).status in (401, 403)
    assert _sessions(api, bob_token).status == 200  # nobody else's
    assert api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"}).status == 401
    assert api.log_in("ada@example.com", "battery staple")


def test_change_password_validates_both_passwords(api):
    ada, token = api.user_with_token("ada@example.com")
    path = f"/users/{ada['id']}/password"
    assert api.put(path, token=token, json_body={"currentPassword": "correct horse", "newPassword": "short"}).fields() == ["newPassword"]
    assert api.put(path, token=token, json_body={"newPassword": "battery staple"}).fields() == ["currentPassword"]


def test_a_wrong_current_password_is_403_and_counts_as_a_failed_log_in(api):
    ada, token = api.user_with_token("ada@example.com")
    other = api.log_in("ada@example.com")
    path = f"/users/{ada['id']}/password"
    for _ in range(5):
        reply = api.put(path, token=token, json_body={"currentPassword": "wrong password", "newPassword": "battery staple"})
        assert (reply.status, reply.error["code"], reply.fields()) == (403, "wrong_password", ["currentPassword"])
    assert _sessions(api, other).status == 200  # nothing revoked
    reply = api.put(path, token=token, json_body={"currentPassword": "correct horse", "newPassword": "battery staple"})
    assert reply.status == 429 and int(reply.headers["retry-after"]) > 0
    reply = api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"})
    assert reply.status == 429  # the same count as the log-ins'


def test_changing_the_email_needs_the_current_password_and_revokes_the_other_sessions(api):
    ada, token = api.user_with_token("ada@example.com")
    other = api.log_in("ada@example.com")
    path = f"/users/{ada['id']}"
    reply = api.put(path, token=token, json_body={"email": "ada2@example.com"})
    assert (reply.status, reply.fields()) == (400, ["currentPassword"])
    reply = api.put(path, token=token, json_body={"email": "ada2@example.com", "currentPassword": "wrong password"})
    assert (reply.status, reply.error["code"]) == (403, "wrong_password")
    assert api.get(path, token=token).body["email"] == "ada@example.com"
    assert _sessions(api, other).status == 200
    reply = api.put(path, token=token, json_body={"email": "ada2@example.com", "currentPassword": "correct horse"})
    assert reply.status == 200 and reply.body["email"] == "ada2@example.com"
    assert _sessions(api, token).status == 200
    assert _sessions(api, other).status in (401, 403)
    # a name change needs no password and revokes nothing
    third = api.log_in("ada2@example.com")
    assert api.put(path, token=token, json_body={"name": "Ada L."}).status == 200
    assert _sessions(api, third).status == 200
