"""Request bodies and queue messages (pydantic v2).

Decisions:
- Unknown fields are rejected (400 naming the field), so a typo or a `userId` in a body never passes
  silently; the queue message model ignores unknown fields instead (a newer producer must not turn
  every message into poison).
- Types are strict where JSON has the right type (an age is an integer, not "30").
- Amounts: a JSON number or a numeric string, parsed as Decimal, > 0, at most 2 decimal places,
  at most 1,000,000,000; stored as a number and shown as a string with 2 decimals ("12.50").
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from todo_app.currencies import ISO_4217
from todo_app.ids import ID_PATTERN

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")

Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(strict=True, min_length=8, max_length=128)]
Age = Annotated[int, Field(strict=True, ge=0, le=150)]
Title = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strict=True, max_length=2000)]
Priority = Literal["low", "medium", "high"]
Status = Literal["open", "done"]


class _Body(BaseModel):
    # defer_build: each function builds only the validators it uses, at first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address")
    return value


def _check_due_date(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None
    return value


Email = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=3, max_length=254), AfterValidator(_check_email)]
DueDate = Annotated[str | None, BeforeValidator(_check_due_date)]


def _require_one(model: BaseModel, fields: tuple[str, ...]) -> None:
    if not model.model_fields_set & set(fields):
        raise ValueError(f"at least one of {', '.join(fields)} is required")


class UserCreate(_Body):
    name: Name
    email: Email
    password: Password
    age: Age | None = None


class UserUpdate(_Body):
    name: Name | None = None
    email: Email | None = None
    age: Age | None = None  # null clears the age

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _one(self) -> UserUpdate:
        _require_one(self, ("name", "email", "age"))
        if "email" in self.model_fields_set and self.email is None:
            raise ValueError("email cannot be null")
        return self


class SessionCreate(_Body):
    email: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]


class TodoCreate(_Body):
    title: Title
    description: Description | None = None
    dueDate: DueDate = None
    priority: Priority = "medium"


class TodoUpdate(_Body):
    title: Title | None = None
    description: Description | None = None  # null removes it
    status: Status | None = None
    dueDate: DueDate = None  # null removes it
    priority: Priority | None = None

    @field_validator("title", "status", "priority")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value

    @model_validator(mode="after")
    def _one(self) -> TodoUpdate:
        _require_one(self, ("title", "description", "status", "dueDate", "priority"))
        return self


def parse_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise ValueError("must be a number or a numeric string")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise ValueError("must be a number or a numeric string") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be greater than 0")
    if amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        raise ValueError("must have at most 2 decimal places")
    if amount > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    return amount.quantize(CENT)


def check_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code in upper case, e.g. EUR")
    return value


def format_amount(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(CENT))


Amount = Annotated[Decimal, BeforeValidator(parse_amount)]
Currency = Annotated[str, BeforeValidator(check_currency)]


class OrderItem(_Body):
    sku: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64)]
    quantity: Annotated[int, Field(strict=True, ge=1, le=1000)]


class OrderCreate(_Body):
    amount: Amount
    currency: Currency
    items: Annotated[list[OrderItem], Field(max_length=50)] = []

    def normalized(self) -> dict[str, Any]:
        """The order as JSON-ready data, the same for every spelling of the same order."""
        return {
            "amount": format_amount(self.amount),
            "currency": self.currency,
            "items": [item.model_dump() for item in self.items],
        }


class OrderMessage(BaseModel):
    """What POST /orders puts on the queue and the worker stores."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    orderId: Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN.pattern)]
    userId: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
    amount: Amount
    currency: Currency
    items: Annotated[list[OrderItem], Field(max_length=50)] = []
    createdAt: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=40)]
