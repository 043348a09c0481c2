"""A mail outbox for local runs: every message is printed (like Django's console backend) and
kept as one JSON file in `settings.MAIL_OUTBOX_DIR`, so a developer (or a browser test) can open
the verification and invitation links without a mail server. Production refuses it.

A message file is `<id>.json` with `{id, sent_at, from, to, subject, body, links}`; ids sort by
the time the message was sent. Files are written atomically (a temporary file, then a rename),
so a reader never sees half a message.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.core.mail.message import EmailMessage

__all__ = [
    "MESSAGE_ID",
    "OutboxEmailBackend",
    "outbox_dir",
    "outbox_message_get",
    "outbox_messages",
    "outbox_write",
]

# <UTC time to the microsecond>-<8 hex>: sortable by time, and nothing a path could hide in.
MESSAGE_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")
_URL = re.compile(r"https?://[^\s<>\"'`]+")
_TRAILING = ".,;:!?)]}'\""


def outbox_dir() -> Path | None:
    """The configured outbox directory, or None when the outbox is off."""
    configured: str = getattr(settings, "MAIL_OUTBOX_DIR", "") or ""
    return Path(configured) if configured else None


def links_in(text: str) -> list[str]:
    """Every http(s) URL in `text`, in order, once each, without the sentence's punctuation."""
    found: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url.split("://", 1)[1] and url not in found:
            found.append(url)
    return found


def _new_id(now: datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%S%f')}Z-{secrets.token_hex(4)}"


def outbox_write(directory: Path, message: EmailMessage) -> dict[str, Any]:
    """Store `message` in `directory` as one JSON file (atomically); returns what was stored."""
    now = datetime.now(UTC)
    body = message.body if isinstance(message.body, str) else str(message.body)
    record = {
        "id": _new_id(now),
        "sent_at": now.isoformat(),
        "from": str(message.from_email or settings.DEFAULT_FROM_EMAIL),
        "to": [str(address) for address in message.to],
        "subject": str(message.subject),
        "body": body,
        "links": links_in(body),
    }
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False, indent=2)
        os.replace(temporary, directory / f"{record['id']}.json")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return record


def outbox_messages(directory: Path, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest `limit` messages, newest first."""
    if not directory.is_dir():
        return []
    ids = sorted(
        (p.stem for p in directory.glob("*.json") if MESSAGE_ID.match(p.stem)), reverse=True
    )
    messages = []
    for message_id in ids:
        message = outbox_message_get(directory, message_id)
        if message is not None:
            messages.append(message)
        if len(messages) == limit:
            break
    return messages


def outbox_message_get(directory: Path, message_id: str) -> dict[str, Any] | None:
    """One message, or None for an unknown or malformed id (never a path outside `directory`)."""
    if not MESSAGE_ID.match(message_id):
        return None
    try:
        record: dict[str, Any] = json.loads((directory / f"{message_id}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record


class OutboxEmailBackend(ConsoleEmailBackend):
    """Django's console backend that also keeps each message in the outbox directory
    (`settings.MAIL_OUTBOX_DIR`, or the `outbox_dir` argument)."""

    def __init__(self, *args: Any, outbox_dir: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured = outbox_dir or getattr(settings, "MAIL_OUTBOX_DIR", "")
        if not configured:
            raise ImproperlyConfigured(
                "OutboxEmailBackend needs MAIL_OUTBOX_DIR (a directory for the messages)."
            )
        self.outbox_dir = Path(configured)

    def write_message(self, message: EmailMessage) -> None:
        super().write_message(message)
        outbox_write(self.outbox_dir, message)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        return super().send_messages(email_messages) or 0
