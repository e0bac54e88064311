"""Warm Lambda containers, in-process: one per catalog function, imported once, one invocation at a time.

On AWS each concurrent invocation gets its own container, and a container runs one invocation at a time
(the handlers keep one PostgreSQL connection per container, which relies on that). Locally each function
has exactly ONE container: invocations of the same function wait for each other on a lock, invocations
of different functions run in parallel. The module is imported on the first invocation (a cold start,
logged with its duration) and kept for the life of the runtime, as a warm container would be.

Containers share one process, so each function gets its OWN copy of the `todo_app` package: its module
state (the PostgreSQL connection in `todo_app.db`, the boto3 clients, caches) belongs to that function
alone, as in separate containers; otherwise two functions running at once would share one connection
and one could run its statements inside the other's transaction. The copy is made by importing the
handler with every `todo_app.*` entry taken out of `sys.modules`, then putting the shared entries back
(the runtime's own `todo_app.catalog` stays the shared one). Third-party modules (Powertools, boto3,
psycopg) stay shared: their global state (the Logger's appended keys, the pending EMF metrics, the
cold-start flag) is shared by the functions, which only affects log and metric lines. A `todo_app`
import executed inside a function body at call time would resolve to the shared copy; the handlers
import at module level.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from todo_app.catalog import FUNCTIONS, FunctionSpec

from .events import LambdaContext

PACKAGE = "todo_app"
Handler = Callable[[dict[str, Any], LambdaContext], Any]


class Invoker(Protocol):
    """What the gateway and the poller need: invoke a catalog function by name. `Containers` is one; a test
    can stand in its own."""

    def invoke(self, name: str, event: dict[str, Any]) -> Any: ...


_IMPORT_LOCK = threading.Lock()  # sys.modules is swapped while one function imports


def _package_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items() if name == PACKAGE or name.startswith(PACKAGE + ".")}


def import_isolated(module_name: str) -> ModuleType:
    """Import `module_name` with a private copy of the `todo_app` package; sys.modules is left as it was."""
    with _IMPORT_LOCK:
        shared = _package_modules()
        for name in shared:
            del sys.modules[name]
        try:
            importlib.invalidate_caches()
            return importlib.import_module(module_name)
        finally:
            for name in _package_modules():
                del sys.modules[name]
            sys.modules.update(shared)


class FunctionError(Exception):
    """The handler raised, could not be imported, or ran past its timeout: what Lambda reports as a function error.
    `error_type` is Lambda's errorType: the exception's class name, Runtime.ImportModuleError or Sandbox.Timedout."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function, self.error_type, self.message = function, error_type, message


@dataclass
class WarmContainer:
    """One function's container: its handler, imported on first use and kept, run one invocation at a time."""

    spec: FunctionSpec
    physical_name: str
    memory_mb: int
    log: Callable[[str], None] = print
    _handler: Handler | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    invocations: int = 0

    @property
    def handler(self) -> Handler:
        """The handler function, imported (a cold start, logged with its duration) on first use."""
        if self._handler is None:
            started = time.monotonic()
            module_name, _, attribute = self.spec.handler.rpartition(".")
            self._handler = getattr(import_isolated(module_name), attribute)
            self.log(f"  cold start {self.spec.name} ({self.spec.handler}) {(time.monotonic() - started) * 1000:.0f}ms")
        return self._handler

    def new_context(self) -> LambdaContext:
        """The context object of one invocation: this container's name and memory, the function's timeout."""
        return LambdaContext(function_name=self.physical_name, memory_limit_in_mb=self.memory_mb, timeout_seconds=self.spec.timeout)

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler with a fresh LambdaContext; any failure becomes a FunctionError (logged with its traceback)."""
        with self._lock:
            # Both catches below are the Lambda runtime's boundary: whatever the function's code raises is
            # reported as a function error, never raised into the caller (the gateway or the poller).
            try:
                handler = self.handler
            except Exception as error:  # Runtime.ImportModuleError on Lambda; the next invocation tries again
                self.log(f"  {self.spec.name}: init error\n{traceback.format_exc().rstrip()}")
                raise FunctionError(self.spec.name, "Runtime.ImportModuleError", str(error)) from error
            context = self.new_context()
            self.invocations += 1
            started = time.monotonic()
            try:
                result = handler(event, context)
            except Exception as error:
                self.log(f"  {self.spec.name}: unhandled {type(error).__name__}\n{traceback.format_exc().rstrip()}")
                raise FunctionError(self.spec.name, type(error).__name__, str(error)) from error
            elapsed = time.monotonic() - started
            if elapsed > self.spec.timeout:
                # A thread cannot be stopped; report it as Lambda would have: the invocation failed.
                self.log(f"  {self.spec.name}: Task timed out after {elapsed:.2f} seconds (timeout {self.spec.timeout} s)")
                raise FunctionError(self.spec.name, "Sandbox.Timedout", f"Task timed out after {elapsed:.2f} seconds")
            return result


class Containers:
    """One warm container for every catalog function, by catalog name."""

    def __init__(self, prefix: str, memory: Callable[[FunctionSpec], int], log: Callable[[str], None] = print) -> None:
        self._containers = {
            name: WarmContainer(spec, physical_name=f"{prefix}-{name}", memory_mb=memory(spec), log=log) for name, spec in FUNCTIONS.items()
        }

    def __getitem__(self, name: str) -> WarmContainer:
        return self._containers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self._containers[name].invoke(event)
