"""GET /health's two PostgreSQL modes, and the status item every new connection records (todo_app.dependency_status)."""

import psycopg
import pytest

from local.system import free_port
from todo_app import db


@pytest.fixture
def last_known(stack, monkeypatch):
    """DB_HEALTH last-known (a database that pauses), with any PostgreSQL connection attempt counted."""
    monkeypatch.setenv("DB_HEALTH", "last-known")
    attempts = []
    real_connect = psycopg.connect
    monkeypatch.setattr(psycopg, "connect", lambda *a, **k: attempts.append(k) or real_connect(*a, **k))
    return attempts


def status_item(stack) -> dict:
    [item] = stack.scan("dependencyStatus")
    return item


def test_connect_mode_checks_with_a_connection(api, stack):
    reply = api.get("/health")
    assert reply.status == 200 and reply.body == {"status": "ok", "checks": {"postgres": "ok", "dynamodb": "ok"}}
    assert status_item(stack)["state"] == "ok"


def test_last_known_reports_the_recorded_state_and_never_connects(api, stack, last_known):
    reply = api.get("/health")
    assert reply.status == 200
    assert reply.body == {
        "status": "ok",
        "checks": {"postgres": "unknown", "dynamodb": "ok"},
        "lastKnown": {"postgres": {"state": "unknown", "at": None}},
    }

    api.sign_up("ada@example.com")  # a SQL route opens a connection: its outcome is recorded
    assert len(last_known) == 1
    seen = status_item(stack)
    assert seen["state"] == "ok" and seen["at"].endswith("Z")
    reply = api.get("/health")
    assert reply.status == 200
    assert reply.body["checks"] == {"postgres": "ok", "dynamodb": "ok"}
    assert reply.body["lastKnown"] == {"postgres": {"state": "ok", "at": seen["at"]}}
    assert len(last_known) == 1  # health opened nothing


def test_a_failed_connection_is_recorded_and_health_reports_it(api, stack, last_known, monkeypatch):
    monkeypatch.setenv("DB_PORT", str(free_port()))  # nothing listens there
    db.reset()
    reply = api.post("/users", json_body={"name": "A", "email": "a@example.com", "password": "correct horse"})
    assert reply.status == 503
    assert status_item(stack)["state"] == "unavailable"
    attempts = len(last_known)
    health = api.get("/health")
    assert health.status == 503 and health.body["checks"] == {"postgres": "unavailable", "dynamodb": "ok"}
    assert health.body["lastKnown"]["postgres"]["state"] == "unavailable"
    assert health.body["error"]["details"] == [{"check": "postgres", "message": "postgres is unavailable"}]
    assert len(last_known) == attempts


def test_failing_to_record_never_fails_the_request(api, stack, monkeypatch):
    monkeypatch.setenv("STATUS_TABLE", "no-such-table")
    db.reset()
    assert api.post("/users", json_body={"name": "A", "email": "a@example.com", "password": "correct horse"}).status == 201
    assert stack.client("dynamodb").scan(TableName="fntest-dependencyStatus")["Items"] == []
