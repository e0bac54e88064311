"""The local server's HTTP edge, over a real socket: malformed requests get JSON 4xx, never HTML or a 500,
and a body that never arrives times out instead of holding the connection."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import time

import pytest
from test_gateway_inprocess import FakeFunctions

from local.gateway import Gateway, GatewayServer
from local.http_server import BackgroundServer, respond


@pytest.fixture
def server():
    functions = FakeFunctions(health={"statusCode": 200, "body": "{}"}, users={"statusCode": 201, "body": "{}"})
    started = GatewayServer(Gateway(functions, log=lambda line: None), "127.0.0.1", 0, log=lambda line: None, body_timeout=1.0)
    started.start()
    yield started
    started.stop()


def exchange(server, raw: bytes, timeout: float = 10) -> tuple[int, dict, bytes, float]:
    """Send raw bytes, read the whole answer (the server closes after an error); (status, headers, body, seconds)."""
    host, port = server.socket.getsockname()[:2]
    began = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(raw)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(lines[0].split()[1]), headers, body, time.monotonic() - began


def assert_json_error(status, headers, body, expected):
    assert status == expected, (status, body)
    assert headers["content-type"] == "application/json", headers
    assert set(json.loads(body)) == {"message"}, body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400),
        (b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 400),
        (b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
        (b"TRACE /health HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"FROBNICATE /health HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        (b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"\x16\x03\x01\x02\x00 garbage request line\r\n\r\n", 400),
    ],
    ids=["content-length-abc", "content-length-negative", "bad-chunk-size", "trace", "unknown-method", "64k-request-line", "garbage"],
)
def test_malformed_requests_get_a_json_4xx(server, raw, expected):
    assert_json_error(*exchange(server, raw)[:3], expected)


def test_a_body_shorter_than_its_content_length_times_out(server):
    status, headers, body, seconds = exchange(server, b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
    assert_json_error(status, headers, body, 408)
    assert seconds < 5


def test_a_trickled_body_times_out_as_a_whole(server):
    host, port = server.socket.getsockname()[:2]
    began = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        answer = b""
        for _ in range(40):  # one byte every 0.1 s: each read is quick, the whole body is not
            try:
                conn.sendall(b" ")
            except OSError:
                break
            conn.settimeout(0.1)
            try:
                answer += conn.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - began < 3


def test_well_formed_requests_still_work(server):
    status, _, body, _ = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body) == (200, b"{}")
    status, _, body, _ = exchange(
        server, b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    )
    assert status == 201


def test_a_nul_byte_in_the_path_is_a_json_400(server):
    for path in (b"/users/a%00b", b"/health%00", b"/%00"):
        assert_json_error(*exchange(server, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")[:3], 400)
    assert server.gateway.functions.calls == []  # answered before any function


def test_an_expect_100_continue_body_is_answered_once(server):
    host, port = server.socket.getsockname()[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"POST /users HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.count(b"100 Continue") == 1, received
    assert b"HTTP/1.1 201 " in received and received.endswith(b"\r\n\r\n{}"), received


def test_an_oversized_content_length_is_a_json_413(server):
    assert_json_error(*exchange(server, b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n")[:3], 413)


def test_back_to_back_requests_on_a_kept_alive_connection_run_at_handler_speed(server):
    """No delayed-ACK stall between requests on one connection: the answer leaves in one write, TCP_NODELAY on.

    With the headers and the body in two writes and Nagle's algorithm on, each request after the first
    waited ~40 ms for the client's delayed ACK; the stand-in function answers at once."""
    host, port = server.socket.getsockname()[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.connect()
    first_socket = connection.sock
    timings = []
    try:
        for _ in range(50):
            began = time.perf_counter()
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"{}")
            timings.append(time.perf_counter() - began)
            assert connection.sock is first_socket  # kept alive: the same connection every time
        connection.request("POST", "/users", body=b"{}", headers={"Content-Type": "application/json"})
        assert connection.getresponse().read() == b"{}"
    finally:
        connection.close()
    median = statistics.median(timings)
    print(f"\n50 sequential keep-alive GET /health: median {median * 1000:.2f} ms per request")
    assert median < 0.02, f"median {median * 1000:.1f} ms: a delayed-ACK stall (~40 ms) is back"


def test_an_error_closes_the_connection_and_a_success_keeps_it(server):
    _, headers, _, _ = exchange(server, b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert headers["connection"] == "close"
    status, headers, _, _ = exchange(server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200 and "connection" not in headers


def test_a_response_header_http_cannot_carry_is_a_json_500_not_a_dropped_connection():
    functions = FakeFunctions(health={"statusCode": 200, "headers": {"x-name": "caf\u00e9 \u2615"}, "body": "{}"})
    started = GatewayServer(Gateway(functions, log=lambda line: None), "127.0.0.1", 0, log=lambda line: None)
    started.start()
    try:
        assert_json_error(*exchange(started, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")[:3], 500)
    finally:
        started.stop()


def test_a_chunked_body_of_several_megabytes_arrives_whole():
    seen = []
    functions = FakeFunctions(users=lambda event: seen.append(len(event["body"])) or {"statusCode": 201, "body": "{}"})
    started = GatewayServer(Gateway(functions, log=lambda line: None), "127.0.0.1", 0, log=lambda line: None)
    started.start()
    try:
        payload = b"x" * (3 * 1024 * 1024 + 17)
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[i : i + 700_000] for i in range(0, len(payload), 700_000))
        )
        raw = b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
        status, _, body, _ = exchange(started, raw)
        assert (status, body, seen) == (201, b"{}", [len(payload)])
    finally:
        started.stop()


def test_a_crashing_application_gets_a_json_500_and_the_server_carries_on():
    def crash(environ, start_response):
        if environ["PATH_INFO"] == "/crash":
            raise RuntimeError("a bug")
        return respond(start_response, 200, [("content-type", "text/plain")], b"ok")

    logged = []
    started = BackgroundServer(crash, "127.0.0.1", 0, log=logged.append)
    started.start()
    try:
        assert_json_error(*exchange(started, b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")[:3], 500)
        assert exchange(started, b"GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[::2] == (200, b"ok")
        assert logged == ["  server error: RuntimeError('a bug')"]
    finally:
        started.stop()


def test_header_bytes_reach_the_function_decoded_as_utf8():
    """As API Gateway passes them (Python's HTTP server reads header bytes as Latin-1): "é" stays "é"."""
    functions = FakeFunctions(health=lambda event: {"statusCode": 200, "body": json.dumps(event["requestContext"]["http"]["userAgent"])})
    started = GatewayServer(Gateway(functions, log=lambda line: None), "127.0.0.1", 0, log=lambda line: None)
    started.start()
    try:
        agent = "Café/1.0 \u202eevil \u65e5\u672c".encode()
        status, _, body, _ = exchange(
            started, b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: " + agent + b"\r\nConnection: close\r\n\r\n"
        )
        assert (status, json.loads(body)) == (200, agent.decode())
        status, _, body, _ = exchange(started, b"GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: a\xffb\r\nConnection: close\r\n\r\n")
        assert (status, json.loads(body)) == (200, "a\ufffdb")  # not UTF-8: replaced, never a 500
    finally:
        started.stop()
