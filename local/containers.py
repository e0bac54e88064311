"""Lambda execution environments, in-process: up to a configured number per catalog function.

On AWS each concurrent invocation gets its own execution environment, and an environment runs one invocation at
a time (the handlers keep one PostgreSQL connection per environment, which relies on that). Locally each
function has a pool of up to `concurrency` environments (`python -m local --concurrency N`, default
DEFAULT_CONCURRENCY, never more than the function's reserved concurrency in the stack the runtime mirrors: see
`Containers`): an invocation takes an idle environment, starts a new one when all are busy and the pool is not
full (a cold start: the handler's module imported afresh, logged with its duration), or waits for one to be
free, as an invocation beyond the reserved concurrency would be throttled (here it queues instead of failing).
Environments are kept for the life of the runtime, as warm ones would be.

Environments share one process, so each environment gets its OWN copy of the `todo_app` package: its module
state (the PostgreSQL connection in `todo_app.db`, the boto3 clients, caches) belongs to that environment
alone, as in separate containers; otherwise two invocations running at once would share one connection and
one could run its statements inside the other's transaction. The copy is made by importing the handler with
every `todo_app.*` entry taken out of `sys.modules`, then putting the shared entries back (the runtime's own
`todo_app.catalog` stays the shared one). What stays shared between environments, of one function or of
several: third-party modules (Powertools, boto3, psycopg) and their global state (the Logger's appended keys,
the pending EMF metrics, the cold-start flag), which only affects log and metric lines; the process's
environment variables, which the runtime sets once and nothing changes afterwards; the SnapStart hook registry
(each environment takes the hooks its own import added). Safe because no function keeps request state in
them. A `todo_app` import executed inside a function body at call time would resolve to the shared copy; the
handlers import at module level. Python's GIL means environments overlap where a handler waits (PostgreSQL,
the AWS emulator, scrypt's hashing, which releases the GIL), not in pure-Python work.

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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import snapshot_restore_py

from todo_app.catalog import FUNCTIONS, FunctionSpec

from .events import LambdaContext

PACKAGE = "todo_app"
DEFAULT_CONCURRENCY = 4  # environments per function unless `python -m local --concurrency` says otherwise
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
    """One execution environment of a function: its handler, imported on first use and kept, run one invocation at
    a time."""

    spec: FunctionSpec
    physical_name: str
    memory_mb: int
    log: Callable[[str], None] = print
    snapstart: bool = False  # run the SnapStart hooks: before-snapshot after init, after-restore before the first invocation
    number: int = 1  # which of its function's environments this is (1, 2, ...), in its log lines
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
            which = f" #{self.number}" if self.number > 1 else ""
            self.log(f"  cold start {self.spec.name}{which} ({self.spec.handler}) {(time.monotonic() - started) * 1000:.0f}ms")
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


class FunctionEnvironments:
    """One function's pool: up to `limit` WarmContainers (execution environments), each running one invocation at a
    time; a new one is started only when every started one is busy."""

    def __init__(self, make: Callable[[int], WarmContainer], limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a function needs at least one environment, got {limit}")
        self._make, self.limit = make, limit
        self.environments: list[WarmContainer] = []
        self._idle: deque[WarmContainer] = deque()
        self._free = threading.Condition()

    def _acquire(self) -> WarmContainer:
        with self._free:
            while True:
                if self._idle:
                    return self._idle.pop()  # the most recently used: warm, as Lambda prefers
                if len(self.environments) < self.limit:
                    environment = self._make(len(self.environments) + 1)
                    self.environments.append(environment)
                    return environment
                self._free.wait()

    def _release(self, environment: WarmContainer) -> None:
        with self._free:
            self._idle.append(environment)
            self._free.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        environment = self._acquire()
        try:
            return environment.invoke(event)
        finally:
            self._release(environment)

    @property
    def first(self) -> WarmContainer:
        """The first environment, started if none is (the benchmarks call its handler directly)."""
        with self._free:
            if not self.environments:
                environment = self._make(len(self.environments) + 1)
                self.environments.append(environment)
                self._idle.append(environment)
            return self.environments[0]

    @property
    def handler(self) -> Handler:
        return self.first.handler

    def new_context(self) -> LambdaContext:
        return self.first.new_context()

    @property
    def invocations(self) -> int:
        return sum(environment.invocations for environment in self.environments)


class Containers:
    """The execution environments of every catalog function, by catalog name: up to `concurrency` each, capped by
    `limits` (a function's reserved concurrency; None or a negative value: no cap beyond `concurrency`)."""

    def __init__(
        self,
        prefix: str,
        memory: Callable[[FunctionSpec], int],
        log: Callable[[str], None] = print,
        *,
        snapstart: bool = False,
        concurrency: int = 1,
        limits: Callable[[FunctionSpec], int | None] | None = None,
    ) -> None:
        def limit(spec: FunctionSpec) -> int:
            cap = limits(spec) if limits else None
            return concurrency if cap is None or cap < 0 else max(1, min(concurrency, cap))

        def maker(spec: FunctionSpec) -> Callable[[int], WarmContainer]:
            return lambda number: WarmContainer(
                spec, physical_name=f"{prefix}-{spec.name}", memory_mb=memory(spec), log=log, snapstart=snapstart, number=number
            )

        self._functions = {name: FunctionEnvironments(maker(spec), limit(spec)) for name, spec in FUNCTIONS.items()}

    def __getitem__(self, name: str) -> FunctionEnvironments:
        return self._functions[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self._functions[name].invoke(event)
