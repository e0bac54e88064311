"""Refactoring the program must not replace what a deployed stack already manages.

`deployed/<stack>.urns` lists every resource URN the program registered before its tiers were split
(one DatabaseTier owned the tables, PostgreSQL and the migration; each tier owned its functions), as
the mocks compose URNs. A resource whose URN changes is, to Pulumi, a new resource plus a deleted one:
a table would lose its data, and a function or log group with the same physical name would fail to
create. So every former URN must still be registered, or be an alias of a registered resource:
its own `Alias(parent=...)`, or one inherited from an aliased ancestor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .mocks import Evaluation, Resource

DEPLOYED = Path(__file__).with_name("deployed")


def _mock_urn(stack: str, parent_urn: str, typ: str, name: str) -> str:
    """How the mock monitor composes a URN: the parent's own type, then this resource's (the engine
    chains every ancestor's type; both change exactly when a parent does)."""
    parent_type = parent_urn.split("::")[2].split("$")[-1] if parent_urn else ""
    qualified = f"{parent_type}${typ}" if parent_type else typ
    return f"urn:pulumi:{stack}::todo-platform::{qualified}::{name}"


def identities(ev: Evaluation, resource: Resource, by_urn: dict[str, Resource]) -> set[str]:
    """Every URN under which Pulumi would recognise this resource."""
    found = {resource.urn}
    former_parents = list(resource.alias_parents)
    if resource.parent in by_urn:
        former_parents += [urn for urn in identities(ev, by_urn[resource.parent], by_urn) if urn != resource.parent]
    found |= {_mock_urn(ev.stack, parent, resource.type, resource.name) for parent in former_parents}
    return found


def known_urns(ev: Evaluation) -> set[str]:
    by_urn = {r.urn: r for r in ev.resources}
    return set().union(*(identities(ev, r, by_urn) for r in ev.resources))


def former_urns(stack: str) -> set[str]:
    return set((DEPLOYED / f"{stack}.urns").read_text().split())


def test_every_deployed_resource_keeps_its_identity(stack):
    # components carry no cloud resource: losing one only drops an entry from the state
    lost = {urn for urn in former_urns(stack.stack) - known_urns(stack) if not urn.rsplit("$", 1)[-1].startswith("todo:")}
    assert not lost, "these would be replaced:\n  " + "\n  ".join(sorted(lost))


def test_the_stateful_resources_were_moved_by_alias(stack):
    """The tables and the database moved to new components; they are found through their aliases."""
    current = {r.urn for r in stack.resources}
    moved = {urn for urn in former_urns(stack.stack) - current if "aws:dynamodb/table:Table" in urn or "aws:rds/instance:Instance" in urn}
    assert len(moved) == 5  # four tables and the instance
    assert moved <= known_urns(stack)


def test_the_check_fails_without_the_aliases(stack):
    """Proof that the check can fail: the same resources, aliases dropped, lose the moved ones."""
    stripped = [Resource(r.type, r.name, r.urn, r.inputs, r.outputs, parent=r.parent) for r in stack.resources]
    bare = Evaluation(stack.stack, stack.program, stripped, {}, {}, [], 0.0, stack._context)
    lost = former_urns(stack.stack) - known_urns(bare)
    assert any("aws:dynamodb/table:Table::todos" in urn for urn in lost)
    with pytest.raises(AssertionError):
        assert not lost
