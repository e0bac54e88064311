"""Fixtures: the program evaluated once per stack per session, under the shared mocks."""

from __future__ import annotations

import pytest

from .mocks import Evaluation, evaluate

STACKS = ("staging", "production")
_CACHE: dict[str, Evaluation] = {}


def evaluation(stack: str) -> Evaluation:
    if stack not in _CACHE:
        _CACHE[stack] = evaluate(stack)
    return _CACHE[stack]


@pytest.fixture(scope="session")
def staging() -> Evaluation:
    return evaluation("staging")


@pytest.fixture(scope="session")
def production() -> Evaluation:
    return evaluation("production")


@pytest.fixture(scope="session", params=STACKS)
def stack(request) -> Evaluation:
    """Each test that takes `stack` runs for both stacks."""
    return evaluation(request.param)
