"""The AWS emulator (moto in server mode) on 127.0.0.1, and the stack's tables and queues inside it.

The tables and queues come from `todo_app.catalog`, the same definitions the Pulumi components read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from todo_app.catalog import ORDERS_QUEUE, TABLES, KeySchema

from .account import FAKE_CREDENTIALS, REGION
from .system import free_port, stop_process

__all__ = [
    "FAKE_CREDENTIALS",
    "REGION",
    "Emulator",
    "create_database_secret",
    "create_queues",
    "create_tables",
    "read_stream",
    "table_name",
    "verify_sender",
]


@dataclass
class Emulator:
    process: subprocess.Popen[bytes]
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
        stop_process(self.process)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` in the emulator (boto3's clients are untyped: Any)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


def table_name(prefix: str, key: str) -> str:
    return f"{prefix}-{key}"


def key_schema(pairs: KeySchema) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": key_type} for name, key_type in pairs]


def create_tables(dynamodb: Any, prefix: str) -> dict[str, str]:
    """Create every catalog table (on-demand, as staging does); returns {env var: table name}."""
    names = {}
    for table in TABLES.values():
        name = table_name(prefix, table.key)
        args: dict[str, Any] = {
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
        if table.stream:
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
        dynamodb.create_table(**args)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute})
        names[table.env] = name
    return names


def verify_sender(ses: Any, address: str) -> None:
    """Verify the SES sender identity (what an operator does outside the program on AWS): moto's SES refuses to
    send from an unverified one."""
    ses.verify_email_identity(EmailAddress=address)


def read_stream(dynamodb: Any, streams: Any, prefix: str, table_key: str, iterators: dict[str, str]) -> list[dict[str, Any]]:
    """The stream records of a catalog table not read yet, every shard's, as a DynamoDB event source mapping hands
    them to a function (Lambda's `Records` shape, plus `eventSource`); `iterators` (shard id -> next iterator) keeps
    the position between calls."""
    arn = dynamodb.describe_table(TableName=table_name(prefix, table_key))["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        shard_id = shard["ShardId"]
        iterator = (
            iterators.get(shard_id)
            or streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        )
        answer = streams.get_records(ShardIterator=iterator)
        iterators[shard_id] = answer.get("NextShardIterator") or iterator
        for record in answer.get("Records", []):
            record = dict(record)
            record["eventSourceARN"] = arn
            records.append(_plain(record))
    return records


def _plain(value: Any) -> Any:
    """A record as Lambda's JSON event has it: datetimes as epoch seconds."""
    import datetime

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return int(value.timestamp())
    return value


def _queue_arn(sqs: Any, queue_url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return arn


def create_queues(sqs: Any, prefix: str, visibility_timeout: int) -> dict[str, str]:
    """Create the orders queue and its DLQ with the catalog's settings; returns `queue_url`, `queue_arn`
    (what the event source mapping names in its records) and `dlq_url`."""
    dlq_url = sqs.create_queue(
        QueueName=f"{prefix}-orders-dlq",
        Attributes={"MessageRetentionPeriod": str(ORDERS_QUEUE.dlq_retention_seconds)},
    )["QueueUrl"]
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-orders",
        Attributes={
            "MessageRetentionPeriod": str(ORDERS_QUEUE.message_retention_seconds),
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": ORDERS_QUEUE.max_receive_count}
            ),
        },
    )["QueueUrl"]
    return {"queue_url": queue_url, "queue_arn": _queue_arn(sqs, queue_url), "dlq_url": dlq_url}


def create_database_secret(secretsmanager: Any, name: str, username: str, password: str) -> str:
    """The master secret: the migrator's credentials in RDS's managed format ({"username", "password"}), which
    only the migrate function reads (DB_SECRET_ARN); returns its ARN."""
    arn: str = secretsmanager.create_secret(Name=name, SecretString=json.dumps({"username": username, "password": password}))["ARN"]
    return arn
