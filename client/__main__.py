"""`python -m client demo [--outputs PATH | --stack NAME]`: a walk through the whole application.
`python -m client load ...`: a load test (client/load.py; `python -m client load --help`).

Health, sign up, log in, todos (create, list, update), the dashboard, an order followed until the
worker has stored it, log out. Prints each step; exits 0 when every step worked, 1 (naming the step and
the API's error) when one did not, 2 when the client cannot be set up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from . import ApiError, Client, ConfigurationError, load


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def demo(client: Client, order_timeout: float = 60, out: Callable[[str], None] = print) -> None:
    started = time.monotonic()
    step_no = 0

    def step(title: str, call: Callable[[], Any], show: Callable[[Any], str] = _short) -> Any:
        nonlocal step_no
        step_no += 1
        began = time.monotonic()
        try:
            result = call()
        except ApiError as error:
            out(
                f"{step_no:2}. {title}: FAILED {error.status} {error.code}: {error.message} {_short(error.details) if error.details else ''}"
            )
            raise
        out(f"{step_no:2}. {title} ({(time.monotonic() - began) * 1000:.0f} ms): {show(result)}")
        return result

    out(f"API {client.api_url}")
    step("health", client.health)
    suffix = uuid.uuid4().hex[:8]
    email, password = f"demo-{suffix}@example.com", f"demo-password-{suffix}"
    user = step(f"sign up {email}", lambda: client.sign_up("Demo User", email, password, age=36))
    step("log in", lambda: client.log_in(email, password), lambda s: f"token {s['token'][:6]}..., expires {s['expiresAt']}")
    step("my profile", lambda: client.get_user(user["id"]))
    first = step("create todo 'buy milk'", lambda: client.create_todo(client.user_id, "buy milk", priority="high", due_date="2030-01-31"))
    step("create todo 'write the report'", lambda: client.create_todo(client.user_id, "write the report", description="quarterly"))
    step(
        "list my todos",
        lambda: client.list_todos(),
        lambda page: f"{len(page['items'])} todos: " + ", ".join(t["title"] for t in page["items"]),
    )
    step("mark 'buy milk' done", lambda: client.update_todo(first["id"], status="done"), lambda t: f"{t['title']}: {t['status']}")
    step("list open todos", lambda: client.list_todos(status="open"), lambda page: ", ".join(t["title"] for t in page["items"]) or "none")
    order = step(
        "place an order of 12.50 EUR",
        lambda: client.create_order("12.50", "EUR", [{"sku": "PEN-1", "quantity": 2}], idempotency_key=f"demo-{suffix}"),
    )
    stored = step(
        f"wait for the worker to store order {order['orderId']}", lambda: client.wait_for_order(order["orderId"], timeout=order_timeout)
    )
    if isinstance(stored, dict) and stored.get("status") == "PENDING":
        raise ApiError(0, "unexpected", f"the stored order is still PENDING: {stored}")
    step("dashboard", lambda: client.dashboard())
    step("log out", client.log_out, lambda _: "token discarded")
    try:
        client.get_user(user["id"])
    except ApiError as error:
        out(f"{step_no + 1:2}. the old token is refused: {error.status} {error.message}")
    else:
        raise ApiError(0, "unexpected", "the token still works after logging out")
    out(f"demo finished in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m client", description="todo-platform client")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("demo", help="walk through the whole application and print what happens")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--outputs", default=".local/outputs.json", help="a stack outputs file (default .local/outputs.json)")
    source.add_argument("--stack", help="read the outputs of this Pulumi stack (needs the Pulumi CLI)")
    run.add_argument("--order-timeout", type=float, default=60, help="seconds to wait for the worker to store the order (default 60)")
    load_parser = commands.add_parser(
        "load",
        help="load-test a stack's API with simulated users (Locust) and report per route",
        description="Load-test a stack's API with simulated users (Locust as a library): each signs up, logs in and runs the "
        "bench's request mix (todos, profile, dashboard, orders followed until stored), every request named by its route "
        "template; report.json, report.html and a table per route. Exit 0: every SLO met (or none given); 1: an SLO "
        "breached; 2: the run could not start; 130: interrupted. The accounts it creates are deleted at the end.",
        epilog="Throttling: a stack's HTTP API throttles at apiThrottleRateLimit requests/s, burst apiThrottleBurstLimit "
        "(Pulumi.<stack>.yaml; staging 50/100, production 1000/2000); a load beyond them measures 429s, and the report says "
        "so. Figures against the local runtime (python -m local) are this machine's, not a deployed stack's.",
    )
    load.add_arguments(load_parser)
    args = parser.parse_args(argv)
    if args.command == "load":
        return load.run(args)
    try:
        client = Client.from_stack(args.stack) if args.stack else Client.from_outputs(args.outputs)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        demo(client, order_timeout=args.order_timeout)
    except ApiError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
