"""A runner that evaluates todo-platform's program for one stack under the package's mocks.

`evaluate(stack)` runs `components.program.create_stack()` under `TodoMocks` (`components.testing.AwsMocks`) with the stack's config
(Pulumi.yaml defaults overlaid with Pulumi.<stack>.yaml, set through `set_all_config`, so
`StackConfig.from_pulumi()` is the path exercised). It runs inside a fresh `contextvars.Context`: the
Pulumi runtime keeps its settings, config and root stack in context variables, so each evaluation is
isolated and both stacks run in one pytest process. The result holds every registered resource (type,
name, inputs, outputs) and the stack outputs resolved to plain values, plus a `resolve()` that awaits
any further Output inside the same runtime, so no assertion can sit in an apply that never runs.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs

from components.config import PROJECT, stack_region, stack_values
from components.testing import AwsMocks

# What the mocked RDS-managed secret would hold; no output or input may ever contain it.
MOCK_DB_PASSWORD = "mock-password-never-exported"


class TodoMocks(AwsMocks):
    """The package's mocks (components.testing), as todo-platform's tests use them."""


# --------------------------------------------------------------------------- evaluation


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    ignore_changes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)  # URNs this resource depends on
    parent: str = ""  # the parent's URN
    # the former identities it names: (type, parent URN) from each Alias(type_=..., parent=...), where a part not
    # given is "" (its current type; its current parent, itself known under its own former identities)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    protect: bool = False  # Pulumi's protect option

    @property
    def parent_types(self) -> list[str]:
        """The component types above this resource, outermost first (from the URN)."""
        qualified = self.urn.split("::")[2]
        return qualified.split("$")[:-1]


class RecordingMocks(TodoMocks):
    def __init__(self, region: str) -> None:
        super().__init__(region)
        self.registered: list[tuple[str, str, dict[str, Any]]] = []

    def new_resource(self, args: MockResourceArgs):
        self.registered.append((args.typ, args.name, dict(args.inputs)))
        return super().new_resource(args)


class RecordingMonitor(MockMonitor):
    """Also keeps the resource options the engine would see (the mocks' new_resource does not get them)."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.ignore_changes: dict[str, list[str]] = {}
        self.dependencies: dict[str, list[str]] = {}
        self.parents: dict[str, str] = {}
        self.aliases: dict[str, list[tuple[str, str]]] = {}
        self.protected: set[str] = set()

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.ignore_changes[response.urn] = list(request.ignoreChanges)
        if request.protect:
            self.protected.add(response.urn)
        self.dependencies[response.urn] = list(request.dependencies)
        self.parents[response.urn] = request.parent
        for alias in request.aliases:
            spec = alias.spec
            # the program moves resources to new parents and renames component types (same name): anything else
            # (a renamed resource, a whole URN, another stack or project, no parent) is a test gap
            if alias.urn or spec.name or spec.stack or spec.project or spec.noParent or not (spec.type or spec.parentUrn):
                raise AssertionError(f"{response.urn}: an alias the state checks do not understand: {alias}")
            self.aliases.setdefault(response.urn, []).append((spec.type, spec.parentUrn))
        return response


@dataclass
class Evaluation:
    stack: str
    program: Any  # components.program.TodoStack
    resources: list[Resource]
    outputs: dict[str, Any]
    output_secrets: dict[str, bool]
    invokes: list[str]
    seconds: float
    _context: contextvars.Context = field(repr=False)

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def named(self, typ: str, name: str) -> Resource:
        matches = [r for r in self.resources if r.type == typ and r.name == name]
        assert len(matches) == 1, f"expected one {typ} named {name}, found {len(matches)}"
        return matches[0]

    def resolve(self, value: Any) -> Any:
        """Resolve an Output (or any input) inside this evaluation's runtime and return its plain value.

        Raises if the value is unknown (an `apply` on it never runs), so a check can never pass by not running.
        """
        box: list[Any] = []

        @pulumi.runtime.test
        def wait() -> pulumi.Output[None]:
            return pulumi.Output.from_input(value).apply(box.append)

        self._context.run(wait)
        if not box:
            raise AssertionError(f"output is unknown under mocks: {value!r}")
        return box[0]

    def check(self, value: Any, assertion: Callable[[Any], None]) -> Any:
        """Resolve `value`, then run `assertion` on it; an assertion error propagates."""
        resolved = self.resolve(value)
        assertion(resolved)
        return resolved


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """The stack's config as the Pulumi CLI hands it to a program: namespaced keys, string or JSON values."""
    values = {**stack_values(stack), **(overrides or {})}
    config = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    config["aws:region"] = stack_region(stack)
    return config


def evaluate(
    stack: str,
    overrides: dict[str, Any] | None = None,
    program: Callable[[], Any] | None = None,
    mocks: type[AwsMocks] | None = None,
) -> Evaluation:
    """Run the program for `stack` (todo-platform's unless another is given) under mocks (the package's unless
    a subclass is given) in a fresh context and collect what it registered."""
    from components.program import create_stack

    run_program: Callable[[], Any] = program or create_stack
    context = contextvars.Context()
    recording = type("RecordingMocks", (RecordingMocks, mocks), {}) if mocks is not None else RecordingMocks
    recorder = recording(stack_region(stack))
    monitor = RecordingMonitor(recorder)
    holder: dict[str, Any] = {}

    def run() -> None:
        pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(stack_config(stack, overrides))

        @pulumi.runtime.test  # the public way to run a program under mocks and wait for what it returns
        def program() -> pulumi.Output[None]:
            holder["program"] = run_program()
            root = pulumi.runtime.get_root_resource()
            exported: dict[str, Any] = getattr(root, "outputs", {})  # the root Stack's exports
            keys = list(exported)
            values = [pulumi.Output.from_input(exported[key]) for key in keys]

            async def secrets() -> list[bool]:
                return [await value.is_secret() for value in values]

            def collect(resolved: list[Any]) -> None:
                holder["outputs"] = dict(zip(keys, resolved[:-1], strict=True))
                holder["secrets"] = dict(zip(keys, resolved[-1], strict=True))

            secret_flags: pulumi.Output[list[bool]] = pulumi.Output.from_input(secrets())
            return pulumi.Output.all(*values, secret_flags).apply(collect)

        program()

    started = time.perf_counter()
    context.run(run)
    seconds = time.perf_counter() - started

    registered = monitor.get_registered_resources()
    by_name: dict[tuple[str, str], dict[str, Any]] = {}
    for typ, name, inputs in recorder.registered:
        assert (typ, name) not in by_name, f"two {typ} resources named {name}: the fixture could not tell them apart"
        by_name[(typ, name)] = inputs
    resources = []
    for urn, reg in registered.items():
        typ = urn.split("::")[2].split("$")[-1]
        name = urn.split("::")[3]
        resources.append(
            Resource(
                typ,
                name,
                urn,
                by_name.get((typ, name), {}),
                {"id": reg.id, **dict(reg.state)},
                ignore_changes=monitor.ignore_changes.get(urn, []),
                dependencies=monitor.dependencies.get(urn, []),
                parent=monitor.parents.get(urn, ""),
                aliases=monitor.aliases.get(urn, []),
                protect=urn in monitor.protected,
            )
        )
    return Evaluation(
        stack=stack,
        program=holder["program"],
        resources=resources,
        outputs=holder["outputs"],
        output_secrets=holder["secrets"],
        invokes=list(recorder.calls),
        seconds=seconds,
        _context=context,
    )
