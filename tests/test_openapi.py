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
