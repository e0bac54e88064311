"""client.Client retries once on 503, and on 504 only where repeating is safe: against a tiny local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from client import ApiError, Client, retryable


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next status of `script` (200 with {"n": count} once it runs out)."""

    daemon_threads = True

    def __init__(self, script: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script, self.seen = list(script), []


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path))
        status = self.server.script.pop(0) if self.server.script else 200
        body = json.dumps({"n": len(self.server.seen)} if status == 200 else {"message": "Service Unavailable"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    servers = []

    def start(*script: int) -> tuple[Scripted, Client]:
        httpd = Scripted(list(script))
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return httpd, Client(f"http://127.0.0.1:{httpd.server_address[1]}", retry_wait=0.05, timeout=5)

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def test_a_503_is_retried_once_after_a_wait(server):
    httpd, client = server(503)
    assert client.health() == {"n": 2}
    assert client.retries == 1 and len(httpd.seen) == 2


def test_a_second_503_is_the_answer(server):
    httpd, client = server(503, 503, 503)
    with pytest.raises(ApiError) as failed:
        client.health()
    assert failed.value.status == 503 and len(httpd.seen) == 2


@pytest.mark.parametrize(("method", "path"), [("GET", "/todos/t1"), ("PUT", "/todos/t1"), ("DELETE", "/todos/t1")])
def test_a_504_is_retried_for_methods_safe_to_repeat(server, method, path):
    httpd, client = server(504)
    assert client.request(method, path, body={"title": "x"} if method == "PUT" else None) == {"n": 2}
    assert httpd.seen == [(method, path)] * 2


def test_a_504_on_a_post_is_retried_only_with_an_idempotency_key(server):
    httpd, client = server(504, 504)
    with pytest.raises(ApiError) as failed:
        client.request("POST", "/users/u1/todos", body={"title": "x"})
    assert failed.value.status == 504 and len(httpd.seen) == 1  # it may have happened: not sent again
    assert client.request("POST", "/orders", body={"amount": "1.00"}, headers={"Idempotency-Key": "k1"}) == {"n": 3}
    assert len(httpd.seen) == 3


def test_other_failures_are_not_retried(server):
    httpd, client = server(500, 404)
    with pytest.raises(ApiError):
        client.health()
    assert len(httpd.seen) == 1 and client.retries == 0


def test_retryable():
    assert retryable("POST", 503) and retryable("get", 504) and retryable("POST", 504, {"idempotency-key": "k"})
    assert not retryable("POST", 504) and not retryable("GET", 500) and not retryable("GET", 429)
