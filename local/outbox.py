"""What reaches SES in the emulator, as RFC 5322 messages: the local runtime writes each one to `.local/outbox/`
as an `.eml` file (open it in a mail client, or read the link from it), and the tests read them the same way."""

from __future__ import annotations

import json
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any


def sent_messages(emulator_url: str) -> list[dict[str, Any]]:
    """Every message the emulator's SES has accepted, oldest first: {id, source, destinations, subject, body}."""
    with urllib.request.urlopen(emulator_url + "/moto-api/data.json", timeout=10) as answer:
        data = json.load(answer)
    messages: list[dict[str, Any]] = data.get("ses", {}).get("Message", [])
    return messages


def as_email(message: dict[str, Any]) -> EmailMessage:
    """One SES message as an RFC 5322 message."""
    mail = EmailMessage()
    mail["From"] = str(message["source"])
    mail["To"] = ", ".join(message.get("destinations", {}).get("ToAddresses", []))
    mail["Subject"] = str(message.get("subject", ""))
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(idstring=str(message["id"])[:32], domain="ses.local")
    mail.set_content(str(message.get("body", "")))
    return mail


def write_new(emulator_url: str, directory: Path, written: set[str]) -> list[Path]:
    """Write each message not in `written` (SES message ids, updated) as `<directory>/<id>.eml`; the new files."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for message in sent_messages(emulator_url):
        if message["id"] in written:
            continue
        written.add(message["id"])
        path = directory / f"{message['id']}.eml"
        path.write_bytes(bytes(as_email(message)))
        paths.append(path)
    return paths
