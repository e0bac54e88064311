"""Pulumi mocks for todo-platform and a runner that evaluates the program for one stack.

`evaluate(stack)` runs `components.program.create_stack()` under `TodoMocks` with the stack's config
(Pulumi.yaml defaults overlaid with Pulumi.<stack>.yaml, set through `set_all_config`, so
`StackConfig.from_pulumi()` is the path exercised). It runs inside a fresh `contextvars.Context`: the
Pulumi runtime keeps its settings, config and root stack in context variables, so each evaluation is
isolated and both stacks run in one pytest process. The result holds every registered resource (type,
name, inputs, outputs) and the stack outputs resolved to plain values, plus a `resolve()` that awaits
any further Output inside the same runtime, so no assertion can sit in an apply that never runs.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from components.config import PROJECT, stack_region, stack_values

from .web_mocks import web_outputs

ACCOUNT = "123456789012"
PARTITION = "aws"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
# What the mocked RDS-managed secret would hold; no output or input may ever contain it.
MOCK_DB_PASSWORD = "mock-password-never-exported"


class UnknownInvoke(AssertionError):
    pass


def _suffix(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:7]


class TodoMocks(pulumi.runtime.Mocks):
    """Fills the computed outputs the program reads and answers exactly the invokes it makes."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.calls: list[str] = []

    # ------------------------------------------------------------------ invokes
    def call(self, args: MockCallArgs):
        self.calls.append(args.token)
        region = self.region
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/mock",
                "userId": "AIDAMOCK",
                "id": ACCOUNT,
            },
            "aws:index/getRegion:getRegion": lambda: {
                "region": region,
                "name": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            },
            "aws:index/getPartition:getPartition": lambda: {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION},
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "names": ZONES,
                "zoneIds": [f"use1-az{i + 1}" for i in range(len(ZONES))],
                "id": region,
                "state": "available",
            },
        }
        if args.token not in answers:
            raise UnknownInvoke(f"the program made an invoke the mocks do not know: {args.token} {args.args}")
        return answers[args.token]()

    # ------------------------------------------------------------------ resources
    def new_resource(self, args: MockResourceArgs):
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        region, account = self.region, ACCOUNT
        physical = inputs.get("name") or f"{name}-{_suffix(typ + name)}"
        rid = f"{name}-id"
        out: dict[str, Any] = {**inputs}

        def arn(service: str, resource: str, *, regional: bool = True, with_account: bool = True) -> str:
            return f"arn:aws:{service}:{region if regional else ''}:{account if with_account else ''}:{resource}"

        if typ == "aws:lambda/function:Function":
            fn_arn = arn("lambda", f"function:{physical}")
            version = "1" if inputs.get("publish") else "$LATEST"  # a first deploy publishes version 1
            out.update(
                name=physical,
                arn=fn_arn,
                qualifiedArn=f"{fn_arn}:{version}",
                version=version,
                invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations",
                qualifiedInvokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}:{version}/invocations",
            )
        elif typ == "aws:lambda/alias:Alias":
            alias_arn = arn("lambda", f"function:{inputs['functionName']}:{inputs['name']}")
            out.update(arn=alias_arn, invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{alias_arn}/invocations")
            rid = f"{inputs['functionName']}:{inputs['name']}"
        elif typ == "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
            rid = f"{inputs['functionName']},{inputs['qualifier']}"
        elif typ == "aws:codedeploy/application:Application":
            out.update(arn=arn("codedeploy", f"application:{physical}"), applicationId=f"app-{_suffix(name)}", name=physical)
            rid = f"app-{_suffix(name)}:{physical}"
        elif typ == "aws:codedeploy/deploymentGroup:DeploymentGroup":
            group = inputs["deploymentGroupName"]
            out.update(arn=arn("codedeploy", f"deploymentgroup:{inputs['appName']}/{group}"), deploymentGroupId=f"dg-{_suffix(name)}")
            rid = f"{inputs['appName']}:{group}"
        elif typ == "pulumi-python:dynamic/codedeploy:AliasDeployment":
            # what the provider returns on a first deploy: the alias pointed at the target, no CodeDeploy
            out.update(liveVersion=inputs["targetVersion"], deploymentId="")
            rid = f"{inputs['functionName']}:{inputs['aliasName']}"
        elif typ == "aws:lambda/layerVersion:LayerVersion":
            out.update(
                arn=arn("lambda", f"layer:{inputs['layerName']}:1"), layerArn=arn("lambda", f"layer:{inputs['layerName']}"), version="1"
            )
        elif typ == "aws:iam/role:Role":
            out.update(name=physical, arn=f"arn:aws:iam::{account}:role/{physical}", uniqueId=f"AROA{_suffix(name).upper()}")
        elif typ == "aws:iam/rolePolicy:RolePolicy":
            rid = f"{inputs.get('role')}:{physical}"
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            out.update(name=physical, arn=arn("logs", f"log-group:{physical}"))
        elif typ == "aws:dynamodb/table:Table":
            out.update(name=physical, arn=arn("dynamodb", f"table/{physical}"), streamArn="")
            rid = physical
        elif typ == "aws:sqs/queue:Queue":
            out.update(name=physical, arn=arn("sqs", physical), url=f"https://sqs.{region}.amazonaws.com/{account}/{physical}")
            rid = out["url"]
        elif typ == "aws:rds/cluster:Cluster":
            identifier = inputs.get("clusterIdentifier") or physical
            out.update(
                clusterIdentifier=identifier,
                arn=arn("rds", f"cluster:{identifier}"),
                endpoint=f"{identifier}.cluster-cmock.{region}.rds.amazonaws.com",
                readerEndpoint=f"{identifier}.cluster-ro-cmock.{region}.rds.amazonaws.com",
                clusterResourceId=f"cluster-{_suffix(name).upper()}MOCKRESOURCEID",
                port=inputs.get("port", 5432),
                masterUserSecrets=[
                    {
                        "secretArn": arn("secretsmanager", f"secret:rds!cluster-{_suffix(name)}-AbCdEf"),
                        "kmsKeyId": arn("kms", "key/mock"),
                        "secretStatus": "active",
                    }
                ],
            )
            rid = identifier
        elif typ == "aws:rds/clusterInstance:ClusterInstance":
            identifier = inputs.get("identifier") or physical
            out.update(
                identifier=identifier,
                arn=arn("rds", f"db:{identifier}"),
                endpoint=f"{identifier}.cmock.{region}.rds.amazonaws.com",
                dbiResourceId=f"db-{_suffix(name).upper()}",
            )
            rid = identifier
        elif typ == "aws:rds/clusterParameterGroup:ClusterParameterGroup":
            out.update(name=physical, arn=arn("rds", f"cluster-pg:{physical}"))
            rid = physical
        elif typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
            kind = "subgrp" if "subnet" in typ else "pg"
            out.update(name=physical, arn=arn("rds", f"{kind}:{physical}"))
            rid = physical
        elif typ == "aws:apigatewayv2/api:Api":
            api_id = f"api{_suffix(name)}"
            rid = api_id
            out.update(
                arn=f"arn:aws:apigateway:{region}::/apis/{api_id}",
                apiEndpoint=f"https://{api_id}.execute-api.{region}.amazonaws.com",
                executionArn=arn("execute-api", api_id),
            )
        elif typ == "aws:apigatewayv2/stage:Stage":
            out.update(arn=f"arn:aws:apigateway:{region}::/apis/mock/stages/{inputs.get('name')}", invokeUrl="https://mock/")
        elif typ == "aws:sns/topic:Topic":
            out.update(name=physical, arn=arn("sns", physical))
        elif typ == "aws:sns/topicSubscription:TopicSubscription":
            out.update(arn=arn("sns", f"alarms:{_suffix(name)}"))
        elif typ == "aws:kms/key:Key":
            key_id = f"mrk-{_suffix(name)}"
            out.update(arn=arn("kms", f"key/{key_id}"), keyId=key_id)
            rid = key_id
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            out.update(name=physical, arn=arn("cloudwatch", f"alarm:{physical}"))
        elif typ == "aws:cloudwatch/dashboard:Dashboard":
            out.update(dashboardArn=f"arn:aws:cloudwatch::{account}:dashboard/{inputs.get('dashboardName')}")
        elif typ == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{_suffix(name)}"
            out.update(arn=arn("ec2", f"vpc/{rid}"), defaultSecurityGroupId="sg-default", mainRouteTableId="rtb-main")
        elif typ == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{_suffix(name)}"
            out.update(arn=arn("ec2", f"subnet/{rid}"))
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            rid = f"sg-{_suffix(name)}"
            out.update(arn=arn("ec2", f"security-group/{rid}"), name=physical)
        elif typ == "aws:ec2/routeTable:RouteTable":
            rid = f"rtb-{_suffix(name)}"
            out.update(arn=arn("ec2", f"route-table/{rid}"))
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            rid = f"vpce-{_suffix(name)}"
            out.update(arn=arn("ec2", f"vpc-endpoint/{rid}"), prefixListId=f"pl-{_suffix(name)}")
        elif typ in (
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        ):
            rid = f"sgr-{_suffix(name)}"
            out.update(arn=arn("ec2", f"security-group-rule/{rid}"), securityGroupRuleId=rid)
        elif typ == "aws:appautoscaling/target:Target":
            out.update(arn=arn("application-autoscaling", f"scalable-target/{_suffix(name)}"))
            rid = f"service/{inputs.get('resourceId')}"
        elif typ == "aws:appautoscaling/policy:Policy":
            out.update(arn=arn("autoscaling", f"scalingPolicy:{_suffix(name)}"), name=physical)
        elif typ == "aws:lambda/invocation:Invocation":
            out.update(result=json.dumps({"applied": []}))
        elif typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
            rid = f"esm-{_suffix(name)}"
            out.update(uuid=rid, arn=arn("lambda", f"event-source-mapping:{rid}"), functionArn=inputs.get("functionName"))
        elif (web := web_outputs(typ, name, inputs, region, account)) is not None:  # S3 and CloudFront
            rid, extra = web
            out.update(extra)
        return rid, out


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
    alias_parents: list[str] = field(default_factory=list)  # former parents' URNs, from Alias(parent=...)
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
        self.alias_parents: dict[str, list[str]] = {}
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
            if spec.type and not (alias.urn or spec.name or spec.parentUrn):
                continue  # the provider's own alias for a renamed type (aws:s3 Bucket was BucketV2)
            # the program only moves resources to new parents (same type and name): anything else is a test gap
            if alias.urn or spec.name or spec.type or not spec.parentUrn:
                raise AssertionError(f"{response.urn}: an alias the state checks do not understand: {alias}")
            self.alias_parents.setdefault(response.urn, []).append(spec.parentUrn)
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


def evaluate(stack: str, overrides: dict[str, Any] | None = None, program: Callable[[], Any] | None = None) -> Evaluation:
    """Run the program for `stack` (todo-platform's unless another is given) under mocks in a fresh
    context and collect what it registered."""
    from components.program import create_stack

    run_program: Callable[[], Any] = program or create_stack
    context = contextvars.Context()
    mocks = RecordingMocks(stack_region(stack))
    monitor = RecordingMonitor(mocks)
    holder: dict[str, Any] = {}

    def run() -> None:
        pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
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
    for typ, name, inputs in mocks.registered:
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
                alias_parents=monitor.alias_parents.get(urn, []),
                protect=urn in monitor.protected,
            )
        )
    return Evaluation(
        stack=stack,
        program=holder["program"],
        resources=resources,
        outputs=holder["outputs"],
        output_secrets=holder["secrets"],
        invokes=list(mocks.calls),
        seconds=seconds,
        _context=context,
    )
