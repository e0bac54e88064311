"""Request bodies and queue messages (pydantic v2).

Decisions:
- Unknown fields are rejected (400 naming the field), so a typo or a `userId` in a body never passes
  silently; the queue message model ignores unknown fields instead (a newer producer must not turn
  every message into poison).
- Types are strict where JSON has the right type (an age is an integer, not "30").
- Amounts: a JSON number or a numeric string (AMOUNT_PATTERN: ASCII digits, no sign, spaces, separators
  or leading zeros), parsed as Decimal, > 0, at most 2 decimal places, at most 1,000,000,000; stored as a number and shown as a string with 2 decimals ("12.50").
- Text: no control characters (C0, DEL, C1) and no lone surrogates anywhere, one rule for every
  string field (`NoControl`); only a todo's description may hold line breaks and tabs. PostgreSQL refuses
  NUL, and a stored control character is a trap for every later reader (logs, terminals, CSV).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from tierspec.email_address import NOT_IN_EMAIL, email_pattern
from todo_app.currencies import ISO_4217
from todo_app.ids import ID_PATTERN

_EMAIL = re.compile(email_pattern())
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")

# Control characters (C0, DEL, C1) and lone surrogates; multi-line text may also hold \t, \n and \r.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# the same rules for the OpenAPI document (JSON Schema patterns, so generated valid data obeys them)
TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
MULTILINE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


# Single-line text a person reads (names, titles, SKUs; `NoControl(visible=True)`) also refuses what hides or
# reorders text: format characters (Unicode Cf: zero-width, bidi marks, embeddings, overrides and isolates),
# line and paragraph separators (U+2028/2029). The zero-width (non-)joiners U+200C/U+200D are kept where they
# join (between two visible characters: emoji sequences, Persian and Indic words). The schema's pattern lists
# the BMP's format characters (Unicode 14) but the joiners, so it never refuses what the API accepts.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})
_LINES = frozenset({"\t", "\n", "\r"})
_FORMAT_RANGES = (
    "\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u180e\\u200b\\u200e-\\u200f"
    "\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
)
VISIBLE_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f" + _FORMAT_RANGES + "]*$"
VISIBLE_MULTILINE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f" + _FORMAT_RANGES + "]*$"


def _shows(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in _HIDDEN_CATEGORIES


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of `value` that the visible-text rule refuses, or None."""
    if value.isprintable():  # the common case, in C: no Cc, Cf, Zl, Zp (nor any other separator but " ")
        return None
    for i, char in enumerate(value):
        if multiline and char in _LINES:
            continue
        if char in _JOINERS:
            if 0 < i < len(value) - 1 and _shows(value[i - 1]) and _shows(value[i + 1]):
                continue
            return char
        if unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return char
    return None


@dataclass(frozen=True)
class NoControl:
    """The one text rule, as an `Annotated` marker: validates (400 naming the field) and documents
    itself in the JSON Schema as a pattern, so generated valid data obeys it too. `visible`: the stricter
    rule of text a person reads (above), checked on the value as sent (before any stripping)."""

    multiline: bool = False
    visible: bool = False

    def check(self, value: str) -> str:
        if (_CONTROL_BUT_LINES if self.multiline else _CONTROL).search(value):
            allowed = " other than line breaks and tabs" if self.multiline else ""
            raise ValueError(f"must not contain control characters{allowed}")
        return value

    def check_visible(self, value: Any) -> Any:
        if isinstance(value, str) and (char := hidden_character(value, multiline=self.multiline)) is not None:
            allowed = " other than line breaks and tabs" if self.multiline else ""
            raise ValueError(f"must not contain control, invisible or direction-changing characters{allowed} (found U+{ord(char):04X})")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        if self.visible:
            return core_schema.no_info_before_validator_function(self.check_visible, handler(source))
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        found = handler(schema)
        if self.visible:
            found["pattern"] = VISIBLE_MULTILINE_PATTERN if self.multiline else VISIBLE_TEXT_PATTERN
        else:
            found["pattern"] = MULTILINE_PATTERN if self.multiline else TEXT_PATTERN
        return found


Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100), NoControl(visible=True)]
Password = Annotated[str, StringConstraints(strict=True, min_length=8, max_length=128), NoControl()]
Age = Annotated[int, Field(strict=True, ge=0, le=150)]
Title = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200), NoControl(visible=True)]
Description = Annotated[str, StringConstraints(strict=True, max_length=2000), NoControl(multiline=True, visible=True)]
Priority = Literal["low", "medium", "high"]
Status = Literal["open", "done"]


class _Body(BaseModel):
    # defer_build: each function builds only the validators it uses, at first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address")
    return value


def email_key(email: str) -> str:
    """What makes two e-mail addresses the same account: Unicode-normalised (NFKC) and case-folded, so
    that "Ärger@", "ärger@" and "ÄRGER@" (and "straße@"/"STRASSE@") are one address. NFKC again after
    folding, since folding can produce characters that normalisation would combine."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email.strip()).casefold())


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


EMAIL_PATTERN = email_pattern(NOT_IN_EMAIL + "\\u0000-\\u001f\\u007f-\\u009f")  # _EMAIL and the text rule, for the schema
Email = Annotated[
    str,
    StringConstraints(strict=True, strip_whitespace=True, min_length=3, max_length=254),
    NoControl(),
    AfterValidator(_check_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
]
DueDate = Annotated[
    str | None,
    BeforeValidator(_check_due_date),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}, {"type": "null"}]}),
]


def _schema_of_update(*not_null: str) -> Callable[[dict[str, Any]], None]:
    """An update body's JSON Schema as the validators have it: at least one field, and `not_null`
    fields absent or a value (the models type them optional only to tell absent from given)."""

    def adjust(schema: dict[str, Any]) -> None:
        schema["minProperties"] = 1
        for name in not_null:
            prop = schema["properties"][name]
            choices = [c for c in prop.pop("anyOf", []) if c.get("type") != "null"]
            prop.pop("default", None)
            if len(choices) == 1:
                prop.update(choices[0])
            else:
                prop["anyOf"] = choices

    return adjust


def _require_one(model: BaseModel, fields: tuple[str, ...]) -> None:
    if not model.model_fields_set & set(fields):
        raise ValueError(f"at least one of {', '.join(fields)} is required")


class UserCreate(_Body):
    name: Name
    email: Email
    password: Password
    age: Age | None = None


CurrentPassword = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128), NoControl()]


class UserUpdate(_Body):
    model_config = ConfigDict(json_schema_extra=_schema_of_update("name", "email"))

    name: Name | None = None
    email: Email | None = None
    age: Age | None = None  # null clears the age
    # required to change the e-mail (checked by the handler: 400 naming it when missing, 403 when wrong)
    currentPassword: CurrentPassword | None = None

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


class PasswordChange(_Body):
    currentPassword: CurrentPassword
    newPassword: Password


class SessionCreate(_Body):
    email: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=254), NoControl()]
    password: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128), NoControl()]
    # an earlier log-in's deviceToken (unknown or expired ones are simply not counted as a device)
    deviceToken: Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9_-]{16,128}$")] | None = None


class PasswordResetRequest(_Body):
    email: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=254), NoControl()]


class PasswordResetConfirm(_Body):
    token: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=256), NoControl()]
    newPassword: Password


class TodoCreate(_Body):
    title: Title
    description: Description | None = None
    dueDate: DueDate = None
    priority: Priority = "medium"


class TodoUpdate(_Body):
    model_config = ConfigDict(json_schema_extra=_schema_of_update("title", "status", "priority"))

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


# An amount as a string: ASCII digits, no sign, spaces, separators or leading zeros, at most 2 decimals
# ("0.50" and "12" yes; "00012", "+5", " 5 ", ".5", "1.", "1_000", "٥", "５" no). The validation and the
# OpenAPI document use this one pattern (Decimal() alone would take all of those).
AMOUNT_PATTERN = "^(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
_PLAIN_DECIMAL = re.compile("(0|[1-9][0-9]*)(\\.[0-9]+)?")  # the shape, to name what is wrong with it


def parse_amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise ValueError("must be a number or a numeric string")
    if isinstance(value, str) and not _AMOUNT.fullmatch(value):
        plain = _PLAIN_DECIMAL.fullmatch(value)
        if plain and plain.group(2) and len(plain.group(2)) > 3:
            raise ValueError("must have at most 2 decimal places")
        if plain and len(plain.group(1)) > 10:
            raise ValueError(f"must be at most {MAX_AMOUNT}")
        raise ValueError("must be digits with at most 2 decimal places, e.g. 12.50 (no sign, spaces, separators or leading zeros)")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ValueError("must be a number or a numeric string") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount <= 0:
        raise ValueError("must be greater than 0")
    # the range before any arithmetic: quantizing 1e27 or 1e1000000 exceeds the decimal context
    if amount > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        raise ValueError("must have at most 2 decimal places")
    return amount.quantize(CENT)


def check_currency(value: Any) -> str:
    if not isinstance(value, str) or value not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code in upper case, e.g. EUR")
    return value


def format_amount(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(CENT))


AMOUNT_SCHEMA = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_AMOUNT), "multipleOf": 0.01},
        {"type": "string", "pattern": AMOUNT_PATTERN},
    ],
    "description": "> 0, at most 2 decimal places, at most 1000000000; a string keeps it exact",
}
Amount = Annotated[Decimal, BeforeValidator(parse_amount), WithJsonSchema(AMOUNT_SCHEMA)]
Currency = Annotated[str, BeforeValidator(check_currency), WithJsonSchema({"type": "string", "enum": sorted(ISO_4217)})]


class OrderItem(_Body):
    sku: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64), NoControl(visible=True)]
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
