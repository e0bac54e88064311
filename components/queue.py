"""`QueueTier`: a work queue, its DLQ and the worker that consumes it (an event source mapping).

The queue's visibility timeout is derived from the worker's timeout (`QueueSpec.visibility_timeout`,
at least 6x as AWS advises), so a batch still being processed is never handed to a second worker.
The queue exists before its worker (the worker's policy names the queue's ARN), so the worker is
attached afterwards with `subscribe()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from tierspec import QueueSpec

from .compute import LambdaFunction, QueueRef
from .tokens import type_token, with_former_token


@dataclass(frozen=True)
class BatchSettings:
    """How the event source mapping hands messages to the worker.

    Attributes:
        batch_size: the most messages in one invocation.
        batch_window_seconds: how long the mapping gathers messages before it invokes the worker with fewer.
        max_concurrency: concurrent worker invocations the mapping may use (2..1000).
    """

    batch_size: int
    batch_window_seconds: int
    max_concurrency: int


@dataclass(frozen=True)
class QueueTierArgs:
    """What `QueueTier` builds.

    Attributes:
        spec: the queue's name, retention, receives before the DLQ and the URL's environment variable.
        worker_timeout_seconds: the worker's timeout, which the visibility timeout derives from (`subscribe` checks it).
        batch: how the event source mapping hands messages to the worker.
    """

    spec: QueueSpec
    worker_timeout_seconds: int
    batch: BatchSettings


class QueueTier(pulumi.ComponentResource):
    """A queue, its DLQ and (after `subscribe`) the event source mapping to its worker."""

    dlq: aws.sqs.Queue
    """Keeps messages longer than the queue, so nothing expires in transit."""
    queue: aws.sqs.Queue
    dlq_redrive_allow: aws.sqs.RedriveAllowPolicy
    """Only this queue may move messages into the DLQ."""
    ref: QueueRef
    """What the producer and the worker functions are wired to."""
    visibility_timeout_seconds: int
    event_source_mapping: aws.lambda_.EventSourceMapping | None
    """Set by `subscribe()`; None until a worker is attached."""

    def __init__(self, name: str, args: QueueTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("queue:QueueTier"), name, None, with_former_token("queue:QueueTier", opts))
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        if spec.dlq_retention_seconds <= spec.message_retention_seconds:
            raise ValueError("QueueSpec: dlq_retention_seconds must be longer than message_retention_seconds")
        self._args, self._name = args, name
        self.visibility_timeout_seconds = spec.visibility_timeout(args.worker_timeout_seconds)
        self.event_source_mapping = None

        self.dlq = aws.sqs.Queue(
            f"{name}-{spec.name}-dlq", message_retention_seconds=spec.dlq_retention_seconds, sqs_managed_sse_enabled=True, opts=child
        )
        self.queue = aws.sqs.Queue(
            f"{name}-{spec.name}",
            visibility_timeout_seconds=self.visibility_timeout_seconds,
            message_retention_seconds=spec.message_retention_seconds,
            receive_wait_time_seconds=20,
            sqs_managed_sse_enabled=True,
            redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": spec.max_receive_count}),
            opts=child,
        )
        self.dlq_redrive_allow = aws.sqs.RedriveAllowPolicy(
            f"{name}-{spec.name}-dlq",
            queue_url=self.dlq.url,
            redrive_allow_policy=pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}),
            opts=child,
        )
        self.ref = QueueRef(url_env=spec.queue_url_env, url=self.queue.url, arn=self.queue.arn)
        self.register_outputs(
            {"queueUrl": self.queue.url, "dlqUrl": self.dlq.url, "visibilityTimeoutSeconds": self.visibility_timeout_seconds}
        )

    def subscribe(self, worker: LambdaFunction) -> aws.lambda_.EventSourceMapping:
        """Deliver the queue's messages to `worker` in batches, each failed record reported on its own."""
        if self.event_source_mapping is not None:
            raise ValueError("the queue already has a worker")
        if worker.spec.kind != "worker":
            raise ValueError(f"function {worker.spec.name!r} is of kind {worker.spec.kind!r}; a queue delivers to a 'worker'")
        if worker.spec.timeout != self._args.worker_timeout_seconds:
            raise ValueError(
                f"worker {worker.spec.name!r} has a {worker.spec.timeout}s timeout; the visibility timeout was derived from "
                f"{self._args.worker_timeout_seconds}s (QueueTierArgs.worker_timeout_seconds)"
            )
        batch = self._args.batch
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            f"{self._name}-{self._args.spec.name}-worker",
            event_source_arn=self.queue.arn,
            function_name=worker.alias.arn,  # the live alias: a new version gets messages once the alias moves
            batch_size=batch.batch_size,
            maximum_batching_window_in_seconds=batch.batch_window_seconds,
            function_response_types=["ReportBatchItemFailures"],  # a failed record is retried alone
            scaling_config={"maximum_concurrency": batch.max_concurrency},
            # creating the mapping checks that the role can read the queue
            opts=pulumi.ResourceOptions(parent=self, depends_on=[worker.policy]),
        )
        return self.event_source_mapping
