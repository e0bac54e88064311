"""Each API function's resolver serves exactly its catalog routes, and nothing else."""

import importlib

import pytest

from local import events
from todo_app import catalog, http_api

from .conftest import context_for, reply_of


def _sample_path(path: str) -> str:
    return path.replace("{userId}", "00000000-0000-4000-8000-000000000000").replace("{todoId}", "0" * 26).replace("{orderId}", "0" * 26)


@pytest.mark.parametrize("function", [f.name for f in catalog.api_functions()])
def test_resolver_routes_are_the_catalog_routes(function):
    module = importlib.import_module(catalog.FUNCTIONS[function].module)
    registered = {(r.method, r.rule.pattern) for r in module.app._static_routes + module.app._dynamic_routes}
    expected = {(r.method, module.app._compile_regex(http_api.to_rule(r.path)).pattern) for r in catalog.routes_for(function)}
    assert registered == expected
    assert len(module.app._static_routes + module.app._dynamic_routes) == len(catalog.routes_for(function))


@pytest.mark.parametrize("function", [f.name for f in catalog.api_functions()])
def test_other_functions_routes_are_not_found(function, base_env):
    """Sent another function's route (or an unmatched method), a handler answers 404 route_not_found."""
    handler = importlib.import_module(catalog.FUNCTIONS[function].module).handler
    own = {r.route_key for r in catalog.routes_for(function)}
    for route in catalog.ROUTES:
        if route.route_key in own:
            continue
        path = _sample_path(route.path)
        event = events.http_event(route.method, path, route=route, authorizer_context={"userId": "x"})
        reply = reply_of(handler(event, context_for(function)))
        assert reply.status == 404, (function, route.route_key, reply.body)
        assert reply.body["error"]["code"] == "route_not_found"


def test_gateway_answers_404_for_unknown_path_and_method(api):
    assert api.get("/nothing/here").status == 404
    assert api.request("PATCH", "/users").status == 404


def test_unmatched_method_inside_a_function_is_404(base_env):
    route = catalog.ROUTES[[r.route_key for r in catalog.ROUTES].index("GET /users")]
    event = events.http_event("PATCH", "/users", route=route, authorizer_context={"userId": "x"})
    event["requestContext"]["http"]["method"] = "PATCH"
    reply = reply_of(importlib.import_module("todo_app.handlers.users").handler(event, context_for("users")))
    assert reply.status == 404 and reply.body["error"]["code"] == "route_not_found"


def test_missing_operation_fails_at_bind():
    app = http_api.create_app()
    with pytest.raises(RuntimeError, match="no route function"):
        http_api.bind(app, "users", {"create_user": lambda: None})
