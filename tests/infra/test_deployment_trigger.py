"""The deployment trigger's logic (`components.deployment.AliasDeployer`), against stubbed AWS clients.

botocore's Stubber answers each expected call with a canned response and fails on any other call, and
checks every request's parameters, so these tests prove exactly which Lambda and CodeDeploy calls a
deploy makes. No request leaves the process.
"""

from __future__ import annotations

import json
import typing

import boto3
import pytest
from botocore.stub import Stubber

from components import deployment
from components.deployment import (
    AliasDeployer,
    AliasDeploymentProvider,
    DeploymentRolledBack,
    DeploymentTimedOut,
    Release,
    appspec,
    plan,
    timeout_for,
    versions_to_delete,
)

RELEASE = Release(
    application="todo-platform-production",
    deployment_group="todo-platform-production-users",
    function="todo-platform-production-users",
    alias="live",
    target_version="8",
)


def _client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def clients():
    lambda_client, codedeploy = _client("lambda"), _client("codedeploy")
    with Stubber(lambda_client) as lambda_stub, Stubber(codedeploy) as codedeploy_stub:
        yield lambda_client, lambda_stub, codedeploy, codedeploy_stub
        # every expected call was made, and no other
        lambda_stub.assert_no_pending_responses()
        codedeploy_stub.assert_no_pending_responses()


def _alias_serves(stub: Stubber, version: str) -> None:
    stub.add_response(
        "get_alias",
        {"AliasArn": "arn:aws:lambda:us-east-1:123456789012:function:f:live", "Name": "live", "FunctionVersion": version},
        {"FunctionName": RELEASE.function, "Name": "live"},
    )


def _deployer(lambda_client, codedeploy, **kwargs) -> AliasDeployer:
    sleeps: list[float] = []
    deployer = AliasDeployer(lambda_client, codedeploy, poll_seconds=5, sleep=sleeps.append, **kwargs)
    deployer.sleeps = sleeps  # type: ignore[attr-defined]
    return deployer


def _expect_deployment(stub: Stubber, current: str, statuses: list[dict]) -> None:
    stub.add_response(
        "create_deployment",
        {"deploymentId": "d-CANARY123"},
        {
            "applicationName": RELEASE.application,
            "deploymentGroupName": RELEASE.deployment_group,
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(RELEASE, current)}},
            "description": f"{RELEASE.function}:live version {current} -> 8",
        },
    )
    for info in statuses:
        stub.add_response("get_deployment", {"deploymentInfo": info}, {"deploymentId": "d-CANARY123"})


def _versions(*numbers: str) -> list[dict]:
    return [{"Version": v, "FunctionName": RELEASE.function} for v in numbers]


def _expect_listing(stub: Stubber, pages: list[list[str]], aliases: list[dict]) -> None:
    """list_versions_by_function in `pages` (Marker / NextMarker), then list_aliases in one page."""
    for i, page in enumerate(pages):
        response: dict = {"Versions": _versions(*page)}
        if i + 1 < len(pages):
            response["NextMarker"] = f"page-{i + 1}"
        params = {"FunctionName": RELEASE.function, **({"Marker": f"page-{i}"} if i else {})}
        stub.add_response("list_versions_by_function", response, params)
    stub.add_response("list_aliases", {"Aliases": aliases}, {"FunctionName": RELEASE.function})


def _live(version: str, **extra) -> dict:
    return {
        "AliasArn": f"arn:aws:lambda:us-east-1:123456789012:function:f:{extra.get('Name', 'live')}",
        "Name": "live",
        "FunctionVersion": version,
        **extra,
    }


def _expect_deleted(stub: Stubber, *versions: str) -> None:
    for version in versions:
        stub.add_response("delete_function", {}, {"FunctionName": RELEASE.function, "Qualifier": version})


# --------------------------------------------------------------------------- the plan


def test_plan_covers_the_four_cases():
    assert plan(None, "3", "3").action == "nothing"  # first deploy, the alias already there
    assert plan(None, "3", "4").action == "point-alias"  # first deploy: nothing to shift traffic from
    assert plan("4", "4", "4").action == "nothing"  # unchanged version
    step = plan("3", "3", "4")  # changed version
    assert (step.action, step.current_version, step.target_version) == ("codedeploy", "3", "4")


def test_the_appspec_names_the_alias_and_both_versions():
    spec = json.loads(appspec(RELEASE, "7"))
    assert spec["version"] == 0.0
    (resource,) = spec["Resources"]
    assert resource[RELEASE.function] == {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Name": RELEASE.function, "Alias": "live", "CurrentVersion": "7", "TargetVersion": "8"},
    }


# --------------------------------------------------------------------------- deploys


def test_first_deploy_points_the_alias_without_codedeploy(clients):
    lambda_client, lambda_stub, codedeploy, _ = clients
    _alias_serves(lambda_stub, "1")
    lambda_stub.add_response(
        "update_alias", {"Name": "live", "FunctionVersion": "8"}, {"FunctionName": RELEASE.function, "Name": "live", "FunctionVersion": "8"}
    )
    # then the superseded versions: 1 stays (the version replaced, for a rollback), the rest below 8 go
    _expect_listing(lambda_stub, [["$LATEST", "1", "5", "7", "8"]], [_live("8")])
    _expect_deleted(lambda_stub, "5", "7")
    outcome = _deployer(lambda_client, codedeploy).deploy(RELEASE, previous_target=None)
    assert (outcome.action, outcome.version, outcome.deployment_id) == ("point-alias", "8", "")


def test_an_unchanged_version_does_nothing(clients):
    lambda_client, lambda_stub, codedeploy, _ = clients
    _alias_serves(lambda_stub, "8")
    outcome = _deployer(lambda_client, codedeploy).deploy(RELEASE, previous_target="8")
    assert outcome.action == "nothing" and outcome.version == "8"


def test_a_changed_version_deploys_through_codedeploy_and_waits_for_success(clients):
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    _alias_serves(lambda_stub, "7")
    _expect_deployment(codedeploy_stub, "7", [{"status": "Created"}, {"status": "InProgress"}, {"status": "Succeeded"}])
    _expect_listing(lambda_stub, [["$LATEST", "7", "8"]], [_live("8")])  # nothing superseded beyond 7
    deployer = _deployer(lambda_client, codedeploy)
    outcome = deployer.deploy(RELEASE, previous_target="7")
    assert (outcome.action, outcome.version, outcome.deployment_id) == ("codedeploy", "8", "d-CANARY123")
    assert deployer.sleeps == [5, 5]  # polled until it ended


def test_the_current_version_is_what_the_alias_serves_not_the_last_target(clients):
    """After a rolled-back deploy of 8, the alias still serves 7: the next deploy shifts from 7."""
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    _alias_serves(lambda_stub, "7")
    _expect_deployment(codedeploy_stub, "7", [{"status": "Succeeded"}])
    _expect_listing(lambda_stub, [["6", "7", "8"]], [_live("8")])
    _expect_deleted(lambda_stub, "6")  # superseded: 7 is what the alias served, and what a rollback returns to
    assert _deployer(lambda_client, codedeploy).deploy(RELEASE, previous_target="6").deployment_id == "d-CANARY123"


@pytest.mark.parametrize("status", ["Stopped", "Failed"])
def test_a_rolled_back_deployment_fails_the_update_with_a_clear_message(clients, status):
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    _alias_serves(lambda_stub, "7")
    info = {
        "status": status,
        "errorInformation": {
            "code": "ALARM_ACTIVE",
            "message": "One or more alarms have been activated: todo-platform-production-users-errors",
        },
        "rollbackInfo": {"rollbackDeploymentId": "d-ROLLBACK9"},
    }
    _expect_deployment(codedeploy_stub, "7", [{"status": "InProgress"}, info])
    with pytest.raises(DeploymentRolledBack) as error:
        _deployer(lambda_client, codedeploy).deploy(RELEASE, previous_target="7")
    message = str(error.value)
    assert "d-CANARY123" in message and status.lower() in message
    assert "users-errors" in message  # why
    assert "rolled back (rollback deployment d-ROLLBACK9)" in message and "still serves version 7" in message


def test_a_deployment_that_never_ends_times_out(clients):
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    _alias_serves(lambda_stub, "7")
    _expect_deployment(codedeploy_stub, "7", [{"status": "InProgress"}] * 3)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    deployer = AliasDeployer(lambda_client, codedeploy, poll_seconds=10, timeout_seconds=20, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(DeploymentTimedOut, match="d-CANARY123 still InProgress after 20s"):
        deployer.deploy(RELEASE, previous_target="7")


# --------------------------------------------------------------------------- pruning superseded versions


def test_which_versions_a_deploy_supersedes():
    published = ["$LATEST", "1", "2", "3", "9", "10", "11", "12"]
    # keep the target (12) and the version it replaced (10); 3 has an alias; 11 was never deployed (rolled back)
    assert versions_to_delete(published, aliased={"3", "12"}, keep={"12", "10"}, target="12") == ["1", "2", "9", "11"]
    assert versions_to_delete(["$LATEST", "4", "5"], aliased={"5"}, keep={"5", "4"}, target="5") == []
    assert versions_to_delete(["1", "2"], aliased=set(), keep={"$LATEST"}, target="$LATEST") == []  # never around $LATEST


def test_pruning_pages_through_the_versions_and_spares_every_aliased_one(clients):
    lambda_client, lambda_stub, codedeploy, _ = clients
    _expect_listing(
        lambda_stub,
        [["$LATEST", "1", "2", "3"], ["4", "5", "6"], ["7", "8"]],
        [_live("8"), _live("2", Name="pinned"), _live("5", Name="canary", RoutingConfig={"AdditionalVersionWeights": {"4": 0.1}})],
    )
    _expect_deleted(lambda_stub, "1", "3", "6")
    lines: list[str] = []
    deployer = AliasDeployer(lambda_client, codedeploy, log=lines.append)
    assert deployer.prune_versions(RELEASE.function, target="8", previous="7") == ["1", "3", "6"]
    assert lines == [f"{RELEASE.function}: deleted superseded versions 1, 3, 6 (keeping 7 and 8)"]


def test_nothing_to_prune(clients):
    lambda_client, lambda_stub, codedeploy, _ = clients
    _expect_listing(lambda_stub, [["$LATEST", "7", "8"]], [_live("8")])
    lines: list[str] = []
    assert AliasDeployer(lambda_client, codedeploy, log=lines.append).prune_versions(RELEASE.function, target="8", previous="7") == []
    assert lines == [f"{RELEASE.function}: no superseded version to delete (keeping 7 and 8)"]


def test_a_failed_prune_is_logged_and_does_not_fail_the_deploy(clients):
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    _alias_serves(lambda_stub, "7")
    _expect_deployment(codedeploy_stub, "7", [{"status": "Succeeded"}])
    _expect_listing(lambda_stub, [["5", "6", "7", "8"]], [_live("8")])
    lambda_stub.add_client_error(
        "delete_function",
        service_error_code="ResourceConflictException",
        service_message="version 5 is in use",
        http_status_code=409,
        expected_params={"FunctionName": RELEASE.function, "Qualifier": "5"},
    )
    _expect_deleted(lambda_stub, "6")  # the next one is still tried
    lines: list[str] = []
    deployer = AliasDeployer(lambda_client, codedeploy, poll_seconds=0, sleep=lambda s: None, log=lines.append)
    outcome = deployer.deploy(RELEASE, previous_target="7")
    assert (outcome.action, outcome.version) == ("codedeploy", "8")  # the deploy stands
    assert any("could not delete version 5" in line and "version 5 is in use" in line for line in lines), lines
    assert lines[-1] == f"{RELEASE.function}: deleted superseded versions 6 (keeping 7 and 8)"


def test_a_listing_that_fails_deletes_nothing_and_does_not_fail_the_deploy(clients):
    lambda_client, lambda_stub, codedeploy, _ = clients
    _alias_serves(lambda_stub, "1")
    lambda_stub.add_response(
        "update_alias", {"Name": "live", "FunctionVersion": "8"}, {"FunctionName": RELEASE.function, "Name": "live", "FunctionVersion": "8"}
    )
    lambda_stub.add_client_error(
        "list_versions_by_function", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=403
    )
    lines: list[str] = []
    outcome = AliasDeployer(lambda_client, codedeploy, log=lines.append).deploy(RELEASE, previous_target=None)
    assert outcome.action == "point-alias" and outcome.version == "8"
    assert any("could not list versions to prune" in line and "not allowed" in line for line in lines), lines


# --------------------------------------------------------------------------- the provider's diff


def _props(**changes) -> dict:
    props = {
        "region": "us-east-1",
        "applicationName": RELEASE.application,
        "deploymentGroupName": RELEASE.deployment_group,
        "functionName": RELEASE.function,
        "aliasName": "live",
        "targetVersion": "7",
        "liveVersion": "7",
        "deploymentId": "",
    }
    return {**props, **changes}


def test_the_provider_updates_on_a_new_version_and_replaces_on_a_new_identity():
    provider = AliasDeploymentProvider()
    assert provider.diff("id", _props(), _props()).changes is False
    new_version = provider.diff("id", _props(), _props(targetVersion="8"))
    assert new_version.changes is True and new_version.replaces == []
    renamed = provider.diff("id", _props(), _props(functionName="other"))
    assert renamed.changes is True and renamed.replaces == ["functionName"]


def test_create_is_a_first_deploy_and_update_deploys_from_the_old_target(clients):
    lambda_client, lambda_stub, codedeploy, codedeploy_stub = clients
    provider = AliasDeploymentProvider(deployer=lambda props: _deployer(lambda_client, codedeploy))

    _alias_serves(lambda_stub, "8")  # create: the alias Pulumi just made already serves the target
    created = provider.create(_props(targetVersion="8", __provider="serialized"))
    assert created.id == f"{RELEASE.function}:live"
    assert created.outs["liveVersion"] == "8" and created.outs["deploymentId"] == "" and "__provider" not in created.outs

    _alias_serves(lambda_stub, "7")
    _expect_deployment(codedeploy_stub, "7", [{"status": "Succeeded"}])
    _expect_listing(lambda_stub, [["7", "8"]], [_live("8")])
    updated = provider.update(created.id, _props(targetVersion="7"), _props(targetVersion="8"))
    assert updated.outs["liveVersion"] == "8" and updated.outs["deploymentId"] == "d-CANARY123"


def test_the_provider_is_stored_by_reference_so_it_runs_the_current_code():
    """Pulumi keeps the pickled provider in the state; pickled by reference (module and class name), a later
    `pulumi up` runs this module's current code, and an edit of it does not show as a diff on every resource."""
    import base64
    import pickletools

    from pulumi.dynamic.dynamic import serialize_provider

    pickled = base64.b64decode(serialize_provider(AliasDeploymentProvider()))
    opcodes = [(op.name, arg) for op, arg, _ in pickletools.genops(pickled)]
    assert ("SHORT_BINUNICODE", "components.deployment") in opcodes and ("SHORT_BINUNICODE", "AliasDeploymentProvider") in opcodes
    assert len(pickled) < 200  # no code object inside


def test_the_wait_covers_the_whole_traffic_shift_of_the_config():
    assert timeout_for("CodeDeployDefault.LambdaCanary10Percent5Minutes") == (5 + 15) * 60
    assert timeout_for("CodeDeployDefault.LambdaLinear10PercentEvery10Minutes") == (100 + 15) * 60  # ten steps of 10 minutes
    assert timeout_for("MyCustomConfig") == 2 * 3600
    from components.config import DeploymentConfig

    assert set(typing.get_args(DeploymentConfig)) - {"none"} == set(deployment.SHIFT_MINUTES)  # every allowed config has its figure
