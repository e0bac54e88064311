"""Each API function's resolver serves exactly its catalog routes, and nothing else.

Only public behaviour is checked: real payload 2.0 events in, responses out.
"""

import importlib
from collections.abc import Callable
from typing import Any

import pytest

from local import events
from todo_app import catalog, http_api

from .conftest import context_for, reply_of

SAMPLE_PARAMETERS = {"userId": "00000000-0000-4000-8000-000000000000", "todoId": "0" * 26, "orderId": "0" * 26, "sessionId": "0" * 26}


def _sample(route: catalog.Route) -> tuple[str, dict[str, str]]:
    """A concrete path for the route, and its path parameters."""
    params = {name: value for name, value in SAMPLE_PARAMETERS.items() if "{" + name + "}" in route.path}
    path = route.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path, params


def _event(route: catalog.Route, method: str | None = None) -> dict[str, Any]:
    path, params = _sample(route)
    return events.http_event(method or route.method, path, route=route, path_parameters=params, authorizer_context={"userId": "x"})


def _echo(name: str) -> Callable[..., Any]:
    """A route function called `name` that answers with its own name and the path parameters it got."""

    def operation(**params: str) -> Any:
        return http_api.json_response(200, {"operation": name, "params": params})

    operation.__name__ = name
    return operation


def _echo_router(function: str) -> http_api.Router:
    router = http_api.Router(function)
    for route in catalog.routes_for(function):
        router.operation(_echo(route.operation))
    return router


@pytest.mark.parametrize("function", [f.name for f in catalog.api_functions()])
def test_each_catalog_route_reaches_its_operation(function, base_env):
    """A Router built from the catalog sends each route's event to the function named by its operation."""
    handler = _echo_router(function).lambda_handler()
    for route in catalog.routes_for(function):
        reply = reply_of(handler(_event(route), context_for(function)))
        assert reply.status == 200, (route.route_key, reply.body)
        assert reply.body == {"operation": route.operation, "params": _sample(route)[1]}


@pytest.mark.parametrize("function", [f.name for f in catalog.api_functions()])
def test_handler_modules_bind_their_operations_by_name(function):
    """The real handler module binds, for each of its catalog routes, its module-level function of that name."""
    module = importlib.import_module(catalog.FUNCTIONS[function].module)
    expected = {route.operation: getattr(module, route.operation) for route in catalog.routes_for(function)}
    assert module.router.operations == expected


@pytest.mark.parametrize("function", [f.name for f in catalog.api_functions()])
def test_other_functions_routes_are_not_found(function, base_env):
    """Sent another function's route, a handler answers 404 route_not_found."""
    handler = importlib.import_module(catalog.FUNCTIONS[function].module).handler
    own = {r.route_key for r in catalog.routes_for(function)}
    for route in catalog.ROUTES:
        if route.route_key in own:
            continue
        reply = reply_of(handler(_event(route), context_for(function)))
        assert reply.status == 404, (function, route.route_key, reply.body)
        assert reply.body["error"]["code"] == "route_not_found"


def test_gateway_answers_404_for_unknown_path_and_method(api):
    assert api.get("/nothing/here").status == 404
    assert api.request("PATCH", "/users").status == 404


def test_unmatched_method_inside_a_function_is_404(base_env):
    route = next(r for r in catalog.ROUTES if r.route_key == "GET /users")
    reply = reply_of(importlib.import_module("todo_app.handlers.users").handler(_event(route, method="PATCH"), context_for("users")))
    assert reply.status == 404 and reply.body["error"]["code"] == "route_not_found"


def test_a_catalog_route_without_its_operation_fails_at_import():
    router = http_api.Router("users")
    router.operation(_echo("create_user"))
    with pytest.raises(RuntimeError, match="no route function for") as caught:
        router.lambda_handler()
    assert "GET /users/{userId} (get_user)" in str(caught.value) and "create_user" not in str(caught.value)


def test_an_operation_the_catalog_does_not_know_fails_at_definition():
    router = http_api.Router("users")
    with pytest.raises(RuntimeError, match="'create_todo' is not the operation of any catalog route"):
        router.operation(_echo("create_todo"))  # another function's operation
    router.operation(_echo("create_user"))
    with pytest.raises(RuntimeError, match="bound twice"):
        router.operation(_echo("create_user"))


def test_a_function_without_routes_has_no_router():
    with pytest.raises(RuntimeError, match="no routes for 'worker'"):
        http_api.Router("worker")
