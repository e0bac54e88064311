"""`Observability`: the alarm topic, the alarms, the dashboard and the stack's X-Ray sampling rule.

Alarms exist only where someone receives them: with an alarm e-mail, the full set, each notifying the
topic (then encrypted with its own KMS key, the only key CloudWatch can publish with); without one, only
the alarms a gradual (CodeDeploy) deployment rolls back on, which notify nobody, and the topic keeps the
AWS-managed `alias/aws/sns` key (no customer-managed key to pay for). The dashboard only where asked.

Function alarms and widgets watch each function's `live` alias (CloudWatch's FunctionName + Resource
dimensions), the version that serves traffic; a CodeDeploy canary rolls back on the errors and throttles
alarms. Every alarm is named `<name prefix>-<what>` (so two stacks' alarms tell apart in the console) and,
where there is a subscriber, notifies the topic on ALARM and on OK. Thresholds that can be derived are: a
function's duration alarm fires at 90% of its (real, Lambda) timeout, the database's capacity alarm at its
maximum ACU, the orders queue's age alarm at twice its visibility
timeout (a message that has sat through two full visibility windows is not being worked off).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .compute import LambdaFunction

PERIOD = 300  # seconds
DURATION_ALARM_FRACTION = 0.9
QUEUE_AGE_VISIBILITY_MULTIPLE = 2
# Aurora Serverless v2 at its maximum capacity for this many 5-minute periods: it needs a higher maximum
# (one standard-resolution alarm on one cluster metric: the cheapest signal that the database is too small)
DB_AT_MAX_PERIODS = 3
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
API_5XX_THRESHOLD = 5
SAMPLING_RULE_PRIORITY = 1000  # before X-Ray's default rule (which always comes last); room for more specific rules


def duration_threshold_ms(timeout_seconds: int) -> float:
    return timeout_seconds * 1000 * DURATION_ALARM_FRACTION


def queue_age_threshold_seconds(visibility_timeout_seconds: int) -> int:
    return visibility_timeout_seconds * QUEUE_AGE_VISIBILITY_MULTIPLE


def sampling_rule_name(name_prefix: str) -> str:
    """The stack's prefix, or (past X-Ray's 32 characters) its start and a hash of the whole, so two stacks never share a name."""
    if len(name_prefix) <= 32:
        return name_prefix
    return f"{name_prefix[:25]}-{hashlib.sha1(name_prefix.encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class SamplingSettings:
    """The X-Ray sampling rule: `reservoir` requests a second traced, then `rate` (0-1) of the rest."""

    rate: float = 0.05
    reservoir: int = 1


@dataclass(frozen=True)
class ObservabilityArgs:
    name_prefix: str  # the stack's prefix: alarm names and the dashboard's name
    alarm_email: str  # "" for no e-mail subscription
    region: pulumi.Input[str]  # the dashboard's widgets
    functions: Sequence[LambdaFunction]  # errors, throttles and duration (90% of each timeout) alarms
    api_id: pulumi.Input[str]
    api_stage: str
    queue_name: pulumi.Input[str]  # the age alarm, at twice the visibility timeout
    dlq_name: pulumi.Input[str]  # alarms on any message
    visibility_timeout_seconds: int
    table_names: Mapping[str, pulumi.Input[str]]  # by table key: read and write throttle alarms
    db_cluster_id: pulumi.Input[str]  # the Aurora cluster's identifier (DBClusterIdentifier)
    db_max_capacity: float  # ACU: the capacity alarm fires when the cluster sits at it
    sampling: SamplingSettings | None = None  # None: no rule of the stack's own (X-Ray's default rule applies)
    dashboard: bool = False  # the CloudWatch dashboard ($3 a month)
    # functions a gradual deployment rolls back on their errors and throttles alarms: those two alarms exist
    # even without an alarm e-mail (CodeDeploy reads them; they notify nobody)
    rollback_functions: Sequence[str] = ()


class Observability(pulumi.ComponentResource):
    topic_key: aws.kms.Key | None
    """The topic's own KMS key, only where alarms publish to the topic (CloudWatch cannot publish to a topic
    under the AWS-managed aws/sns key); None otherwise."""
    topic: aws.sns.Topic
    """Where there is a subscriber, every alarm notifies it on ALARM and on OK."""
    subscription: aws.sns.TopicSubscription | None
    """The e-mail subscription, only when `alarm_email` is set."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """By key (`<function>-errors`, `api-5xx`, `orders-queue-age`, ...); each named `<prefix>-<key>`."""
    notifies: bool
    """An alarm e-mail is subscribed: the full set of alarms, each notifying the topic."""
    dashboard: aws.cloudwatch.Dashboard | None
    dashboard_name: pulumi.Input[str]
    """The dashboard's name, "" where there is none."""
    sampling_rule: aws.xray.SamplingRule | None
    """Matches the stack's functions (service names `<prefix>-*`), ahead of X-Ray's default rule."""
    queue_age_threshold_seconds: int

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:observability:Observability", name, None, opts)
        self._prefix = args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        self.notifies = bool(args.alarm_email)
        self.queue_age_threshold_seconds = queue_age_threshold_seconds(args.visibility_timeout_seconds)
        self.topic_key = None
        if self.notifies:
            # CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key (its key
            # policy cannot grant CloudWatch), so the topic gets its own key that allows exactly that.
            self.topic_key = aws.kms.Key(
                f"{name}-alarms",
                description="Encrypts the alarm topic; CloudWatch may use it to publish",
                enable_key_rotation=True,
                deletion_window_in_days=7,
                policy=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "AccountAdministers",
                                "Effect": "Allow",
                                "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account, ":root")},
                                "Action": "kms:*",
                                "Resource": "*",  # in a key policy "*" means this key
                            },
                            {
                                "Sid": "CloudWatchPublishes",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                "Resource": "*",
                                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                            },
                        ],
                    }
                ),
                opts=child,
            )
        self.topic = aws.sns.Topic(
            f"{name}-alarms", kms_master_key_id=self.topic_key.arn if self.topic_key else AWS_MANAGED_SNS_KEY, opts=child
        )
        self.subscription = None
        if args.alarm_email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-alarms-email", topic=self.topic.arn, protocol="email", endpoint=args.alarm_email, opts=child
            )

        self.alarms = {}
        if not self.notifies:
            # nobody would receive an alarm: only those a gradual deployment needs to roll back on
            for fn in args.functions:
                if fn.spec.name in args.rollback_functions:
                    self._rollback_alarms(fn)
        else:
            self._every_alarm(args)

        self.dashboard = None
        self.dashboard_name = ""
        if args.dashboard:
            self.dashboard = aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=args.name_prefix,
                dashboard_body=_dashboard_body(args),
                opts=child,
            )
            self.dashboard_name = self.dashboard.dashboard_name

        self.sampling_rule = None
        if args.sampling is not None:
            self.sampling_rule = aws.xray.SamplingRule(
                f"{name}-sampling",
                rule_name=sampling_rule_name(args.name_prefix),
                priority=SAMPLING_RULE_PRIORITY,
                fixed_rate=args.sampling.rate,
                reservoir_size=args.sampling.reservoir,
                service_name=f"{args.name_prefix}-*",
                service_type="*",
                host="*",
                http_method="*",
                url_path="*",
                resource_arn="*",
                version=1,
                opts=child,
            )
        self.register_outputs({"alarmTopicArn": self.topic.arn, "dashboardName": self.dashboard_name})

    def _rollback_alarms(self, fn: LambdaFunction) -> None:
        """The live alias's errors and throttles alarms (FunctionName + Resource): what a canary's rollback watches."""
        dims = fn.alias_dimensions
        self._alarm(f"{fn.spec.name}-errors", "AWS/Lambda", "Errors", dims, "Sum", ">=", 1, f"{fn.spec.name}: errors")
        self._alarm(f"{fn.spec.name}-throttles", "AWS/Lambda", "Throttles", dims, "Sum", ">=", 1, f"{fn.spec.name}: throttled")

    def _every_alarm(self, args: ObservabilityArgs) -> None:
        for fn in args.functions:
            self._rollback_alarms(fn)
            dims = fn.alias_dimensions
            self._alarm(
                f"{fn.spec.name}-duration",
                "AWS/Lambda",
                "Duration",
                dims,
                "Maximum",
                ">=",
                duration_threshold_ms(fn.timeout),
                f"{fn.spec.name}: within 10% of its {fn.timeout}s timeout",
            )
        self._alarm(
            "api-5xx",
            "AWS/ApiGateway",
            "5xx",
            {"ApiId": args.api_id, "Stage": args.api_stage},
            "Sum",
            ">=",
            API_5XX_THRESHOLD,
            "HTTP API: server errors",
        )
        self._alarm(
            "orders-dlq-messages",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": args.dlq_name},
            "Maximum",
            ">",
            0,
            "Orders moved to the DLQ after repeated failures",
        )
        self._alarm(
            "orders-queue-age",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": args.queue_name},
            "Maximum",
            ">=",
            self.queue_age_threshold_seconds,
            "Orders waiting longer than two visibility timeouts",
        )
        for key, table_name in args.table_names.items():
            for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
                self._alarm(
                    f"{key}-{metric.removesuffix('Events').lower()}",
                    "AWS/DynamoDB",
                    metric,
                    {"TableName": table_name},
                    "Sum",
                    ">=",
                    1,
                    f"DynamoDB {key}: {metric}",
                )
        self._alarm(
            "db-capacity-at-max",
            "AWS/RDS",
            "ServerlessDatabaseCapacity",
            {"DBClusterIdentifier": args.db_cluster_id},
            "Minimum",
            ">=",
            args.db_max_capacity,
            f"PostgreSQL at its maximum of {args.db_max_capacity:g} ACU for {DB_AT_MAX_PERIODS * PERIOD // 60} minutes: raise dbMaxCapacity",
            periods=DB_AT_MAX_PERIODS,
        )

    def _alarm(
        self,
        key: str,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        statistic: str,
        op: str,
        threshold: float,
        description: str,
        periods: int = 1,
    ) -> aws.cloudwatch.MetricAlarm:
        operators = {
            ">=": "GreaterThanOrEqualToThreshold",
            ">": "GreaterThanThreshold",
            "<=": "LessThanOrEqualToThreshold",
        }
        alarm = aws.cloudwatch.MetricAlarm(
            key,
            name=f"{self._prefix}-{key}",
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dict(dimensions),
            statistic=statistic,
            period=PERIOD,
            evaluation_periods=periods,
            threshold=threshold,
            comparison_operator=operators[op],
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn] if self.notifies else [],
            ok_actions=[self.topic.arn] if self.notifies else [],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.alarms[key] = alarm
        return alarm


def _dashboard_body(args: ObservabilityArgs) -> pulumi.Output[str]:
    """CloudWatch dashboard JSON: API, functions, queue, DynamoDB, Aurora."""

    def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": args.region, "stat": stat, "period": PERIOD, "view": "timeSeries", "metrics": metrics},
        }

    api = ["AWS/ApiGateway"]
    api_dims = ["ApiId", args.api_id, "Stage", args.api_stage]
    # each function's live alias: FunctionName and Resource (`<name>:live`)
    fns = [["FunctionName", fn.aws_function.name, "Resource", fn.alias_dimensions["Resource"]] for fn in args.functions]
    widgets = [
        widget("API requests and errors", [[*api, "Count", *api_dims], [*api, "4xx", *api_dims], [*api, "5xx", *api_dims]], 0, 0),
        widget("API latency (p90)", [[*api, "Latency", *api_dims], [*api, "IntegrationLatency", *api_dims]], 12, 0, "p90"),
        widget("Function invocations", [["AWS/Lambda", "Invocations", *f] for f in fns], 0, 6),
        widget("Function errors and throttles", [["AWS/Lambda", m, *f] for f in fns for m in ("Errors", "Throttles")], 12, 6),
        widget("Function duration (max)", [["AWS/Lambda", "Duration", *f] for f in fns], 0, 12, "Maximum"),
        widget(
            "Orders queue",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", args.queue_name],
                ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", args.queue_name],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", args.dlq_name],
            ],
            12,
            12,
            "Maximum",
        ),
        widget(
            "DynamoDB consumed capacity",
            [
                ["AWS/DynamoDB", m, "TableName", t]
                for t in args.table_names.values()
                for m in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
            ],
            0,
            18,
        ),
        widget(
            "DynamoDB throttles",
            [["AWS/DynamoDB", m, "TableName", t] for t in args.table_names.values() for m in ("ReadThrottleEvents", "WriteThrottleEvents")],
            12,
            18,
        ),
        widget(
            "PostgreSQL capacity (ACU)",
            [["AWS/RDS", "ServerlessDatabaseCapacity", "DBClusterIdentifier", args.db_cluster_id]],
            0,
            24,
            "Maximum",
        ),
        widget(
            "PostgreSQL connections",
            [["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", args.db_cluster_id]],
            12,
            24,
            "Maximum",
        ),
    ]
    return pulumi.Output.json_dumps({"widgets": widgets})
