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

SnapStart mode (`snapstart=True`, `python -m local --snapstart`): each container runs the SnapStart
runtime hooks its function registered during init (`snapshot_restore_py`), as Lambda does for a
published version: the before-snapshot hooks right after the init, the after-restore hooks before the
first invocation. The registry is shared by every function's copy of `todo_app`, so each container
takes the hooks its own import added (imports are serialised by a lock).
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

import snapshot_restore_py

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


Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]  # snapshot_restore_py's (function, args, kwargs)


@dataclass(frozen=True)
class RuntimeHooks:
    """The SnapStart hooks one function's init registered."""

    before_snapshot: list[Hook] = field(default_factory=list)
    after_restore: list[Hook] = field(default_factory=list)


def import_isolated(module_name: str) -> ModuleType:
    """Import `module_name` with a private copy of the `todo_app` package; sys.modules is left as it was."""
    return import_with_hooks(module_name)[0]


def import_with_hooks(module_name: str) -> tuple[ModuleType, RuntimeHooks]:
    """`import_isolated`, and the SnapStart hooks that this import registered."""
    with _IMPORT_LOCK:
        before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
        known = len(before), len(after)
        shared = _package_modules()
        for name in shared:
            del sys.modules[name]
        try:
            importlib.invalidate_caches()
            module = importlib.import_module(module_name)
            return module, RuntimeHooks(list(before[known[0] :]), list(after[known[1] :]))
        finally:
            for name in _package_modules():
                del sys.modules[name]
            sys.modules.update(shared)


def run_hooks(hooks: list[Hook]) -> int:
    """Run hooks in the order they were registered, as the Lambda runtime does; returns how many ran."""
    for function, args, kwargs in hooks:
        function(*args, **kwargs)
    return len(hooks)


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
    snapstart: bool = False  # run the SnapStart hooks: before-snapshot after init, after-restore before the first invocation
    _handler: Handler | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _restore_hooks: list[Hook] | None = None  # after-restore hooks still to run (SnapStart mode)
    invocations: int = 0

    @property
    def handler(self) -> Handler:
        """The handler function, imported (a cold start, logged with its duration) on first use."""
        if self._handler is None:
            started = time.monotonic()
            module_name, _, attribute = self.spec.handler.rpartition(".")
            module, hooks = import_with_hooks(module_name)
            handler = getattr(module, attribute)
            self.log(f"  cold start {self.spec.name} ({self.spec.handler}) {(time.monotonic() - started) * 1000:.0f}ms")
            if self.snapstart:
                # as Lambda does once the init of a published version is done; a failing hook fails the init
                ran = run_hooks(hooks.before_snapshot)
                self.log(f"  snapstart {self.spec.name}: snapshot taken after {ran} before-snapshot hooks")
                self._restore_hooks = hooks.after_restore
            self._handler = handler
        return self._handler

    def _restore(self) -> None:
        """Before the first invocation after the snapshot: the after-restore hooks (SnapStart mode)."""
        if self._restore_hooks is None:
            return
        hooks, self._restore_hooks = self._restore_hooks, None
        ran = run_hooks(hooks)
        self.log(f"  snapstart {self.spec.name}: restored, {ran} after-restore hooks ran")

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
            try:
                self._restore()
            except Exception as error:  # a failed restore fails the invocation, as on Lambda
                self.log(f"  {self.spec.name}: after-restore hook failed\n{traceback.format_exc().rstrip()}")
                raise FunctionError(self.spec.name, "Runtime.AfterRestoreError", str(error)) from error
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

    def __init__(
        self, prefix: str, memory: Callable[[FunctionSpec], int], log: Callable[[str], None] = print, *, snapstart: bool = False
    ) -> None:
        self._containers = {
            name: WarmContainer(spec, physical_name=f"{prefix}-{name}", memory_mb=memory(spec), log=log, snapstart=snapstart)
            for name, spec in FUNCTIONS.items()
        }

    def __getitem__(self, name: str) -> WarmContainer:
        return self._containers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self._containers[name].invoke(event)
