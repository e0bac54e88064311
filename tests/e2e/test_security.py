"""Over HTTP through the local runtime: a deletion racing log-ins, the gateway-level security headers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from e2e_support import signed_up

from client import ApiError

ROUNDS = 4
PARALLEL_LOG_INS = 8


def test_no_token_outlives_a_deletion_that_races_log_ins(runtime):
    """8 log-ins in parallel with DELETE /users/{id}, several rounds: whatever each log-in answered,
    no token of the deleted user works once the DELETE has answered 204."""
    for _ in range(ROUNDS):
        owner = signed_up(runtime)

        def log_in(email: str, password: str) -> str | None:
            client = runtime.client()
            try:
                client.log_in(email, password)
            except ApiError as error:
                assert error.status in (401, 429), error
                return None
            return client.token

        with ThreadPoolExecutor(PARALLEL_LOG_INS + 1) as pool:
            logins = [pool.submit(log_in, owner.email, owner.password) for _ in range(PARALLEL_LOG_INS)]
            deletion = pool.submit(owner.delete_user)
            tokens = [t for t in (f.result() for f in logins) if t]
            deletion.result()
        for token in [owner.token, *tokens]:
            probe = runtime.client()
            probe.token = token
            for call, args in ((probe.list_users, ()), (probe.create_order, ("1.00", "EUR")), (probe.list_sessions, ())):
                try:
                    call(*args)
                except ApiError as error:
                    assert error.status == 403, error
                else:
                    raise AssertionError(f"a token of the deleted user still works: {call.__name__}")


def test_responses_are_nosniff_and_no_store_over_http(runtime, user):
    import urllib.request

    request = urllib.request.Request(runtime.url + "/users", headers={"Authorization": f"Bearer {user.token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_openapi_document_is_served(runtime):
    import json
    import urllib.request

    from todo_app.openapi import render

    with urllib.request.urlopen(runtime.url + "/openapi.json", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.read()) == json.loads(render())


def test_the_client_lists_and_revokes_sessions(runtime, user):
    other_device = runtime.client()
    other_device.log_in(user.email, user.password)
    sessions = user.list_sessions()["items"]
    assert len(sessions) == 2 and [s["current"] for s in sessions].count(True) == 1
    theirs = next(s["sessionId"] for s in sessions if not s["current"])
    user.revoke_session(theirs)
    try:
        other_device.list_sessions()
    except ApiError as error:
        assert error.status == 403
    else:
        raise AssertionError("a revoked session still works")
    token = user.token
    user.log_out_everywhere()
    assert user.token is None
    user.token = token
    try:
        user.list_sessions()
    except ApiError as error:
        assert error.status == 403
    else:
        raise AssertionError("log out everywhere left this session working")
