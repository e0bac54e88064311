"""A bad stack config value fails the program with a message naming the key (and what is allowed)."""

from __future__ import annotations

import pytest

from components.config import ConfigError

from .mocks import evaluate


def test_unknown_billing_mode_names_the_key_and_the_allowed_values():
    with pytest.raises(ConfigError) as error:
        evaluate("staging", overrides={"dynamodbBillingMode": "ON_DEMAND"})
    message = str(error.value)
    assert "todo-platform:dynamodbBillingMode" in message
    assert "ON_DEMAND" in message and "PAY_PER_REQUEST" in message and "PROVISIONED" in message


def test_negative_memory_names_the_key():
    with pytest.raises(ConfigError) as error:
        evaluate("production", overrides={"apiMemoryMb": -512})
    message = str(error.value)
    assert "todo-platform:apiMemoryMb" in message and "128" in message


def test_non_numeric_value_names_the_key():
    with pytest.raises(ConfigError, match="todo-platform:workerBatchSize"):
        evaluate("staging", overrides={"workerBatchSize": "ten"})


def test_bad_log_retention_lists_the_allowed_values():
    with pytest.raises(ConfigError, match=r"logRetentionDays: 15 is not one of 1, 3, 5, 7, 14"):
        evaluate("staging", overrides={"logRetentionDays": 15})
