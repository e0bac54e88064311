"""Pulumi mocks for programs built from these tiers: unit-test a program without AWS and without a deploy.

    import pulumi
    from components.testing import AwsMocks

    pulumi.runtime.set_mocks(AwsMocks("us-east-1"), preview=False)   # before the program's modules create anything

    @pulumi.runtime.test
    def test_my_api():
        api = create_my_api()                      # your program: tiers from your own specs
        return api.url.apply(lambda url: ...)      # assert inside an apply; the test waits for it

`AwsMocks` fills the outputs AWS would compute (ARNs, ids, names, endpoints, version numbers) for the
resource types the tiers create and answers the invokes they make. An output it does not fill is not a
bare `None`: it reads `<missing mock output TYPE 'NAME'.OUTPUT>`, and a resource whose inputs need such a
value fails with `MissingMockOutput`, which names the resource, the other resource and the output; extend
`AwsMocks.resource_outputs` for the types your program adds.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

ACCOUNT = "123456789012"
PARTITION = "aws"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


class UnknownInvoke(AssertionError):
    """The program made an invoke (a data source call) the mocks do not answer."""


class MissingMockOutput(AssertionError):
    """A resource's input needs an output of another resource that the mocks do not fill."""


def _suffix(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:7]


class AwsMocks(pulumi.runtime.Mocks):
    """Fills the computed outputs AWS would (ARNs, ids, names, endpoints) for the resource types the tiers create,
    and answers the invokes they make (caller identity, region, partition, availability zones).

    An output it does not fill reads `<missing mock output TYPE 'NAME'.OUTPUT>`, and a resource whose inputs
    contain such a value fails its registration with `MissingMockOutput`, naming both resources and the output:
    subclass and extend `resource_outputs` for the types your program adds.
    """

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.calls: list[str] = []

    # ------------------------------------------------------------------ invokes
    def call(self, args: MockCallArgs):  # a dict is what an invoke answers
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
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        _refuse_missing_outputs(args.typ, args.name, args.inputs)
        rid, out = self.resource_outputs(args)
        return rid, _with_missing_marked(args.typ, args.name, out)

    def resource_outputs(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """(id, outputs) of a new resource: its inputs, and what AWS computes for its type."""
        mocked = _Mocked(args.typ, args.name, dict(args.inputs), self.region, ACCOUNT)
        for outputs_of in (_compute_outputs, _data_outputs, _api_and_monitoring_outputs, _network_outputs):
            if (computed := outputs_of(mocked)) is not None:
                rid, extra = computed
                return rid, {**mocked.inputs, **extra}
        if (web := _web_outputs(mocked.typ, mocked.name, mocked.inputs, mocked.region, mocked.account)) is not None:  # S3 and CloudFront
            rid, extra = web
            return rid, {**mocked.inputs, **extra}
        return mocked.default_id, {**mocked.inputs}


@dataclass(frozen=True)
class _Mocked:
    """A resource the mocks create: what its computed outputs derive from."""

    typ: str
    name: str
    inputs: dict[str, Any]
    region: str
    account: str

    @property
    def physical(self) -> str:
        """Its physical name: the `name` input, or the logical name with a stable suffix (as Pulumi's auto-naming)."""
        return self.inputs.get("name") or f"{self.name}-{_suffix(self.typ + self.name)}"

    @property
    def default_id(self) -> str:
        return f"{self.name}-id"

    def arn(self, service: str, resource: str, *, regional: bool = True, with_account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{self.account if with_account else ''}:{resource}"


_Computed: TypeAlias = tuple[str, dict[str, Any]] | None  # (id, the outputs beyond the inputs), None for a type not handled


def _compute_outputs(r: _Mocked) -> _Computed:
    """Lambda (functions, aliases, layers, invocations, event source mappings), CodeDeploy, IAM and log groups."""
    typ, inputs, region, physical = r.typ, r.inputs, r.region, r.physical
    if typ == "aws:lambda/function:Function":
        fn_arn = r.arn("lambda", f"function:{physical}")
        version = "1" if inputs.get("publish") else "$LATEST"  # a first deploy publishes version 1
        return r.default_id, {
            "name": physical,
            "arn": fn_arn,
            "qualifiedArn": f"{fn_arn}:{version}",
            "version": version,
            "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}/invocations",
            "qualifiedInvokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fn_arn}:{version}/invocations",
        }
    if typ == "aws:lambda/alias:Alias":
        alias_arn = r.arn("lambda", f"function:{inputs['functionName']}:{inputs['name']}")
        return f"{inputs['functionName']}:{inputs['name']}", {
            "arn": alias_arn,
            "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{alias_arn}/invocations",
        }
    if typ == "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig":
        return f"{inputs['functionName']},{inputs['qualifier']}", {}
    if typ == "aws:lambda/layerVersion:LayerVersion":
        return r.default_id, {
            "arn": r.arn("lambda", f"layer:{inputs['layerName']}:1"),
            "layerArn": r.arn("lambda", f"layer:{inputs['layerName']}"),
            "version": "1",
        }
    if typ == "aws:lambda/invocation:Invocation":
        return r.default_id, {"result": json.dumps({"applied": []})}
    if typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
        rid = f"esm-{_suffix(r.name)}"
        return rid, {"uuid": rid, "arn": r.arn("lambda", f"event-source-mapping:{rid}"), "functionArn": inputs.get("functionName")}
    return _deployment_outputs(r)


def _deployment_outputs(r: _Mocked) -> _Computed:
    """CodeDeploy (and the provider's alias deployment), IAM roles and policies, log groups."""
    typ, name, inputs, physical = r.typ, r.name, r.inputs, r.physical
    if typ == "aws:codedeploy/application:Application":
        return f"app-{_suffix(name)}:{physical}", {
            "arn": r.arn("codedeploy", f"application:{physical}"),
            "applicationId": f"app-{_suffix(name)}",
            "name": physical,
        }
    if typ == "aws:codedeploy/deploymentGroup:DeploymentGroup":
        group = inputs["deploymentGroupName"]
        return f"{inputs['appName']}:{group}", {
            "arn": r.arn("codedeploy", f"deploymentgroup:{inputs['appName']}/{group}"),
            "deploymentGroupId": f"dg-{_suffix(name)}",
        }
    if typ == "pulumi-python:dynamic/codedeploy:AliasDeployment":
        # what the provider returns on a first deploy: the alias pointed at the target, no CodeDeploy
        return f"{inputs['functionName']}:{inputs['aliasName']}", {"liveVersion": inputs["targetVersion"], "deploymentId": ""}
    if typ == "aws:iam/role:Role":
        return r.default_id, {
            "name": physical,
            "arn": f"arn:aws:iam::{r.account}:role/{physical}",
            "uniqueId": f"AROA{_suffix(name).upper()}",
        }
    if typ == "aws:iam/rolePolicy:RolePolicy":
        return f"{inputs.get('role')}:{physical}", {}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return r.default_id, {"name": physical, "arn": r.arn("logs", f"log-group:{physical}")}
    return None


def _data_outputs(r: _Mocked) -> _Computed:
    """DynamoDB, SQS and RDS (clusters, instances, parameter and subnet groups)."""
    typ, name, inputs, region, physical = r.typ, r.name, r.inputs, r.region, r.physical
    if typ == "aws:dynamodb/table:Table":
        stream = r.arn("dynamodb", f"table/{physical}/stream/2026-01-01T00:00:00.000") if r.inputs.get("streamEnabled") else ""
        return physical, {"name": physical, "arn": r.arn("dynamodb", f"table/{physical}"), "streamArn": stream}
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{region}.amazonaws.com/{r.account}/{physical}"
        return url, {"name": physical, "arn": r.arn("sqs", physical), "url": url}
    if typ == "aws:rds/cluster:Cluster":
        identifier = inputs.get("clusterIdentifier") or physical
        return identifier, {
            "clusterIdentifier": identifier,
            "arn": r.arn("rds", f"cluster:{identifier}"),
            "endpoint": f"{identifier}.cluster-cmock.{region}.rds.amazonaws.com",
            "readerEndpoint": f"{identifier}.cluster-ro-cmock.{region}.rds.amazonaws.com",
            "clusterResourceId": f"cluster-{_suffix(name).upper()}MOCKRESOURCEID",
            "port": inputs.get("port", 5432),
            "masterUserSecrets": [
                {
                    "secretArn": r.arn("secretsmanager", f"secret:rds!cluster-{_suffix(name)}-AbCdEf"),
                    "kmsKeyId": r.arn("kms", "key/mock"),
                    "secretStatus": "active",
                }
            ],
        }
    if typ == "aws:rds/clusterInstance:ClusterInstance":
        identifier = inputs.get("identifier") or physical
        return identifier, {
            "identifier": identifier,
            "arn": r.arn("rds", f"db:{identifier}"),
            "endpoint": f"{identifier}.cmock.{region}.rds.amazonaws.com",
            "dbiResourceId": f"db-{_suffix(name).upper()}",
        }
    if typ == "aws:rds/clusterParameterGroup:ClusterParameterGroup":
        return physical, {"name": physical, "arn": r.arn("rds", f"cluster-pg:{physical}")}
    if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
        kind = "subgrp" if "subnet" in typ else "pg"
        return physical, {"name": physical, "arn": r.arn("rds", f"{kind}:{physical}")}
    return None


def _api_and_monitoring_outputs(r: _Mocked) -> _Computed:
    """API Gateway, SNS, KMS, CloudWatch alarms and dashboards, Application Auto Scaling."""
    typ, name, inputs, region, physical = r.typ, r.name, r.inputs, r.region, r.physical
    if typ == "aws:apigatewayv2/api:Api":
        api_id = f"api{_suffix(name)}"
        return api_id, {
            "arn": f"arn:aws:apigateway:{region}::/apis/{api_id}",
            "apiEndpoint": f"https://{api_id}.execute-api.{region}.amazonaws.com",
            "executionArn": r.arn("execute-api", api_id),
        }
    if typ == "aws:apigatewayv2/stage:Stage":
        return r.default_id, {"arn": f"arn:aws:apigateway:{region}::/apis/mock/stages/{inputs.get('name')}", "invokeUrl": "https://mock/"}
    if typ == "aws:sns/topic:Topic":
        return r.default_id, {"name": physical, "arn": r.arn("sns", physical)}
    if typ == "aws:sns/topicSubscription:TopicSubscription":
        return r.default_id, {"arn": r.arn("sns", f"alarms:{_suffix(name)}")}
    if typ == "aws:kms/key:Key":
        key_id = f"mrk-{_suffix(name)}"
        return key_id, {"arn": r.arn("kms", f"key/{key_id}"), "keyId": key_id}
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return r.default_id, {"name": physical, "arn": r.arn("cloudwatch", f"alarm:{physical}")}
    if typ == "aws:cloudwatch/dashboard:Dashboard":
        return r.default_id, {"dashboardArn": f"arn:aws:cloudwatch::{r.account}:dashboard/{inputs.get('dashboardName')}"}
    if typ == "aws:appautoscaling/target:Target":
        return f"service/{inputs.get('resourceId')}", {"arn": r.arn("application-autoscaling", f"scalable-target/{_suffix(name)}")}
    if typ == "aws:appautoscaling/policy:Policy":
        return r.default_id, {"arn": r.arn("autoscaling", f"scalingPolicy:{_suffix(name)}"), "name": physical}
    return None


def _network_outputs(r: _Mocked) -> _Computed:
    """EC2: the VPC, its subnets, security groups and their rules, route tables, endpoints."""
    typ, name = r.typ, r.name
    if typ == "aws:ec2/vpc:Vpc":
        rid = f"vpc-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"vpc/{rid}"), "defaultSecurityGroupId": "sg-default", "mainRouteTableId": "rtb-main"}
    if typ == "aws:ec2/subnet:Subnet":
        rid = f"subnet-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"subnet/{rid}")}
    if typ == "aws:ec2/securityGroup:SecurityGroup":
        rid = f"sg-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"security-group/{rid}"), "name": r.physical}
    if typ == "aws:ec2/routeTable:RouteTable":
        rid = f"rtb-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"route-table/{rid}")}
    if typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
        rid = f"vpce-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"vpc-endpoint/{rid}"), "prefixListId": f"pl-{_suffix(name)}"}
    if typ in (
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ):
        rid = f"sgr-{_suffix(name)}"
        return rid, {"arn": r.arn("ec2", f"security-group-rule/{rid}"), "securityGroupRuleId": rid}
    return None


def _web_outputs(typ: str, name: str, inputs: dict[str, Any], region: str, account: str) -> tuple[str, dict[str, Any]] | None:
    """(id, outputs) for an S3 or CloudFront resource type, None for any other type."""
    suffix = _suffix(typ + name)
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or f"{name}-{suffix}"
        return bucket, {
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketDomainName": f"{bucket}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "region": region,
        }
    if typ == "aws:s3/bucketObjectv2:BucketObjectv2":
        return f"{inputs['bucket']}/{inputs['key']}", {"etag": suffix, "versionId": ""}
    if typ in (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ):
        return inputs["bucket"], {}
    if typ == "aws:cloudfront/distribution:Distribution":
        distribution_id = f"E{suffix.upper()}MOCK"
        return distribution_id, {
            "arn": f"arn:aws:cloudfront::{account}:distribution/{distribution_id}",
            "domainName": f"d{suffix}mock.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
            "status": "Deployed",
            "etag": suffix,
        }
    if typ in (
        "aws:cloudfront/originAccessControl:OriginAccessControl",
        "aws:cloudfront/cachePolicy:CachePolicy",
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    ):
        return f"{suffix}-0000-4000-8000-mock", {"etag": suffix}
    return None


# --------------------------------------------------------------------------- outputs the mocks do not fill

_MISSING = "<missing mock output "


def _with_missing_marked(typ: str, name: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs, plus a marker naming the resource and the output for each output of its type left unfilled."""
    marked = {key: f"{_MISSING}{typ} {name!r}.{key}>" for key in _output_names(typ) if key not in outputs}
    return {**marked, **outputs}


def _refuse_missing_outputs(typ: str, name: str, inputs: Any) -> None:
    text = json.dumps(inputs, default=str)
    start = text.find(_MISSING)
    if start >= 0:
        needed = text[start + len(_MISSING) : text.index(">", start)]
        raise MissingMockOutput(
            f"{typ} {name!r} uses the output {needed}, which the mocks do not fill: "
            "add it to AwsMocks.resource_outputs for that type (a subclass's)"
        )


@functools.cache
def _output_names(typ: str) -> tuple[str, ...]:
    """The output properties of a pulumi_aws resource type ("aws:sqs/queue:Queue" -> arn, url, ...), by their
    engine names; none for a type of another provider, or one not found."""
    package, module, cls_name = (typ.split(":") + ["", ""])[:3]
    if package != "aws" or not cls_name:
        return ()
    section = module.split("/")[0]
    cls = None
    for candidate in ("pulumi_aws" if section == "index" else f"pulumi_aws.{section}", f"pulumi_aws.{section}_"):
        try:
            cls = getattr(importlib.import_module(candidate), cls_name, None)
        except ImportError:
            continue
        if cls is not None:
            break
    if not isinstance(cls, type) or not issubclass(cls, pulumi.CustomResource):
        return ()
    names = []
    for attribute in vars(cls).values():
        getter = getattr(attribute, "fget", None)
        engine_name = getattr(getter, "_pulumi_name", None)
        if isinstance(engine_name, str):
            names.append(engine_name)
    return tuple(names)
