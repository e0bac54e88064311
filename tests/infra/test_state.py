"""Refactoring the program must not replace what a deployed stack already manages.

`deployed/<stack>.urns` lists every resource URN the program registered before its tiers were split
(one DatabaseTier owned the tables, PostgreSQL and the migration; each tier owned its functions), as
the mocks compose URNs. A resource whose URN changes is, to Pulumi, a new resource plus a deleted one:
a table would lose its data, and a function or log group with the same physical name would fail to
create. So every former URN must still be registered, or be an alias of a registered resource:
its own `Alias(parent=...)`, or one inherited from an aliased ancestor.

Issue 17 removed some resources on purpose (`REMOVED`): the RDS instance, its parameter group and the
RDS Proxy became an Aurora Serverless v2 cluster (new resources; the data moves by a restore, see the
README's runbook), the Secrets Manager interface endpoint went with its security group and rules, and the
alarms, the alarm key and the dashboard that nobody receives or asked for. Those, and only those, may be
missing; anything else lost still fails.
"""

from __future__ import annotations

import dataclasses
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
    """Every URN under which Pulumi would recognise this resource: its own, each of its aliases' (a former type, a
    former parent, or both in one alias), and its own type under each identity of its parent (which the engine
    derives from the parent's aliases)."""
    found = {resource.urn}
    parents = identities(ev, by_urn[resource.parent], by_urn) if resource.parent in by_urn else {resource.parent}
    found |= {_mock_urn(ev.stack, parent, resource.type, resource.name) for parent in parents if parent != resource.parent}
    for typ, parent in resource.aliases:
        for former_parent in [parent] if parent else parents:
            found.add(_mock_urn(ev.stack, former_parent, typ or resource.type, resource.name))
    return found


def known_urns(ev: Evaluation) -> set[str]:
    by_urn = {r.urn: r for r in ev.resources}
    return set().union(*(identities(ev, r, by_urn) for r in ev.resources))


def former_urns(stack: str) -> set[str]:
    return set((DEPLOYED / f"{stack}.urns").read_text().split())


_DB = "todo:database:DatabaseTier"
_NET = "todo:network:Network"
_OBS = "todo:observability:Observability"
# (parent type, type, name) -> why it is gone; the stack is filled in per stack
_REMOVED_IN_BOTH: dict[tuple[str, str, str], str] = {
    (_DB, "aws:rds/instance:Instance", "database-users"): "RDS instance replaced by the Aurora Serverless v2 cluster",
    (_DB, "aws:rds/parameterGroup:ParameterGroup", "database-users"): "an instance parameter group; Aurora takes a cluster one",
    (_NET, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-secretsmanager"): "no function in the VPC reads a secret (IAM auth)",
    (_NET, "aws:ec2/securityGroup:SecurityGroup", "network-endpoints"): "the interface endpoint's group, gone with it",
    (_NET, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "network-endpoints-from-functions"): "the endpoint's rule",
    (_NET, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "network-functions-to-endpoints"): "the endpoint's rule",
    (_NET, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "network-db-from-proxy"): "no RDS Proxy any more",
    (_NET, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "network-proxy-to-db"): "no RDS Proxy any more",
    (_OBS, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-cpu"): "an instance metric; Aurora's capacity alarm replaces it",
    (_OBS, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-free-storage"): "Aurora storage grows by itself: nothing to alarm on",
}
_REMOVED_IN_PRODUCTION: dict[tuple[str, str, str], str] = {
    (_DB, "aws:rds/proxy:Proxy", "database-users"): "no RDS Proxy: it bills 8 ACUs minimum and cannot be used with auto-pause",
    (_DB, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "database-users"): "the proxy's",
    (_DB, "aws:rds/proxyTarget:ProxyTarget", "database-users"): "the proxy's",
    (_DB, "aws:iam/role:Role", "database-proxy"): "the proxy's role",
    (_DB, "aws:iam/rolePolicy:RolePolicy", "database-proxy"): "the proxy's policy (it read the master secret)",
}


def _staging_unreceived_alarms() -> dict[tuple[str, str, str], str]:
    """Staging has no alarm e-mail and deploys at once: none of its alarms reaches anyone, so none is kept,
    and the topic's own key (needed only for CloudWatch to publish) and the unasked dashboard go too."""
    why = "staging: no alarmEmail and no gradual deployment, nobody receives it"
    removed = {
        (_OBS, "aws:cloudwatch/metricAlarm:MetricAlarm", urn.rsplit("::", 1)[1]): why
        for urn in former_urns("staging")
        if "$aws:cloudwatch/metricAlarm:MetricAlarm::" in urn
    }
    removed[(_OBS, "aws:kms/key:Key", "observability-alarms")] = "staging: no alarm publishes to the topic (alias/aws/sns)"
    removed[(_OBS, "aws:cloudwatch/dashboard:Dashboard", "observability-dashboard")] = "staging: dashboard false"
    return removed


def removed_on_purpose(stack: str) -> dict[str, str]:
    """URN -> why, as the deployed stack named them (under the former parents)."""
    removed = dict(_REMOVED_IN_BOTH)
    if stack == "production":
        removed |= _REMOVED_IN_PRODUCTION
    else:
        removed |= _staging_unreceived_alarms()
    return {f"urn:pulumi:{stack}::todo-platform::{parent}${typ}::{name}": why for (parent, typ, name), why in removed.items()}


def test_every_deployed_resource_keeps_its_identity_except_those_removed_on_purpose(stack):
    # components carry no cloud resource: losing one only drops an entry from the state
    lost = {urn for urn in former_urns(stack.stack) - known_urns(stack) if not urn.rsplit("$", 1)[-1].startswith("todo:")}
    expected = removed_on_purpose(stack.stack)
    unexpected = lost - set(expected)
    assert not unexpected, "these would be replaced:\n  " + "\n  ".join(sorted(unexpected))
    # and each listed removal really was deployed and really is gone (the list cannot go stale)
    assert set(expected) <= former_urns(stack.stack)
    assert lost == set(expected)


def test_the_removals_are_exactly_the_database_network_and_unreceived_monitoring(stack):
    removed = removed_on_purpose(stack.stack)
    types = {urn.split("::")[2].split("$")[-1] for urn in removed}
    allowed = {
        "aws:rds/instance:Instance",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    }
    if stack.stack == "production":
        allowed |= {
            "aws:rds/proxy:Proxy",
            "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
            "aws:rds/proxyTarget:ProxyTarget",
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
        }
        # production keeps every alarm but the two instance ones, its key and its dashboard
        assert {urn.rsplit("::", 1)[1] for urn in removed if "metricAlarm" in urn} == {"db-cpu", "db-free-storage"}
    else:
        allowed |= {"aws:kms/key:Key", "aws:cloudwatch/dashboard:Dashboard"}
    assert types == allowed
    # the data stays: no table, no subnet group (its URN is kept), no function, no log group among them
    assert not [urn for urn in removed if any(t in urn for t in ("dynamodb", "subnetGroup", "lambda/", "logGroup"))]


def test_the_stateful_resources_were_moved_by_alias(stack):
    """The tables and the database's subnet group moved to new components; they are found through their aliases."""
    current = {r.urn for r in stack.resources}
    moved = {
        urn for urn in former_urns(stack.stack) - current if "aws:dynamodb/table:Table" in urn or "aws:rds/subnetGroup:SubnetGroup" in urn
    }
    assert len(moved) == 5  # four tables and the subnet group
    assert moved <= known_urns(stack)


def test_the_check_fails_without_the_aliases(stack):
    """Proof that the check can fail: the same resources, aliases dropped, lose the moved ones."""
    stripped = [Resource(r.type, r.name, r.urn, r.inputs, r.outputs, parent=r.parent) for r in stack.resources]
    bare = dataclasses.replace(stack, resources=stripped)  # the same evaluation (and runtime) with other resources
    lost = former_urns(stack.stack) - known_urns(bare)
    assert any("aws:dynamodb/table:Table::todos" in urn for urn in lost)
    with pytest.raises(AssertionError):
        assert not lost


# --------------------------------------------------------------------------- the package's type tokens

# `deployed/<stack>-v0.3.urns`: every URN the program registered under 0.3 (issue 17's layout), when each
# component's type token was todo-platform's own (`todo:api:ApiTier`); the tokens are now the package's
# (`serverless:api:ApiTier`), which changes the URN of every component and of every resource under one.


def v03_urns(stack: str) -> set[str]:
    return set((DEPLOYED / f"{stack}-v0.3.urns").read_text().split())


def test_the_components_use_the_package_tokens(stack):
    components = {r.type for r in stack.resources if not r.type.startswith(("aws:", "pulumi:", "pulumi-python:", "random:"))}
    assert components and all(t.startswith("serverless:") for t in components), components


def test_a_stack_deployed_with_0_3_keeps_every_resource(stack):
    """Nothing registered under the todo: tokens is lost: each is the same resource under its new URN, found
    through its component's `Alias(type_=<former token>)` (components included)."""
    before = v03_urns(stack.stack)
    current = {r.urn for r in stack.resources}
    assert before - current == {urn for urn in before if "todo:" in urn}  # every URN under a component changed
    assert len(before - current) == len(before) - 1  # all but the dependency layer's (a child of the stack)
    lost = before - known_urns(stack)
    assert not lost, "these would be replaced:\n  " + "\n  ".join(sorted(lost))


def test_the_token_check_fails_without_the_aliases(stack):
    """Proof that the check can fail: the same resources, aliases dropped, lose every resource under a renamed component."""
    stripped = [Resource(r.type, r.name, r.urn, r.inputs, r.outputs, parent=r.parent) for r in stack.resources]
    bare = Evaluation(stack.stack, stack.program, stripped, {}, {}, [], 0.0, stack._context)
    lost = v03_urns(stack.stack) - known_urns(bare)
    assert f"urn:pulumi:{stack.stack}::todo-platform::todo:api:ApiTier$aws:apigatewayv2/api:Api::api-http" in lost
    assert f"urn:pulumi:{stack.stack}::todo-platform::todo:database:DynamoTables$aws:dynamodb/table:Table::todos" in lost
    assert f"urn:pulumi:{stack.stack}::todo-platform::pulumi:pulumi:Stack$todo:compute:LambdaFunction::users" in lost
