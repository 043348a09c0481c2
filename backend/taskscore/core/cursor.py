"""Opaque cursors for keyset pagination over (created_at, id), newest first."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from taskscore.core.errors import FieldError, ValidationFailed


def cursor_encode(*, created_at: datetime, pk: object) -> str:
    raw = json.dumps([created_at.isoformat(), str(pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), str(pk)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(
            detail="The cursor is not valid.",
            errors=[FieldError("cursor", "Use the next_cursor of a previous page.")],
        ) from exc
