"""A notes API built from todo-platform's components: its own table, function and two routes.

This is how another team reuses the package: install it (`pip install todo-platform`), describe its own
table, function and routes with the spec types, and compose two tiers. Nothing here is todo-specific.
`pulumi up` in this directory deploys it; tests/infra/test_example.py evaluates it under mocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import (
    ApiTier,
    ApiTierArgs,
    DynamoTables,
    DynamoTablesArgs,
    FunctionResources,
    FunctionSettings,
    FunctionSpec,
    LambdaFunction,
    LambdaFunctionArgs,
    Route,
    SharedCode,
    Table,
    TableAccess,
    Throttling,
)

NOTES = Table(key="notes", env="NOTES_TABLE", hash_key="noteId")
NOTES_FUNCTION = FunctionSpec(
    name="notes",
    handler="notes.handler",
    kind="api",
    description="Reads and writes notes",
    timeout=5,
    tables=(TableAccess("notes", ("GetItem", "PutItem")),),
)
ROUTES = (
    Route("GET", "/notes/{noteId}", "notes", auth=False, operation="get_note"),
    Route("PUT", "/notes/{noteId}", "notes", auth=False, operation="put_note"),
)
# The team's own code; inline here to keep the example in one file.
HANDLER = """
import json, os, boto3
table = boto3.resource("dynamodb").Table(os.environ["NOTES_TABLE"])
def handler(event, context):
    note_id = event["pathParameters"]["noteId"]
    if event["requestContext"]["http"]["method"] == "PUT":
        table.put_item(Item={"noteId": note_id, "text": event.get("body") or ""})
        return {"statusCode": 204}
    item = table.get_item(Key={"noteId": note_id}).get("Item")
    return {"statusCode": 200, "body": json.dumps(item)} if item else {"statusCode": 404}
"""


@dataclass(frozen=True)
class NotesApi:
    tables: DynamoTables
    function: LambdaFunction
    api: ApiTier


def create_notes_api() -> NotesApi:
    prefix = f"notes-{pulumi.get_stack()}"
    tables = DynamoTables("notes", DynamoTablesArgs(tables=[NOTES]))  # on demand
    function = LambdaFunction(
        "notes",
        LambdaFunctionArgs(
            spec=NOTES_FUNCTION,
            physical_name=f"{prefix}-notes",
            code=SharedCode(archive=pulumi.AssetArchive({"notes.py": pulumi.StringAsset(HANDLER)})),
            settings=FunctionSettings(
                runtime="python3.12", architecture="arm64", memory_mb=256, reserved_concurrency=-1, log_retention_days=7, environment={}
            ),
            resources=FunctionResources(tables=tables.refs),
        ),
    )
    api = ApiTier(
        "notes-api",
        ApiTierArgs(
            routes=ROUTES,
            functions={"notes": function},
            authorizer=None,
            physical_name=f"{prefix}-http",
            throttling=Throttling(rate_limit=10, burst_limit=20),
            log_retention_days=7,
        ),
    )
    pulumi.export("url", api.url)
    return NotesApi(tables=tables, function=function, api=api)


if __name__ == "__main__":
    create_notes_api()
