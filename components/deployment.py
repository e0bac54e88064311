"""Deploying a new function version through CodeDeploy from `pulumi up`.

CloudFormation has `CodeDeployLambdaAliasUpdate`; Pulumi has nothing like it. So the program declares an
`AliasDeployment` (a Pulumi dynamic resource) per function whose alias CodeDeploy manages, with the
function's latest published version as its `targetVersion`. When that version changes, its provider
starts a CodeDeploy deployment from the version the alias serves to the new one and waits for it: the
`pulumi up` succeeds when the new version serves all traffic, and fails, naming the deployment, when
CodeDeploy stopped it and rolled back (an alarm fired, or the deployment failed).

`AliasDeployer` is the trigger's logic, with no Pulumi in it: it takes a Lambda and a CodeDeploy client,
so the unit tests drive it with stubbed clients. What it does:
- first deploy (no previous target: the resource is being created): point the alias at the target if it
  is not there already; there is no older version to shift traffic from, so no CodeDeploy;
- the alias already serves the target version: nothing;
- otherwise: `create_deployment` with an AppSpec {Name, Alias, CurrentVersion, TargetVersion}, then poll
  `get_deployment` until it succeeds (done) or fails or stops (`DeploymentRolledBack`).

After a successful deployment (CodeDeploy, or pointing the alias) it deletes the function's superseded
published versions (`prune_versions`): every numbered version older than the new target except the one the
alias served before (kept for a rollback) and any version an alias points at (or routes traffic to). A kept
version costs its SnapStart snapshot cache and counts against the 75 GB code-storage quota until deleted;
$LATEST is never touched. Pruning is housekeeping: a failure is logged and never fails the deploy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi.dynamic
from botocore.exceptions import BotoCoreError, ClientError

# What an AWS call can raise (an error answer, or no answer): pruning logs them instead of failing a deploy.
AWS_ERRORS = (ClientError, BotoCoreError)

POLL_SECONDS = 10.0
# How long each predefined Lambda config takes to shift all traffic, in minutes; the trigger waits that
# long plus a margin for CodeDeploy to start and finish. An unknown (custom) config gets two hours.
SHIFT_MINUTES = {
    "CodeDeployDefault.LambdaAllAtOnce": 0,
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": 5,
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": 10,
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": 15,
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": 30,
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": 10,
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": 20,
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes": 30,
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": 100,
}
MARGIN_MINUTES = 15
TIMEOUT_SECONDS = 120 * 60.0


def timeout_for(deployment_config_name: str) -> float:
    """Seconds to wait for a deployment with this config before giving up on it."""
    minutes = SHIFT_MINUTES.get(deployment_config_name)
    return TIMEOUT_SECONDS if minutes is None else (minutes + MARGIN_MINUTES) * 60.0


DONE = "Succeeded"
ENDED_BADLY = ("Failed", "Stopped")


class DeploymentRolledBack(Exception):
    """CodeDeploy failed or stopped the deployment; the alias serves the version it served before."""


class DeploymentTimedOut(Exception):
    """The deployment did not end in time; it may still be running (see the CodeDeploy console)."""


@dataclass(frozen=True)
class Release:
    """Move `alias` of `function` to `target_version` through the deployment group."""

    application: str
    deployment_group: str
    function: str
    alias: str
    target_version: str


@dataclass(frozen=True)
class Plan:
    action: Literal["nothing", "point-alias", "codedeploy"]
    current_version: str
    target_version: str


@dataclass(frozen=True)
class Outcome:
    action: str
    version: str  # what the alias serves now
    deployment_id: str = ""  # the CodeDeploy deployment, when there was one


def plan(previous_target: str | None, current_version: str, target_version: str) -> Plan:
    """What to do, given the target the trigger last deployed (None: first deploy) and what the alias serves."""
    if current_version == target_version:
        return Plan("nothing", current_version, target_version)
    if previous_target is None:
        return Plan("point-alias", current_version, target_version)
    return Plan("codedeploy", current_version, target_version)


def appspec(release: Release, current_version: str) -> str:
    """The AppSpec of a Lambda deployment: shift `alias` from `current_version` to the target version."""
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    release.function: {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": release.function,
                            "Alias": release.alias,
                            "CurrentVersion": current_version,
                            "TargetVersion": release.target_version,
                        },
                    }
                }
            ],
        },
        separators=(",", ":"),
    )


def versions_to_delete(published: Iterable[str], aliased: Collection[str], keep: Collection[str], target: str) -> list[str]:
    """The published versions a successful deploy of `target` supersedes: numbered, older than the target,
    neither kept (the target and the version it replaced) nor pointed at by any alias; oldest first."""
    if not target.isdigit():
        return []
    doomed = {v for v in published if v.isdigit() and int(v) < int(target) and v not in keep and v not in aliased}
    return sorted(doomed, key=int)


class AliasDeployer:
    def __init__(
        self,
        lambda_client: Any,
        codedeploy_client: Any,
        *,
        poll_seconds: float = POLL_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._lambda, self._codedeploy = lambda_client, codedeploy_client
        self._poll, self._timeout, self._sleep, self._clock, self._log = poll_seconds, timeout_seconds, sleep, clock, log

    def current_version(self, release: Release) -> str:
        return str(self._lambda.get_alias(FunctionName=release.function, Name=release.alias)["FunctionVersion"])

    def deploy(self, release: Release, previous_target: str | None) -> Outcome:
        step = plan(previous_target, self.current_version(release), release.target_version)
        if step.action == "nothing":
            return Outcome("nothing", release.target_version)
        if step.action == "point-alias":
            self._lambda.update_alias(FunctionName=release.function, Name=release.alias, FunctionVersion=release.target_version)
            self._log(f"{release.function}:{release.alias} now serves version {release.target_version}")
            self.prune_versions(release.function, target=release.target_version, previous=step.current_version)
            return Outcome("point-alias", release.target_version)
        deployment_id = self._codedeploy.create_deployment(
            applicationName=release.application,
            deploymentGroupName=release.deployment_group,
            revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec(release, step.current_version)}},
            description=f"{release.function}:{release.alias} version {step.current_version} -> {release.target_version}",
        )["deploymentId"]
        self._log(
            f"{release.function}:{release.alias}: CodeDeploy deployment {deployment_id}, {step.current_version} -> {release.target_version}"
        )
        self._wait(release, deployment_id, step.current_version)
        self.prune_versions(release.function, target=release.target_version, previous=step.current_version)
        return Outcome("codedeploy", release.target_version, deployment_id)

    def prune_versions(self, function: str, *, target: str, previous: str) -> list[str]:
        """Delete the versions a successful deploy of `target` superseded (see `versions_to_delete`); returns
        the deleted ones. Never raises: a failure is logged, and the deploy it follows stands."""
        deleted: list[str] = []
        try:
            published = [v["Version"] for v in self._pages("list_versions_by_function", "Versions", function)]
            aliased: set[str] = set()
            for alias in self._pages("list_aliases", "Aliases", function):
                aliased.add(str(alias["FunctionVersion"]))
                aliased |= set((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})
            doomed = versions_to_delete(published, aliased, keep={target, previous}, target=target)
        except AWS_ERRORS as error:  # housekeeping must not fail a deploy that succeeded
            self._log(f"{function}: could not list versions to prune ({error}); nothing deleted")
            return deleted
        if not doomed:
            self._log(f"{function}: no superseded version to delete (keeping {previous} and {target})")
            return deleted
        for version in doomed:
            try:
                self._lambda.delete_function(FunctionName=function, Qualifier=version)
                deleted.append(version)
            except AWS_ERRORS as error:
                self._log(f"{function}: could not delete version {version} ({error}); left in place")
        if deleted:
            self._log(f"{function}: deleted superseded versions {', '.join(deleted)} (keeping {previous} and {target})")
        return deleted

    def _pages(self, operation: str, key: str, function: str) -> list[dict[str, Any]]:
        """Every item of a paginated Lambda listing (Marker / NextMarker)."""
        items: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            params: dict[str, Any] = {"FunctionName": function}
            if marker:
                params["Marker"] = marker
            page = getattr(self._lambda, operation)(**params)
            items += page.get(key, [])
            marker = page.get("NextMarker")
            if not marker:
                return items

    def _wait(self, release: Release, deployment_id: str, current_version: str) -> None:
        deadline = self._clock() + self._timeout
        while True:
            info = self._codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            status = info["status"]
            if status == DONE:
                return
            if status in ENDED_BADLY:
                raise DeploymentRolledBack(self._explain(release, deployment_id, current_version, info))
            if self._clock() >= deadline:
                raise DeploymentTimedOut(
                    f"{release.function}:{release.alias}: CodeDeploy deployment {deployment_id} still {status} after "
                    f"{self._timeout:.0f}s; see `aws deploy get-deployment --deployment-id {deployment_id}`"
                )
            self._sleep(self._poll)

    @staticmethod
    def _explain(release: Release, deployment_id: str, current_version: str, info: dict[str, Any]) -> str:
        error = info.get("errorInformation") or {}
        why = error.get("message") or error.get("code") or "no reason given"
        rollback = info.get("rollbackInfo") or {}
        rolled_back = rollback.get("rollbackDeploymentId")
        back = f" (rollback deployment {rolled_back})" if rolled_back else ""
        return (
            f"{release.function}:{release.alias}: CodeDeploy deployment {deployment_id} of version {release.target_version} "
            f"{info['status'].lower()}: {why}. The alias was rolled back{back} and still serves version {current_version}; "
            f"fix the cause and run `pulumi up` again."
        )


# --------------------------------------------------------------------------- the Pulumi dynamic resource

# properties that name what is deployed: a change replaces the resource (a first deploy of the new target)
_IDENTITY = ("region", "applicationName", "deploymentGroupName", "functionName", "aliasName")


def _release(props: dict[str, Any]) -> Release:
    return Release(
        application=props["applicationName"],
        deployment_group=props["deploymentGroupName"],
        function=props["functionName"],
        alias=props["aliasName"],
        target_version=str(props["targetVersion"]),
    )


def _deployer(props: dict[str, Any]) -> AliasDeployer:
    import boto3  # in the provider's process, with the credentials `pulumi up` runs with

    session = boto3.session.Session(region_name=props["region"])
    return AliasDeployer(
        session.client("lambda"),
        session.client("codedeploy"),
        timeout_seconds=timeout_for(props.get("deploymentConfigName", "")),
        log=lambda line: pulumi.log.info(line),
    )


def _outputs(props: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    inputs = {k: v for k, v in props.items() if not k.startswith("__")}
    return {**inputs, "liveVersion": outcome.version, "deploymentId": outcome.deployment_id}


class AliasDeploymentProvider(pulumi.dynamic.ResourceProvider):
    serialize_as_secret_always = False  # it captures no secret

    def __init__(self, deployer: Callable[[dict[str, Any]], AliasDeployer] | None = None) -> None:
        """`deployer` makes the AliasDeployer for a resource's properties (e.g. one with stubbed clients); by
        default it has boto3 clients in the resource's region. Only a given one is kept on the instance, so
        the provider Pulumi stores in the state stays a reference to this class."""
        if deployer is not None:
            self.make_deployer = deployer

    make_deployer: Callable[[dict[str, Any]], AliasDeployer] = staticmethod(_deployer)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        outcome = self.make_deployer(props).deploy(_release(props), previous_target=None)
        return pulumi.dynamic.CreateResult(f"{props['functionName']}:{props['aliasName']}", _outputs(props, outcome))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [key for key in (*_IDENTITY, "targetVersion") if olds.get(key) != news.get(key)]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[k for k in changed if k in _IDENTITY], delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        outcome = self.make_deployer(news).deploy(_release(news), previous_target=str(olds["targetVersion"]))
        return pulumi.dynamic.UpdateResult(_outputs(news, outcome))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        pass  # nothing to undo: the alias and the deployment group are Pulumi's own resources


@dataclass(frozen=True)
class AliasDeploymentArgs:
    """What `AliasDeployment` deploys, and through which CodeDeploy group.

    Attributes:
        region: where the provider calls Lambda and CodeDeploy.
        application_name: the CodeDeploy application (compute platform Lambda).
        deployment_group_name: the deployment group that shifts the alias's traffic.
        deployment_config_name: how traffic shifts; it bounds how long a deployment may take.
        function_name: the function whose alias moves.
        alias_name: the alias that moves (`live`).
        target_version: the function's latest published version: what the alias should serve.
    """

    region: pulumi.Input[str]
    application_name: pulumi.Input[str]
    deployment_group_name: pulumi.Input[str]
    deployment_config_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]
    target_version: pulumi.Input[str]


class AliasDeployment(pulumi.dynamic.Resource, module="codedeploy", name="AliasDeployment"):
    """Deploys `target_version` to the alias through CodeDeploy whenever it changes (see the module's docstring).

    Outputs, besides the inputs: `liveVersion` (what the alias serves) and `deploymentId` (the last CodeDeploy
    deployment, empty when the alias was pointed directly).
    """

    def __init__(self, name: str, args: AliasDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            AliasDeploymentProvider(),
            name,
            {
                "region": args.region,
                "applicationName": args.application_name,
                "deploymentGroupName": args.deployment_group_name,
                "deploymentConfigName": args.deployment_config_name,
                "functionName": args.function_name,
                "aliasName": args.alias_name,
                "targetVersion": args.target_version,
                "liveVersion": None,
                "deploymentId": None,
            },
            opts,
        )
