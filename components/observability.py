"""`Observability`: the alarm topic, the alarms, the dashboard and the stack's X-Ray sampling rule.

A program asks for what it has, one `monitor_*` method per resource kind (a function, an HTTP API, a queue
with its DLQ, a table, a database), each returning the alarms it created; `add_dashboard()` then draws
what was monitored. Nothing is watched that the program did not hand over.

Alarms exist only where someone receives them: with an alarm e-mail, the full set, each notifying the
topic (then encrypted with its own KMS key, the only key CloudWatch can publish with); without one, only
the alarms a gradual (CodeDeploy) deployment rolls back on, which notify nobody, and the topic keeps the
AWS-managed `alias/aws/sns` key (no customer-managed key to pay for). The dashboard only where asked.

Function alarms and widgets watch each function's `live` alias (CloudWatch's FunctionName + Resource
dimensions), the version that serves traffic; a CodeDeploy canary rolls back on the errors and throttles
alarms. Every alarm is named `<name prefix>-<what>` (so two stacks' alarms tell apart in the console) and,
where there is a subscriber, notifies the topic on ALARM and on OK. Thresholds that can be derived are: a
function's duration alarm fires at 90% of its (real, Lambda) timeout, the database's capacity alarm at its
maximum ACU, a queue's age alarm at twice its visibility
timeout (a message that has sat through two full visibility windows is not being worked off).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .compute import LambdaFunction
from .queue import QueueTier
from .tokens import type_token, with_former_token

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
    """The X-Ray sampling rule.

    Attributes:
        rate: the share (0-1) of requests traced beyond the reservoir.
        reservoir: requests a second traced before the rate applies.
    """

    rate: float = 0.05
    reservoir: int = 1


@dataclass(frozen=True)
class ObservabilityArgs:
    """What `Observability` builds before anything is monitored.

    Attributes:
        name_prefix: the stack's prefix: alarm names (`<prefix>-<key>`), the dashboard's name, the sampling rule's.
        alarm_email: the address the alarm topic mails; "" for none (then only rollback alarms exist).
        region: the region the dashboard's widgets read.
        sampling: the stack's own X-Ray sampling rule; None: X-Ray's default rule applies.
    """

    name_prefix: str
    alarm_email: str
    region: pulumi.Input[str]
    sampling: SamplingSettings | None = None


@dataclass(frozen=True)
class FunctionAlarms:
    """The alarms `monitor_function` created for one function (None: not created).

    Attributes:
        errors: any error on the live alias.
        throttles: any throttled invocation of the live alias.
        duration: an invocation within 10% of the function's timeout (only with an alarm e-mail).
    """

    errors: aws.cloudwatch.MetricAlarm | None = None
    throttles: aws.cloudwatch.MetricAlarm | None = None
    duration: aws.cloudwatch.MetricAlarm | None = None

    @property
    def rollback(self) -> list[aws.cloudwatch.MetricAlarm]:
        """What a gradual deployment rolls back on: the errors and throttles alarms."""
        return [a for a in (self.errors, self.throttles) if a is not None]

    @property
    def created(self) -> list[aws.cloudwatch.MetricAlarm]:
        return [a for a in (self.errors, self.throttles, self.duration) if a is not None]


@dataclass
class _Watched:
    """What the dashboard draws: everything handed to a monitor_* method."""

    functions: list[LambdaFunction] = field(default_factory=list)
    api: tuple[pulumi.Input[str], str] | None = None
    queues: list[tuple[str, QueueTier]] = field(default_factory=list)
    tables: list[pulumi.Input[str]] = field(default_factory=list)
    databases: list[pulumi.Input[str]] = field(default_factory=list)


class Observability(pulumi.ComponentResource):
    """The alarm topic (and its subscription), the sampling rule, and the alarms and dashboard the program asks for."""

    topic_key: aws.kms.Key | None
    """The topic's own KMS key, only where alarms publish to the topic (CloudWatch cannot publish to a topic
    under the AWS-managed aws/sns key); None otherwise."""
    topic: aws.sns.Topic
    """Where there is a subscriber, every alarm notifies it on ALARM and on OK."""
    subscription: aws.sns.TopicSubscription | None
    """The e-mail subscription, only when `alarm_email` is set."""
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Every alarm created, by key (`<function>-errors`, `api-5xx`, `<queue>-queue-age`, ...); each named `<prefix>-<key>`."""
    notifies: bool
    """An alarm e-mail is subscribed: each monitor_* method creates its full set of alarms, each notifying the topic."""
    dashboard: aws.cloudwatch.Dashboard | None
    """Set by `add_dashboard()`."""
    dashboard_name: pulumi.Input[str]
    """The dashboard's name, "" where there is none."""
    sampling_rule: aws.xray.SamplingRule | None
    """Matches the stack's functions (service names `<prefix>-*`), ahead of X-Ray's default rule."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("observability:Observability"), name, None, with_former_token("observability:Observability", opts))
        self._name, self._prefix, self._region = name, args.name_prefix, args.region
        self._watched = _Watched()
        self.notifies = bool(args.alarm_email)
        self.alarms = {}
        self.dashboard, self.dashboard_name = None, ""
        self.topic_key = self._topic_key(name) if self.notifies else None
        self.topic = aws.sns.Topic(
            f"{name}-alarms",
            kms_master_key_id=self.topic_key.arn if self.topic_key else AWS_MANAGED_SNS_KEY,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.subscription = None
        if args.alarm_email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.sampling_rule = self._sampling_rule(name, args.sampling) if args.sampling is not None else None
        self.register_outputs({"alarmTopicArn": self.topic.arn})

    def _topic_key(self, name: str) -> aws.kms.Key:
        """CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key (its key policy cannot
        grant CloudWatch), so a topic that alarms publish to gets its own key that allows exactly that."""
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        statements = [
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
        ]
        return aws.kms.Key(
            f"{name}-alarms",
            description="Encrypts the alarm topic; CloudWatch may use it to publish",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _sampling_rule(self, name: str, sampling: SamplingSettings) -> aws.xray.SamplingRule:
        return aws.xray.SamplingRule(
            f"{name}-sampling",
            rule_name=sampling_rule_name(self._prefix),
            priority=SAMPLING_RULE_PRIORITY,
            fixed_rate=sampling.rate,
            reservoir_size=sampling.reservoir,
            service_name=f"{self._prefix}-*",
            service_type="*",
            host="*",
            http_method="*",
            url_path="*",
            resource_arn="*",
            version=1,
            opts=pulumi.ResourceOptions(parent=self),
        )

    # ------------------------------------------------------------------ what a program asks for

    def monitor_function(self, fn: LambdaFunction, *, rollback: bool = False) -> FunctionAlarms:
        """Errors and throttles of the live alias (FunctionName + Resource) and its duration at 90% of its timeout;
        without an alarm e-mail only the errors and throttles alarms, and only when a gradual deployment
        rolls back on them (`rollback`)."""
        self._watched.functions.append(fn)
        if not (self.notifies or rollback):
            return FunctionAlarms()
        name, dims = fn.spec.name, fn.alias_dimensions
        alarms = FunctionAlarms(
            errors=self._alarm(f"{name}-errors", "AWS/Lambda", "Errors", dims, "Sum", ">=", 1, f"{name}: errors"),
            throttles=self._alarm(f"{name}-throttles", "AWS/Lambda", "Throttles", dims, "Sum", ">=", 1, f"{name}: throttled"),
        )
        if not self.notifies:
            return alarms
        duration = self._alarm(
            f"{name}-duration",
            "AWS/Lambda",
            "Duration",
            dims,
            "Maximum",
            ">=",
            duration_threshold_ms(fn.timeout),
            f"{name}: within 10% of its {fn.timeout}s timeout",
        )
        return FunctionAlarms(alarms.errors, alarms.throttles, duration)

    def monitor_http_api(self, api_id: pulumi.Input[str], stage: str) -> list[aws.cloudwatch.MetricAlarm]:
        """The stage's server errors (5xx)."""
        self._watched.api = (api_id, stage)
        if not self.notifies:
            return []
        dims = {"ApiId": api_id, "Stage": stage}
        return [self._alarm("api-5xx", "AWS/ApiGateway", "5xx", dims, "Sum", ">=", API_5XX_THRESHOLD, "HTTP API: server errors")]

    def monitor_queue(self, name: str, queue: QueueTier) -> list[aws.cloudwatch.MetricAlarm]:
        """Any message in the DLQ, and the oldest message older than twice the visibility timeout (`<name>-...`)."""
        self._watched.queues.append((name, queue))
        if not self.notifies:
            return []
        title = name.capitalize()
        threshold = queue_age_threshold_seconds(queue.visibility_timeout_seconds)
        return [
            self._alarm(
                f"{name}-dlq-messages",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": queue.dlq.name},
                "Maximum",
                ">",
                0,
                f"{title} moved to the DLQ after repeated failures",
            ),
            self._alarm(
                f"{name}-queue-age",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": queue.queue.name},
                "Maximum",
                ">=",
                threshold,
                f"{title} waiting longer than two visibility timeouts",
            ),
        ]

    def monitor_table(self, key: str, table_name: pulumi.Input[str]) -> list[aws.cloudwatch.MetricAlarm]:
        """Read and write throttle events of one DynamoDB table (`<key>-readthrottle`, `<key>-writethrottle`)."""
        self._watched.tables.append(table_name)
        if not self.notifies:
            return []
        return [
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
            for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
        ]

    def monitor_database(self, cluster_id: pulumi.Input[str], max_capacity: float) -> list[aws.cloudwatch.MetricAlarm]:
        """An Aurora Serverless v2 cluster sitting at its maximum capacity (ACU): it needs a higher maximum."""
        self._watched.databases.append(cluster_id)
        if not self.notifies:
            return []
        minutes = DB_AT_MAX_PERIODS * PERIOD // 60
        return [
            self._alarm(
                "db-capacity-at-max",
                "AWS/RDS",
                "ServerlessDatabaseCapacity",
                {"DBClusterIdentifier": cluster_id},
                "Minimum",
                ">=",
                max_capacity,
                f"PostgreSQL at its maximum of {max_capacity:g} ACU for {minutes} minutes: raise dbMaxCapacity",
                periods=DB_AT_MAX_PERIODS,
            )
        ]

    def add_dashboard(self) -> aws.cloudwatch.Dashboard:
        """The CloudWatch dashboard ($3 a month) of everything monitored so far, named after the prefix."""
        if self.dashboard is not None:
            raise ValueError(f"{self._name}: the dashboard exists already")
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=self._prefix,
            dashboard_body=_dashboard_body(self._region, self._watched),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        return self.dashboard

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
        if key in self.alarms:
            raise ValueError(f"{self._name}: an alarm {key!r} exists already (monitored twice?)")
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


def _dashboard_body(region: pulumi.Input[str], watched: _Watched) -> pulumi.Output[str]:
    """CloudWatch dashboard JSON, two widgets a row: the API, the functions, the queues, DynamoDB, Aurora."""
    metrics: list[tuple[str, list[list[Any]], str]] = []  # (title, metrics, statistic)
    if watched.api is not None:
        api, api_dims = ["AWS/ApiGateway"], ["ApiId", watched.api[0], "Stage", watched.api[1]]
        metrics.append(("API requests and errors", [[*api, "Count", *api_dims], [*api, "4xx", *api_dims], [*api, "5xx", *api_dims]], "Sum"))
        metrics.append(("API latency (p90)", [[*api, "Latency", *api_dims], [*api, "IntegrationLatency", *api_dims]], "p90"))
    if watched.functions:
        # each function's live alias: FunctionName and Resource (`<name>:live`)
        fns = [["FunctionName", fn.aws_function.name, "Resource", fn.alias_dimensions["Resource"]] for fn in watched.functions]
        metrics.append(("Function invocations", [["AWS/Lambda", "Invocations", *f] for f in fns], "Sum"))
        metrics.append(("Function errors and throttles", [["AWS/Lambda", m, *f] for f in fns for m in ("Errors", "Throttles")], "Sum"))
        metrics.append(("Function duration (max)", [["AWS/Lambda", "Duration", *f] for f in fns], "Maximum"))
    for name, queue in watched.queues:
        queue_metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.queue.name],
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue.queue.name],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.dlq.name],
        ]
        metrics.append((f"{name.capitalize()} queue", queue_metrics, "Maximum"))
    if watched.tables:
        capacity = ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
        throttles = ("ReadThrottleEvents", "WriteThrottleEvents")
        metrics.append(
            ("DynamoDB consumed capacity", [["AWS/DynamoDB", m, "TableName", t] for t in watched.tables for m in capacity], "Sum")
        )
        metrics.append(("DynamoDB throttles", [["AWS/DynamoDB", m, "TableName", t] for t in watched.tables for m in throttles], "Sum"))
    for cluster in watched.databases:
        metrics.append(
            ("PostgreSQL capacity (ACU)", [["AWS/RDS", "ServerlessDatabaseCapacity", "DBClusterIdentifier", cluster]], "Maximum")
        )
        metrics.append(("PostgreSQL connections", [["AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", cluster]], "Maximum"))
    widgets = [
        {
            "type": "metric",
            "x": 12 * (i % 2),
            "y": 6 * (i // 2),
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": PERIOD, "view": "timeSeries", "metrics": m},
        }
        for i, (title, m, stat) in enumerate(metrics)
    ]
    return pulumi.Output.json_dumps({"widgets": widgets})
