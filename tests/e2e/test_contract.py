"""The API against its OpenAPI document, with schemathesis, over HTTP through the local runtime.

- Every operation with generated valid and invalid inputs (bounded: MAX_EXAMPLES each, no shrinking
  budget beyond hypothesis's default), authenticated as a fixture user whose id fills every `userId`
  (so self-only routes are reached, not only refused). The operations that can end the fixture user's
  session or account (log out, log out everywhere, revoke a session, delete the user) get a fresh user
  for each case.
- A stateful run following the document's links: sign up -> log in; create a todo -> read, update,
  delete it; place an order -> read it.
- Checks: no 5xx, status codes, content types, response headers and bodies as documented, and
  schema-invalid input refused.
The counts (operations, cases, failures) and the statuses reached are in the terminal summary.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections import Counter

import pytest
import schemathesis
from e2e_support import CONTRACT_SUMMARY, unique_email
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from todo_app.catalog import ROUTES

MAX_EXAMPLES = 10
STATEFUL_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# these can end the fixture user's session or account (an invalid sessionId may well be "current")
ENDS_THE_FIXTURE = ["delete_user", "log_out", "log_out_everywhere", "revoke_session"]
TALLY: Counter[str] = Counter()
STATUSES: dict[str, set[int]] = {}


def _post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _user(url: str) -> tuple[str, str]:
    """A new user and a token of theirs."""
    email, password = unique_email("fuzz"), "a-good-password"
    user = _post(url, "/users", {"name": "Fuzz", "email": email, "password": password})
    return user["id"], _post(url, "/sessions", {"email": email, "password": password})["token"]


@pytest.fixture(scope="module")
def contract(runtime, request):
    url = runtime.url
    user_id, token = _user(url)
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"},
            "parameters": {"userId": user_id},
            "generation": {"mode": "all"},
        }
    )
    schema = schemathesis.openapi.from_url(url + "/openapi.json", config=config)
    schema.config.update(base_url=url)
    began = time.monotonic()
    yield schema, user_id, token
    operations = sum(1 for _ in schema.get_all_operations())
    seconds = time.monotonic() - began
    reached = {op: sorted(codes) for op, codes in sorted(STATUSES.items())}
    # shown in the terminal summary (conftest.py): the counts belong in every run's output
    request.config.stash[CONTRACT_SUMMARY] = [
        f"schemathesis: {operations} operations, {TALLY['cases']} cases ({TALLY['stateful']} stateful steps), "
        f"{TALLY['failures']} failures, {seconds:.0f}s",
        f"statuses reached: {reached}",
    ]


BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    derandomize=True,
    database=None,
)


def _validate(case, **kwargs) -> None:
    TALLY["cases"] += 1
    try:
        response = case.call_and_validate(checks=CHECKS, **kwargs)
    except Exception:
        TALLY["failures"] += 1
        raise
    STATUSES.setdefault(case.operation.definition.raw["operationId"], set()).add(response.status_code)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation_id", [route.operation for route in ROUTES])
def test_operation_conforms(contract, runtime, operation_id, mode):
    schema, user_id, token = contract
    operation = schema.find_operation_by_id(operation_id)
    fresh = operation_id in ENDS_THE_FIXTURE
    fixed = {"userId": user_id} if "{userId}" in operation.path and not fresh else None

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    def run(case):
        auth = token
        if fresh:  # this case ends a session or an account: give it its own
            owner, auth = _user(runtime.url)
            if "userId" in (case.path_parameters or {}):
                case.path_parameters["userId"] = owner
        headers = {**(case.headers or {}), "Authorization": f"Bearer {auth}"}
        _validate(case, headers=headers)

    try:
        run()
    except Unsatisfiable:
        # nothing of it can be made invalid (no parameters, no body, or only the fixed userId)
        pytest.skip(f"{operation_id} has no input to make invalid")


def test_stateful_flows(contract, runtime):
    """Sign up -> log in; create a todo -> read, update, delete it; place an order -> read it."""
    schema, user_id, _ = contract
    runtime_url = runtime.url

    class Flows(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            body = case.body
            if case.operation.definition.raw["operationId"] == "create_user" and isinstance(body, dict):
                email = body.get("email")
                if isinstance(email, str) and len(email) < 240:
                    # hypothesis may replay a scenario: a repeated sign-up would be a 409 the second time
                    # and change which links can follow ("inconsistent data generation")
                    body["email"] = f"{uuid.uuid4().hex[:10]}{email}"
            if case.operation.definition.raw["operationId"] not in ENDS_THE_FIXTURE:
                if "userId" in (case.path_parameters or {}):
                    case.path_parameters["userId"] = user_id  # the fixture user's own routes, not someone else's
                return {}
            owner, token = _user(runtime_url)  # as above: such a step gets a user of its own
            if "userId" in (case.path_parameters or {}):
                case.path_parameters["userId"] = owner
            return {"headers": {**(case.headers or {}), "Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, **kwargs):
            TALLY["stateful"] += 1
            TALLY["cases"] += 1
            STATUSES.setdefault(case.operation.definition.raw["operationId"], set()).add(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception:
                TALLY["failures"] += 1
                raise

    Flows.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
            database=None,
        )
    )
