"""Keeps the emulator's DynamoDB tables between runs when `--data-dir` is given.

moto keeps everything in memory, so on a clean stop (SIGINT/SIGTERM) the runtime scans every catalog
table into `<data-dir>/dynamodb.json` and loads it back at the next start. A runtime that is killed
(SIGKILL, power loss) loses the DynamoDB changes since its last clean stop; PostgreSQL's own data
directory is durable. Queue messages are not kept: messages still in the queue or the DLQ are lost.
Items whose TTL attribute lies in the past are not restored (DynamoDB would have removed them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from todo_app.catalog import TABLES

from .emulator import table_name

FILE = "dynamodb.json"


BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem call


def save(dynamodb: Any, prefix: str, data_dir: Path) -> int:
    """Write every item of every catalog table; returns the item count."""
    tables: dict[str, list[dict[str, Any]]] = {}
    count = 0
    for table in TABLES.values():
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table_name(prefix, table.key)}
        while True:
            page = dynamodb.scan(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        tables[table.key] = items
        count += len(items)
    path = Path(data_dir) / FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"version": 1, "savedAt": int(time.time()), "tables": tables}))
    os.replace(temporary, path)  # never leave half a snapshot
    return count


def load(dynamodb: Any, prefix: str, data_dir: Path) -> int:
    """Put back the items of the last snapshot, if any; returns the item count."""
    path = Path(data_dir) / FILE
    if not path.exists():
        return 0
    snapshot = json.loads(path.read_text())
    now, count = time.time(), 0
    for key, items in snapshot.get("tables", {}).items():
        table = TABLES.get(key)
        if table is None:
            continue
        if table.ttl_attribute:
            items = [i for i in items if table.ttl_attribute not in i or float(i[table.ttl_attribute].get("N", "inf")) > now]
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
            pending = {table_name(prefix, key): requests}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        count += len(items)
    return count
