"""Rules that must be written in one place only: a second hand-written copy drifts."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import TypeAdapter

from tierspec.email_address import EMAIL_PATTERN
from todo_app import models

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    p
    for folder in ("components", "functions", "local", "client", "bench", "web", "examples")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".py", ".js", ".html") and p.is_file()
]


def test_the_email_pattern_is_written_once():
    writers = sorted(str(p.relative_to(ROOT)) for p in SOURCES if re.search(r"@\\{1,2}s", p.read_text(encoding="utf-8")))
    assert writers == ["functions/tierspec/email_address.py"]


def test_every_email_rule_is_the_one_pattern():
    from bench.baseline_app import Email
    from components.config import StackConfig

    assert models._EMAIL.pattern == EMAIL_PATTERN
    assert models.EMAIL_PATTERN.startswith("^[^@\\s")  # the schema's: the same, control characters also refused
    assert StackConfig.model_fields["alarm_email"].metadata[0].pattern == f"^$|{EMAIL_PATTERN}"
    assert TypeAdapter(Email).json_schema()["pattern"] == EMAIL_PATTERN
