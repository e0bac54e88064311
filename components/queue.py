"""`QueueTier`: the orders queue, its DLQ, the worker function and the event source mapping.

The queue's visibility timeout is derived from the worker's timeout (catalog factor, AWS advises at
least 6x), so a batch still being processed is never handed to a second worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from todo_app import catalog

from .compute import FunctionContext, LambdaFunction, LambdaFunctionArgs, QueueRef
from .config import StackConfig


def visibility_timeout_for(worker: catalog.FunctionSpec, spec: catalog.QueueSpec = catalog.ORDERS_QUEUE) -> int:
    return spec.visibility_timeout(worker.timeout)


@dataclass(frozen=True)
class QueueTierArgs:
    config: StackConfig
    function_context: FunctionContext  # with the tables built; the queue is added here


class QueueTier(pulumi.ComponentResource):
    dlq: aws.sqs.Queue
    queue: aws.sqs.Queue
    worker: LambdaFunction
    event_source_mapping: aws.lambda_.EventSourceMapping
    visibility_timeout_seconds: int

    def __init__(self, name: str, args: QueueTierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("todo:queue:QueueTier", name, None, opts)
        config, spec = args.config, catalog.ORDERS_QUEUE
        child = pulumi.ResourceOptions(parent=self)
        worker_spec = next(f for f in catalog.FUNCTIONS.values() if f.kind == "worker")

        self.visibility_timeout_seconds = visibility_timeout_for(worker_spec, spec)
        if spec.dlq_retention_seconds <= spec.message_retention_seconds:
            raise ValueError("catalog.ORDERS_QUEUE: the DLQ must keep messages longer than the queue")

        self.dlq = aws.sqs.Queue(
            f"{name}-orders-dlq",
            message_retention_seconds=spec.dlq_retention_seconds,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-orders",
            visibility_timeout_seconds=self.visibility_timeout_seconds,
            message_retention_seconds=spec.message_retention_seconds,
            receive_wait_time_seconds=20,
            sqs_managed_sse_enabled=True,
            redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": spec.max_receive_count}),
            opts=child,
        )
        # Only the orders queue may move messages into the DLQ.
        self.dlq_redrive_allow = aws.sqs.RedriveAllowPolicy(
            f"{name}-orders-dlq",
            queue_url=self.dlq.url,
            redrive_allow_policy=pulumi.Output.json_dumps({"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}),
            opts=child,
        )
        self.queue_ref = QueueRef(url=self.queue.url, arn=self.queue.arn)
        self.function_context = args.function_context.with_(queue=self.queue_ref)

        self.worker = LambdaFunction(worker_spec.name, LambdaFunctionArgs(spec=worker_spec, context=self.function_context), child)
        self.event_source_mapping = aws.lambda_.EventSourceMapping(
            f"{name}-orders-worker",
            event_source_arn=self.queue.arn,
            function_name=self.worker.function.arn,
            batch_size=config.worker_batch_size,
            maximum_batching_window_in_seconds=config.worker_batch_window_seconds,
            function_response_types=["ReportBatchItemFailures"],  # a failed record is retried alone
            scaling_config={"maximum_concurrency": config.worker_max_concurrency},
            # creating the mapping checks that the role can read the queue
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.worker.policy]),
        )
        self.register_outputs(
            {"ordersQueueUrl": self.queue.url, "ordersDlqUrl": self.dlq.url, "visibilityTimeoutSeconds": self.visibility_timeout_seconds}
        )
