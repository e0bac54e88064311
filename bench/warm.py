"""2. Warm handler overhead: the API handler invoked in-process (a warm container) for GET /users/{id}
and GET /todos/{id}, against a real PostgreSQL and the emulator, with real API Gateway v2 events carrying
the authorizer's context, vs the raw psycopg query / boto3 GetItem that the handler wraps.

Candidate and baseline alternate call by call (the order flips every call); the figure is the median
in µs. The handlers' log lines go to a file (as Lambda ships stdout to CloudWatch), which also gives
the log bytes per invocation for the cost model. The seed data goes through the handlers themselves
(sign-up, log-in, create a todo), and the authorizer produces the context, as API Gateway would.

Also measured here, for the cost model only (no baseline): the median duration of every route in the
cost model's request mix, and the AWS calls each one makes.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from local.account import REGION
from local.events import authorizer_event, http_event, match_route
from todo_app.catalog import DATABASE_NAME, ENDPOINTS, TABLES, Route, path_of

from .core import Section, median, stdout_to
from .environment import PREFIX, InProcess, World
from .standin import StandIn

GOAL = 1.3
JSON = {"content-type": "application/json"}


def route_of(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The catalog route of a request and its path parameters; ValueError when there is none."""
    found = match_route(method, path)
    if found is None:
        raise ValueError(f"no route for {method} {path}")
    return found


def bearer(token: str) -> str:
    return f"Bearer {token}"


class Api:
    """Builds real events (local/events.py) and invokes handlers in-process, authorizer first."""

    def __init__(self, proc: InProcess) -> None:
        self.proc = proc

    def event(
        self, method: str, path: str, *, token: str | None = None, body: Any = None, context: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The route's function and its payload 2.0 event (with the authorizer's `context` on a protected route)."""
        route, params = route_of(method, path)
        headers = dict(JSON)
        if token:
            headers["authorization"] = bearer(token)
        payload = json.dumps(body) if body is not None else None
        return route.function, http_event(
            method,
            path,
            route=route,
            path_parameters=params,
            headers=headers,
            body=payload,
            authorizer_context=context if route.auth else None,
        )

    def authorizer_event(self, method: str, path: str, token: str) -> dict[str, Any]:
        route, params = route_of(method, path)
        return authorizer_event(
            method, path, route=route, path_parameters=params, identity=[bearer(token)], headers={"authorization": bearer(token)}
        )

    def authorize(self, method: str, path: str, token: str) -> dict[str, Any]:
        answer = self.proc.invoke("authorizer", self.authorizer_event(method, path, token))
        if not answer.get("isAuthorized"):
            raise RuntimeError(f"authorizer refused the bench token: {answer}")
        context: dict[str, Any] = answer.get("context") or {}
        return context

    def call(self, method: str, path: str, *, token: str | None = None, body: Any = None, expect: int | None = None) -> dict[str, Any]:
        context = self.authorize(method, path, token) if token else None
        function, event = self.event(method, path, token=token, body=body, context=context)
        response: dict[str, Any] = self.proc.invoke(function, event)
        if expect is not None and response.get("statusCode") != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {response.get('statusCode')}: {str(response.get('body'))[:300]}")
        return response


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response.get("body") or "{}")


def seed(api: Api) -> dict[str, str]:
    """A user, a session token and a todo, created through the handlers."""
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery staple"
    user = body_of(
        api.call("POST", path_of("create_user"), body={"name": "Bench", "email": email, "password": password, "age": 42}, expect=201)
    )
    user_id = user["id"]
    session = body_of(api.call("POST", path_of("log_in"), body={"email": email, "password": password}, expect=201))
    token = session["token"]
    todo = body_of(
        api.call(
            "POST",
            path_of("create_todo", userId=user_id),
            token=token,
            body={"title": "measure things", "description": "bench seed", "priority": "high"},
            expect=201,
        )
    )
    return {"user_id": user_id, "token": token, "todo_id": todo["id"], "email": email}


@contextmanager
def aws_call_log() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Record every AWS API call made through botocore (service, operation, parameters) while active."""
    from botocore.client import BaseClient

    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name, dict(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def level_of(line: str) -> str:
    """A log line's level as Lambda's log-level filter reads it: JSON "level", else INFO (EMF lines, plain text)."""
    try:
        value = json.loads(line)
    except ValueError:
        return "INFO"
    level = str(value.get("level", "")).upper() if isinstance(value, dict) else ""
    level = {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(level, level)
    return level if level in LEVELS else "INFO"


def log_by_level(log_path: str, offset: int, n: int) -> dict[str, dict[str, float]]:
    """What the handler wrote past `offset` in `n` invocations, per invocation by level: {"bytes", "events"}."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    out: dict[str, dict[str, float]] = {}
    for line in lines:
        if line.strip():
            found = out.setdefault(level_of(line), {"bytes": 0.0, "events": 0.0})
            found["bytes"] += len(line.encode()) / n
            found["events"] += 1 / n
    return {k: {"bytes": round(v["bytes"], 1), "events": round(v["events"], 3)} for k, v in out.items()}


WARMUP = 20


def paired(candidate: Callable[[], Any], baseline: Callable[[], Any], n: int, warmup: int = WARMUP) -> tuple[list[float], list[float]]:
    """Alternate candidate and baseline call by call (flipping the order each time); µs per call."""
    for _ in range(warmup):
        candidate()
        baseline()
    a: list[float] = []
    b: list[float] = []
    clock = time.perf_counter_ns
    for i in range(n):
        pair = ((candidate, a), (baseline, b)) if i % 2 == 0 else ((baseline, b), (candidate, a))
        for fn, out in pair:
            t = clock()
            fn()
            out.append((clock() - t) / 1000)
    return a, b


@contextmanager
def seeded(world: World, log_prefix: str) -> Iterator[tuple[InProcess, Api, dict[str, str], str]]:
    """Handlers in this process, migrated, with a user, a token and a todo created through them.

    Yields (proc, api, ids, log_path); the functions' own output goes to a temporary log file."""
    descriptor, log_path = tempfile.mkstemp(prefix=log_prefix)
    os.close(descriptor)
    proc = InProcess(world)
    try:
        with stdout_to(log_path):
            proc.migrate()
            api = Api(proc)
            yield proc, api, seed(api), log_path
    finally:
        proc.close()
        try:
            os.unlink(log_path)
        except OSError:
            pass


def run(section: Section, world: World, quick: bool, shared: dict[str, Any]) -> None:
    n = 150 if quick else 800
    with seeded(world, "bench-logs-") as (proc, api, ids, log_path):
        measure(section, world, proc, api, ids, n, log_path, shared)
        section.data["cost_mix"] = mix_durations(proc, api, ids, 40 if quick else 150, log_path, shared)


def measure(
    section: Section, world: World, proc: InProcess, api: Api, ids: dict[str, str], n: int, log_path: str, shared: dict[str, Any]
) -> None:
    import boto3
    import psycopg
    from botocore.config import Config
    from psycopg.rows import dict_row

    user_id, token, todo_id = ids["user_id"], ids["token"], ids["todo_id"]
    ctx_user = api.authorize("GET", path_of("get_user", userId=user_id), token)
    users_fn, users_event = api.event("GET", path_of("get_user", userId=user_id), token=token, context=ctx_user)
    todos_fn, todos_event = api.event("GET", path_of("get_todo", todoId=todo_id), token=token, context=ctx_user)
    users_handler, todos_handler = proc.handler(users_fn), proc.handler(todos_fn)
    users_ctx, todos_ctx = proc.context(users_fn), proc.context(todos_fn)
    for fn, event, ctx in ((users_handler, users_event, users_ctx), (todos_handler, todos_event, todos_ctx)):
        response = fn(event, ctx)
        if response.get("statusCode") != 200:
            raise RuntimeError(f"{event['routeKey']}: {response.get('statusCode')} {response.get('body')}")

    # the baselines: what the handlers wrap, with the same client settings and connection options
    secret = json.loads(world.emulator.client("secretsmanager").get_secret_value(SecretId=world.resources.secret_arn)["SecretString"])
    conn = psycopg.connect(
        host=world.postgres.host,
        port=world.postgres.port,
        dbname=DATABASE_NAME,
        user=secret["username"],
        password=secret["password"],
        sslmode="disable",
        autocommit=True,
        prepare_threshold=None,
    )
    query = "SELECT id, name, email, age, created_at, updated_at FROM users WHERE id = %s AND deleted_at IS NULL"

    def raw_query():
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, (user_id,))
            return cur.fetchone()

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=world.emulator.url,
        region_name=REGION,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}, parameter_validation=False),
    )
    todos_table = world.resources.tables[TABLES["todos"].env]

    def raw_get_item():
        return dynamodb.get_item(TableName=todos_table, Key={"userId": {"S": user_id}, "todoId": {"S": todo_id}})["Item"]

    if not (raw_query() and raw_get_item()):
        raise RuntimeError("the baselines found no seeded user or todo")
    cases = [
        ("GET /users/{userId}", lambda: users_handler(users_event, users_ctx), raw_query, "psycopg SELECT (same query)"),
        ("GET /todos/{todoId}", lambda: todos_handler(todos_event, todos_ctx), raw_get_item, "boto3 GetItem"),
    ]
    section.data["iterations"] = n
    for label, candidate, baseline, baseline_name in cases:
        with aws_call_log() as calls:
            candidate()
        size_before = os.path.getsize(log_path)
        cand, base = paired(candidate, baseline, n)
        runs = n + WARMUP  # the handler's runs in paired(), its warm-up included; only the handler logs
        log_bytes = (os.path.getsize(log_path) - size_before) / runs
        c, b = median(cand), median(base)
        section.add(
            f"{label} handler vs {baseline_name}",
            c,
            "us",
            baseline=b,
            baseline_name=baseline_name,
            goal=f"<= {GOAL}x",
            goal_ratio=GOAL,
            note=f"overhead {c - b:.0f} µs",
        )
        section.data[label] = {
            "handler_median_us": round(c, 1),
            "baseline_median_us": round(b, 1),
            "overhead_us": round(c - b, 1),
            "handler_p90_us": round(sorted(cand)[int(0.9 * n)], 1),
            "baseline_p90_us": round(sorted(base)[int(0.9 * n)], 1),
            "aws_calls_per_invocation": [label for call in calls for label in call_labels(*call)],
            "log_bytes_per_invocation": round(log_bytes),
        }
        section.data[label]["log_by_level"] = log_by_level(log_path, size_before, runs)
    section.notes.append(f"µs per call, median of {n} interleaved pairs")
    section.notes.append(
        "the handler's extra time is Powertools (event parsing, routing, logger context, metrics flush) "
        "plus response JSON; see results.json for the AWS calls each handler makes"
    )
    conn.close()


# The cost model's request mix: its route keys (prices.json's "request_mix", whose shares bench/cost.py reads),
# each called as the declaration (catalog.ENDPOINTS) has it, with a body where the route takes one.
MIX_BODIES: dict[str, Any] = {
    "POST /users/{userId}/todos": {"title": "from the cost mix", "priority": "low"},
    "PUT /todos/{todoId}": {"status": "open", "title": "measure things"},
    "POST /orders": {"amount": "12.50", "currency": "EUR", "items": [{"sku": "A1", "quantity": 1}]},
}


def mix_routes(ids: dict[str, str]) -> dict[str, tuple[str, str, Any]]:
    from .cost import load_prices

    params = {"userId": ids["user_id"], "todoId": ids["todo_id"]}
    declared = {e.route_key: e for e in ENDPOINTS}
    return {
        key: (declared[key].method, declared[key].path.format_map(params), MIX_BODIES.get(key))
        for key in load_prices()["assumptions"]["request_mix"]
    }


def call_labels(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """service:Operation[:table key][:consistent], the table key being the catalog's (the name without the
    bench's prefix); a BatchGetItem gives one label per item it reads, since each is billed as one read."""
    batch = params.get("RequestItems", {}) if operation == "BatchGetItem" else {params.get("TableName"): params}
    labels = []
    for table, request in batch.items():
        label = f"{service}:{operation}" + (":" + str(table).removeprefix(f"{PREFIX}-") if table else "")
        label += ":consistent" if request.get("ConsistentRead") else ""
        labels += [label] * (len(request.get("Keys", [])) if operation == "BatchGetItem" else 1)
    return labels


def mix_durations(proc: InProcess, api: Api, ids: dict[str, str], n: int, log_path: str, shared: dict[str, Any]) -> dict[str, Any]:
    """Each route of the cost mix, and the authorizer in front of it: its AWS calls, its log bytes by level,
    and its median duration split into its own time and the wait on AWS, answered after the service's
    round trip (bench/standin.py) rather than by the emulator. No baseline: the cost model's input."""
    invocations: dict[str, tuple[str, dict[str, Any]]] = {}
    for label, (method, path, body) in mix_routes(ids).items():
        context = api.authorize(method, path, ids["token"])
        invocations[label] = api.event(method, path, token=ids["token"], body=body, context=context)
    invocations["authorizer"] = ("authorizer", api.authorizer_event("GET", path_of("get_todo", todoId=ids["todo_id"]), ids["token"]))
    stand_in = StandIn()
    with stand_in.active():
        out = {label: profile(stand_in, proc, function, event, n, log_path) for label, (function, event) in invocations.items()}
    shared["authorizer"] = out.pop("authorizer")
    shared["mix"] = out
    return {**out, "authorizer": shared["authorizer"]}


def profile(stand_in: StandIn, proc: InProcess, function: str, event: dict[str, Any], n: int, log_path: str) -> dict[str, Any]:
    """Record the invocation's AWS answers (one real call), then time `n` with them replayed."""
    handler, context = proc.handler(function), proc.context(function)

    def invoke() -> Any:
        return handler(event, context)

    stand_in.replaying = False
    first = invoke()
    if first.get("statusCode", 200) >= 400 or first.get("isAuthorized") is False:
        return {"na": f"answered {str(first)[:300]}"}
    stand_in.replaying = True
    size_before = os.path.getsize(log_path)
    with aws_call_log() as calls:
        timings = [stand_in.time(invoke)]
    timings += [stand_in.time(invoke) for _ in range(n - 1)]
    stand_in.replaying = False
    return {
        "median_ms": round(median(t.total_ms for t in timings), 3),
        "own_ms": round(median(t.own_ms for t in timings), 3),
        "io_ms": round(median(t.io_ms for t in timings), 3),
        "aws_calls": [label for call in calls for label in call_labels(*call)],
        "log_bytes": round((os.path.getsize(log_path) - size_before) / n),
        "log_by_level": log_by_level(log_path, size_before, n),
        "response_bytes": len(first.get("body") or ""),
    }
