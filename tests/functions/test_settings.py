"""Settings from the environment: a missing or invalid one is an error naming the variable, never a silent default."""

import pytest

from todo_app import aws, catalog, db
from todo_app.handlers import sessions


def _connect() -> None:
    db.connection()


@pytest.mark.parametrize(
    ("variable", "value", "use"),
    [
        ("SESSION_TTL_SECONDS", None, sessions.session_ttl),
        ("SESSION_TTL_SECONDS", "0", sessions.session_ttl),
        ("SESSION_TTL_SECONDS", "one day", sessions.session_ttl),
        ("DB_PORT", None, _connect),
        ("DB_PORT", "five", _connect),
        ("DB_SSLMODE", None, _connect),
        ("DB_SSLMODE", "required", _connect),
        ("DB_HOST", None, _connect),
        ("DB_NAME", "", _connect),
        ("DB_USER", None, _connect),
        ("DB_AUTH", "secret", _connect),
        ("DB_PASSWORD", None, _connect),
        ("DB_CONNECT_TIMEOUT", "0", _connect),
        ("DB_IDLE_TIMEOUT", None, _connect),
        (catalog.TABLES["todos"].env, None, lambda: aws.table_name("todos")),
        (catalog.ORDERS_QUEUE.queue_url_env, "", aws.queue_url),
    ],
)
def test_a_missing_or_invalid_setting_is_an_error_naming_it(stack, monkeypatch, variable, value, use):
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError, match=variable):
        use()


def test_log_in_without_a_session_lifetime_fails_instead_of_assuming_one(api, stack, monkeypatch):
    api.sign_up("ada@example.com")
    monkeypatch.delenv("SESSION_TTL_SECONDS")
    reply = api.post("/sessions", json_body={"email": "ada@example.com", "password": "correct horse"})
    assert reply.status == 500 and reply.error["code"] == "internal_error"
    assert stack.scan("sessions") == []
