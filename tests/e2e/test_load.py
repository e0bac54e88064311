"""A bounded load test: concurrent clients create todos and orders for a fixed time; nothing may be lost.

Prints the throughput; asserts nothing about speed (the runtime runs a few environments per function, as
Lambda would start them), only that no request got a 5xx and that every item created is read back.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from e2e_support import signed_up

from client import ApiError

CLIENTS = 20
SECONDS = 10
ORDER_EVERY = 3  # every third request of a client places an order
ORDER_WAIT = 90  # bound for the worker to store every accepted order


def test_concurrent_clients_lose_nothing(runtime):
    users = [signed_up(runtime) for _ in range(CLIENTS)]
    todos: dict[str, set[str]] = {u.user_id: set() for u in users}
    orders: dict[str, list[str]] = {u.user_id: [] for u in users}
    statuses: Counter = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS
    start = threading.Barrier(CLIENTS)

    def work(client, index: int) -> None:
        start.wait()
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            try:
                if n % ORDER_EVERY == 0:
                    order_id = client.create_order(f"{n}.{index % 100:02d}", "EUR", [{"sku": f"SKU-{index}", "quantity": n % 7 + 1}])[
                        "orderId"
                    ]
                    orders[client.user_id].append(order_id)
                    status = 202
                else:
                    todos[client.user_id].add(client.create_todo(None, f"load {index}/{n}")["id"])
                    status = 201
            except ApiError as error:
                status = error.status
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=work, args=(u, i)) for i, u in enumerate(users)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 60)
    elapsed = time.monotonic() - began
    total = sum(statuses.values())
    server_errors = sum(n for s, n in statuses.items() if s >= 500 or s == 0)
    created_todos = sum(len(v) for v in todos.values())
    created_orders = sum(len(v) for v in orders.values())
    print(
        f"\nload: {CLIENTS} clients, {elapsed:.1f} s, {total} requests, {total / elapsed:.0f} req/s, statuses {dict(statuses)}, "
        f"{created_todos} todos, {created_orders} orders"
    )
    assert not any(t.is_alive() for t in threads)
    assert server_errors == 0, dict(statuses)
    assert created_todos > 0 and created_orders > 0

    # nothing lost: every todo is listed, every accepted order is eventually stored by the worker
    for user in users:
        assert {t["id"] for t in user.all_todos(limit=100)} == todos[user.user_id]
    drained = time.monotonic()
    deadline = drained + ORDER_WAIT
    for user in users:
        for order_id in orders[user.user_id]:
            stored = user.wait_for_order(order_id, timeout=max(1, deadline - time.monotonic()))
            assert stored["status"] == "CONFIRMED" and stored["userId"] == user.user_id
    print(
        f"load: verified {created_todos} todos and {created_orders} orders; the worker caught up "
        f"{time.monotonic() - drained:.1f} s after the load stopped"
    )
