"""The simulated users of `python -m client load`, as a Locust user class (this module imports locust).

Imported only where Locust runs: the load runner's process (client/load_runner.py) and each worker
(`locust --worker -f client/load_users.py --master-host HOST`). Never import it from the client library or a
test's own process: `import locust` monkey-patches the standard library.

Each user signs up its own account (POST /users), logs in (POST /sessions) and creates a first todo; then it
runs the bench's request mix (bench/prices.json), one task per route of the mix weighted by its share: read,
list, create and update todos, its profile, the dashboard, and place an order with an Idempotency-Key,
following it (GET /orders/{orderId}, 404 until the worker stored it) until stored; now and then it logs out
and in again. Every request is named by its route template (`GET /todos/{todoId}`). When it stops (the run's
end, or Ctrl-C) it deletes its account with requests Locust does not measure.

Status codes per route and the accounts created and deleted are counted in STATUSES and ACCOUNTS; workers
send them to the master with their stats reports.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import gevent
import requests
from locust import HttpUser, between, events

from client.load import ACCOUNT_NAME, JOURNEY_OPERATIONS, ORDER_FOLLOW_SECONDS, SESSION_SHARE, THINK_SECONDS, route_plan

ROUTES = route_plan()
TAG = os.environ.get("TODO_LOAD_TAG") or uuid.uuid4().hex[:10]  # in every account's e-mail; the runner sets it
KEPT_TODOS = 50  # ids a user remembers to read and update
ORDER_POLL_SECONDS = 0.5

STATUSES: defaultdict[str, Counter[str]] = defaultdict(Counter)  # route -> status code -> count (0: no answer)
ACCOUNTS: Counter[str] = Counter()  # created, deleted, left
PROBLEMS: Counter[str] = Counter()  # what went wrong outside the measured requests (account clean-up)


@events.request.add_listener
def _count_status(name: str, response: Any = None, **_: Any) -> None:
    STATUSES[name][str(getattr(response, "status_code", 0) or 0)] += 1


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any]) -> None:
    data["todo_load"] = {"statuses": {k: dict(v) for k, v in STATUSES.items()}, "accounts": dict(ACCOUNTS), "problems": dict(PROBLEMS)}
    STATUSES.clear()
    ACCOUNTS.clear()
    PROBLEMS.clear()


@events.worker_report.add_listener
def _merge_counts(client_id: str, data: dict[str, Any]) -> None:
    part = data.get("todo_load") or {}
    for name, by_status in part.get("statuses", {}).items():
        STATUSES[name].update(by_status)
    ACCOUNTS.update(part.get("accounts", {}))
    PROBLEMS.update(part.get("problems", {}))


class ApiUser(HttpUser):
    """One person using the application through its API; LoadUser below adds the weighted tasks."""

    abstract = True
    wait_time = between(*THINK_SECONDS)

    def on_start(self) -> None:
        self.email = f"load-{TAG}-{uuid.uuid4().hex[:12]}@example.com"
        self.password = f"load-{uuid.uuid4().hex}"
        self.user_id: str | None = None
        self.token: str | None = None
        self.todos: list[str] = []
        self.signed_up = False
        self.ready()

    # ------------------------------------------------------------------ helpers
    def call(self, operation: str, *, auth: bool = True, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """One measured request to a declared route, named by its route template; `params` fill its path."""
        route = ROUTES[operation]
        sent = dict(headers or {})
        if auth and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        path = route.url(**kwargs.pop("params", {}))
        return self.client.request(route.method, path, name=route.name, headers=sent, params=kwargs.pop("query", None), **kwargs)

    def ready(self) -> bool:
        """Signed up, logged in and with a todo: the first task of a user whose start failed (a 429, a 5xx) tries again."""
        if not self.signed_up:
            body = {"name": ACCOUNT_NAME, "email": self.email, "password": self.password}
            response = self.call("create_user", auth=False, json=body)
            if response.status_code != 201:
                return False
            self.signed_up, self.user_id = True, response.json()["id"]
            ACCOUNTS["created"] += 1
        if self.token is None and not self.log_in():
            return False
        if not self.todos:
            self.create_todo()
        return bool(self.todos)

    def log_in(self) -> bool:
        response = self.call("log_in", auth=False, json={"email": self.email, "password": self.password})
        if response.status_code != 201 and response.status_code != 200:
            return False
        session = response.json()
        self.token, self.user_id = session["token"], session["userId"]
        return True

    def me(self) -> dict[str, str]:
        return {"userId": self.user_id or ""}

    # ------------------------------------------------------------------ journeys, one per route of the mix
    def read_todo(self) -> None:
        self.call("get_todo", params={"todoId": random.choice(self.todos)})

    def list_todos(self) -> None:
        self.call("list_todos", params=self.me(), query={"limit": 20})

    def profile(self) -> None:
        self.call("get_user", params=self.me())

    def dashboard(self) -> None:
        self.call("get_dashboard", params=self.me())

    def create_todo(self) -> None:
        response = self.call("create_todo", params=self.me(), json={"title": f"load {random.randrange(10**6)}", "priority": "medium"})
        if response.status_code == 201:
            self.todos = [response.json()["id"], *self.todos][:KEPT_TODOS]

    def update_todo(self) -> None:
        self.call("update_todo", params={"todoId": random.choice(self.todos)}, json={"status": random.choice(("open", "done"))})

    def place_order(self) -> None:
        """POST /orders with an Idempotency-Key, then GET /orders/{orderId} until the worker has stored it."""
        body = {"amount": f"{random.randrange(100, 10000) / 100:.2f}", "currency": "EUR", "items": [{"sku": "LOAD-1", "quantity": 1}]}
        response = self.call("create_order", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 202:
            return
        order_id = response.json()["orderId"]
        deadline = gevent.get_hub().loop.now() + ORDER_FOLLOW_SECONDS
        while True:
            with self.call("get_order", params={"orderId": order_id}, catch_response=True) as poll:
                if poll.status_code == 200:
                    poll.success()
                    return
                if poll.status_code != 404:
                    poll.failure(f"HTTP {poll.status_code}")
                    return
                if gevent.get_hub().loop.now() >= deadline:
                    poll.failure(f"order not stored within {ORDER_FOLLOW_SECONDS:g} s")
                    return
                poll.success()  # 404: not stored yet, as expected
            gevent.sleep(ORDER_POLL_SECONDS)

    def new_session(self) -> None:
        """Log out, then in again."""
        self.call("log_out")
        self.token = None
        self.log_in()

    # ------------------------------------------------------------------ clean-up, not measured
    def on_stop(self) -> None:
        if not self.signed_up and not self.token:
            # a user stopped during its sign-up may have been created without seeing the answer: log in to find out
            if not self._unmeasured_log_in():
                return
            ACCOUNTS["created"] += 1
        elif self.token is None and not self._unmeasured_log_in():
            ACCOUNTS["left"] += 1
            PROBLEMS["could not log in to delete the account"] += 1
            return
        route = ROUTES["delete_user"]
        try:
            response = requests.delete(
                f"{self.host}{route.url(**self.me())}", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
            )
            deleted = response.status_code in (200, 204)
        except requests.RequestException as error:
            deleted, response = False, None
            PROBLEMS[f"account deletion: {type(error).__name__}"] += 1
        if deleted:
            ACCOUNTS["deleted"] += 1
        else:
            ACCOUNTS["left"] += 1
            if response is not None:
                PROBLEMS[f"account deletion: HTTP {response.status_code}"] += 1

    def _unmeasured_log_in(self) -> bool:
        route = ROUTES["log_in"]
        try:
            response = requests.post(f"{self.host}{route.url()}", json={"email": self.email, "password": self.password}, timeout=30)
        except requests.RequestException:
            return False
        if response.status_code not in (200, 201):
            return False
        session = response.json()
        self.token, self.user_id = session["token"], session["userId"]
        return True


def _task(journey: Callable[[ApiUser], None]) -> Callable[[ApiUser], None]:
    """A task runs its journey once the user is ready (signed up, logged in, with a todo)."""

    def run(user: ApiUser) -> None:
        if user.ready():
            journey(user)

    run.__name__ = journey.__name__
    return run


# the journey of each route of the mix, by the route's operation name in the declaration
JOURNEYS: dict[str, Callable[[ApiUser], None]] = {
    "get_todo": ApiUser.read_todo,
    "list_todos": ApiUser.list_todos,
    "get_user": ApiUser.profile,
    "get_dashboard": ApiUser.dashboard,
    "create_todo": ApiUser.create_todo,
    "update_todo": ApiUser.update_todo,
    "create_order": ApiUser.place_order,
}


def _weights() -> dict[Callable[[ApiUser], None], int]:
    mixed = {name: route for name, route in ROUTES.items() if route.share > 0}
    missing = sorted(route.name for name, route in mixed.items() if name not in JOURNEYS)
    if missing:
        raise ValueError(f"the request mix has routes the load test has no journey for: {', '.join(missing)}")
    assert set(JOURNEYS) <= JOURNEY_OPERATIONS
    weights = {_task(JOURNEYS[name]): max(1, round(route.share * 1000)) for name, route in mixed.items()}
    weights[_task(ApiUser.new_session)] = max(1, round(SESSION_SHARE * 1000))
    return weights


# Locust turns the {task: weight} dict into its task list when the class is made
LoadUser = type("LoadUser", (ApiUser,), {"tasks": _weights(), "__module__": __name__, "__doc__": "ApiUser with the request mix's weights."})
