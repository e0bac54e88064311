"""What counts as an e-mail address, written once (here, beside the specs, so that the stack config can
check `alarmEmail` without importing the application).

Something, an `@`, something with a dot, none of the parts holding an `@` or white space. The request
models validate with it (todo_app.models, which adds its control-character rule for the OpenAPI
document's pattern), the stack config checks `alarmEmail` with it (components/config.py), and the
benchmark's baseline app validates with it too (bench/baseline_app.py). No imports: each of them loads it.
"""

from __future__ import annotations

NOT_IN_EMAIL = "@\\s"  # a regex character class's contents: no part holds these


def email_pattern(not_in_email: str = NOT_IN_EMAIL) -> str:
    """The pattern (Python and ECMAScript regex alike); `not_in_email` widens what no part may hold."""
    return f"^[^{not_in_email}]+@[^{not_in_email}]+\\.[^{not_in_email}]+$"


EMAIL_PATTERN = email_pattern()
