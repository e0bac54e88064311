"""The components are reusable: examples/notes_api composes two tiers from its own specs, under the same mocks."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from components.config import ROOT

from .helpers import FUNCTION, ROLE_POLICY, TABLE, statements
from .mocks import Evaluation, evaluate

EXAMPLE = ROOT / "examples" / "notes_api" / "__main__.py"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("notes_api_example", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)  # runs the definitions, not the `__main__` block
    return module


@pytest.fixture(scope="module")
def example() -> Evaluation:
    return evaluate("staging", program=_load(EXAMPLE).create_notes_api)


def test_it_builds_only_its_own_table_function_and_routes(example):
    assert [t.name for t in example.of_type(TABLE)] == ["notes"]
    assert [f.outputs["name"] for f in example.of_type(FUNCTION)] == ["notes-staging-notes"]
    routes = sorted(r.inputs["routeKey"] for r in example.of_type("aws:apigatewayv2/route:Route"))
    assert routes == ["GET /notes/{noteId}", "PUT /notes/{noteId}"]
    assert not example.of_type("aws:apigatewayv2/authorizer:Authorizer")
    assert not [r for r in example.resources if "todo" in r.name or r.type.startswith("aws:rds")]  # no database unless asked


def test_its_function_gets_its_table_and_nothing_else(example):
    (fn,) = example.of_type(FUNCTION)
    (table,) = example.of_type(TABLE)
    assert fn.inputs["environment"]["variables"] == {"NOTES_TABLE": table.outputs["name"]}
    assert "layers" not in fn.inputs and "vpcConfig" not in fn.inputs
    (policy,) = example.of_type(ROLE_POLICY)
    dynamodb = [s for s in statements(json.loads(policy.inputs["policy"])) if s["Sid"].startswith("DynamoDB")]
    assert dynamodb == [
        {"Sid": "DynamoDBNotes", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": [table.outputs["arn"]]}
    ]


def test_its_stack_output(example):
    (api,) = example.of_type("aws:apigatewayv2/api:Api")
    assert example.outputs == {"url": api.outputs["apiEndpoint"]}
    assert example.program.api.url is not None


def test_its_component_types_are_the_platforms(example):
    components = sorted({r.type for r in example.resources if r.type.startswith("serverless:")})
    assert components == ["serverless:api:ApiTier", "serverless:compute:LambdaFunction", "serverless:database:DynamoTables"]
    assert not [r for r in example.resources if r.type.startswith("todo:")]
