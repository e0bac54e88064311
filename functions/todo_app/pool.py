"""One small thread pool per container, for the independent AWS calls of one invocation.

boto3 clients are thread-safe and a call mostly waits on the network, so calls made at once wait for
about one round trip together instead of one after another. Created on first use, kept for the
container's life.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

MAX_THREADS = 10  # the worker's default batch size; more work queues for a thread
_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="aws")
    return _pool
