"""GET /sessions, DELETE /sessions/{sessionId}, DELETE /sessions: the caller's devices and forced log-out."""

from __future__ import annotations

from todo_app.tokens import token_hash


def _login(api, email, agent):
    reply = api.post("/sessions", json_body={"email": email, "password": "correct horse"}, headers={"User-Agent": agent})
    assert reply.status == 201, reply.body
    return reply.body["token"]


def test_list_my_sessions(api):
    api.sign_up("ada@example.com")
    phone = _login(api, "ada@example.com", "phone/1.0")
    laptop = _login(api, "ada@example.com", "laptop/2.0")
    _, other = api.user_with_token("grace@example.com")
    reply = api.get("/sessions", token=laptop)
    assert reply.status == 200
    items = reply.body["items"]
    assert [i["userAgent"] for i in items] == ["laptop/2.0", "phone/1.0"]  # newest first
    assert [i["current"] for i in items] == [True, False]
    for item in items:
        assert set(item) == {"sessionId", "createdAt", "expiresAt", "userAgent", "sourceIp", "current"}
        assert item["sourceIp"] == "127.0.0.1" and item["expiresAt"].endswith("Z")
        assert item["sessionId"] not in (phone, laptop, token_hash(phone), token_hash(laptop))
    assert [i["current"] for i in api.get("/sessions", token=phone).body["items"]] == [False, True]
    assert len(api.get("/sessions", token=other).body["items"]) == 1


def test_revoke_one_session_refuses_its_token_at_once(api):
    api.sign_up("ada@example.com")
    phone = _login(api, "ada@example.com", "phone")
    laptop = _login(api, "ada@example.com", "laptop")
    phone_id = next(i["sessionId"] for i in api.get("/sessions", token=laptop).body["items"] if i["userAgent"] == "phone")
    assert api.delete(f"/sessions/{phone_id}", token=laptop).status == 204
    assert api.get("/users", token=phone).status == 403
    assert api.get("/users", token=laptop).status == 200
    assert api.delete(f"/sessions/{phone_id}", token=laptop).status == 404
    assert [i["userAgent"] for i in api.get("/sessions", token=laptop).body["items"]] == ["laptop"]


def test_someone_elses_session_is_404_and_untouched(api):
    api.sign_up("ada@example.com")
    ada = _login(api, "ada@example.com", "ada")
    _, grace = api.user_with_token("grace@example.com")
    grace_id = api.get("/sessions", token=grace).body["items"][0]["sessionId"]
    reply = api.delete(f"/sessions/{grace_id}", token=ada)
    assert (reply.status, reply.error["code"]) == (404, "not_found")
    assert api.delete("/sessions/not-a-session", token=ada).status == 404
    assert api.get("/users", token=grace).status == 200


def test_log_out_everywhere(api):
    api.sign_up("ada@example.com")
    tokens = [_login(api, "ada@example.com", f"device {n}") for n in range(3)]
    _, grace = api.user_with_token("grace@example.com")
    assert api.delete("/sessions", token=tokens[0]).status == 204
    for token in tokens:
        assert api.get("/users", token=token).status == 403
    assert api.get("/users", token=grace).status == 200


def test_log_out_current_still_wins_over_the_session_id_route(api):
    _, token = api.user_with_token("ada@example.com")
    assert api.delete("/sessions/current", token=token).status == 204
    assert api.get("/users", token=token).status == 403
