"""openapi.json (committed at the root) is exactly what todo_app.openapi generates from the catalog and the models."""

from __future__ import annotations

import json

from components.config import ROOT
from todo_app import catalog, openapi

COMMITTED = ROOT / "openapi.json"


def test_the_committed_document_is_current():
    assert COMMITTED.read_text() == openapi.render(), (
        "openapi.json is stale: regenerate it with `.venv/bin/python -m todo_app.openapi > openapi.json`"
    )


def test_every_route_is_an_operation_with_its_security():
    document = json.loads(COMMITTED.read_text())
    documented = {(method.upper(), path): op for path, ops in document["paths"].items() for method, op in ops.items()}
    assert set(documented) == {(r.method, r.path) for r in catalog.ROUTES}
    for route in catalog.ROUTES:
        op = documented[(route.method, route.path)]
        assert op["operationId"] == route.operation
        assert op["security"] == ([{"bearerAuth": []}] if route.auth else [])
        if route.auth:
            assert {"401", "403"} <= set(op["responses"]), route.route_key
        assert "404" in op["responses"]
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "the token from POST /sessions",
    }


def test_every_schema_reference_resolves():
    document = json.loads(COMMITTED.read_text())
    text = json.dumps(document)
    names = {ref.rsplit("/", 1)[1] for ref in __import__("re").findall(r'"\$ref": "([^"]+)"', text)}
    assert names <= set(document["components"]["schemas"]), names - set(document["components"]["schemas"])


def test_each_request_schema_is_the_json_schema_of_the_model_that_validates():
    """The document can be neither looser nor stricter than the validation: each operation's request body is the
    declared model's own JSON Schema (its nested models included), and the handler validates with that model."""
    document = json.loads(COMMITTED.read_text())
    schemas = document["components"]["schemas"]
    with_body = 0
    for endpoint in catalog.ENDPOINTS:
        op = document["paths"][endpoint.path][endpoint.method.lower()]
        model = openapi.request_model(endpoint)
        if model is None:
            assert "requestBody" not in op, endpoint.route_key
            continue
        with_body += 1
        expected = model.model_json_schema(mode="validation", ref_template=openapi.REF)
        nested = expected.pop("$defs", {})
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[1]] == expected, endpoint.route_key
        for name, schema in nested.items():
            assert schemas[name] == schema, (endpoint.route_key, name)
        assert _models_parsed_by(endpoint) == [model.__name__], endpoint.route_key
    assert with_body == 9  # the two password-reset bodies and the password change included


def _models_parsed_by(endpoint: catalog.Endpoint) -> list[str]:
    """The models the endpoint's route function hands to `http_api.parse`, read from its source."""
    import ast

    tree = ast.parse((ROOT / "functions" / "todo_app" / "handlers" / f"{endpoint.function}.py").read_text())
    (func,) = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == endpoint.operation]
    return [
        call.args[1].id
        for call in ast.walk(func)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "parse"
        and len(call.args) == 2
        and isinstance(call.args[1], ast.Name)
    ]
