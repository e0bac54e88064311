"""The AWS emulator (moto in server mode) on 127.0.0.1, and the stack's tables and queues inside it.

The tables and queues come from `todo_app.catalog`, the same definitions the Pulumi components read.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

import boto3

from todo_app.catalog import ORDERS_QUEUE, TABLES, KeySchema

REGION = "us-east-1"
# moto accepts any credentials; fixed fake ones keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Emulator:
    process: subprocess.Popen
    url: str

    @classmethod
    def start(cls, port: int | None = None, timeout: float = 30) -> Emulator:
        port = port or free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **FAKE_CREDENTIALS},
        )
        emulator = cls(process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(emulator.url + "/moto-api/data.json", timeout=1).close()
                return emulator
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    emulator.stop()
                    raise RuntimeError(f"the AWS emulator did not start on {emulator.url}") from None
                time.sleep(0.1)

    def reset(self) -> None:
        """Forget every resource: a clean account between tests."""
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"), timeout=10).close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, service: str):
        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )


def table_name(prefix: str, key: str) -> str:
    return f"{prefix}-{key}"


def key_schema(pairs: KeySchema) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": key_type} for name, key_type in pairs]


def create_tables(dynamodb, prefix: str) -> dict[str, str]:
    """Create every catalog table (on-demand, as staging does); returns {env var: table name}."""
    names = {}
    for table in TABLES.values():
        name = table_name(prefix, table.key)
        args = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": key_schema(table.key_schema),
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": table.attribute_type} for a in table.key_attributes],
        }
        if table.indexes:
            args["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": i.name,
                    "KeySchema": key_schema(i.key_schema),
                    "Projection": {"ProjectionType": i.projection},
                }
                for i in table.indexes
            ]
        dynamodb.create_table(**args)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute})
        names[table.env] = name
    return names


def create_queues(sqs, prefix: str, visibility_timeout: int) -> dict[str, str]:
    """Create the orders queue and its DLQ with the catalog's settings; returns their URLs."""
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}-orders-dlq",
        Attributes={"MessageRetentionPeriod": str(ORDERS_QUEUE.dlq_retention_seconds)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-orders",
        Attributes={
            "MessageRetentionPeriod": str(ORDERS_QUEUE.message_retention_seconds),
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": ORDERS_QUEUE.max_receive_count}),
        },
    )["QueueUrl"]
    return {"queue_url": queue_url, "dlq_url": dlq_url}
