"""Opaque cursors for keyset pagination over (created_at, pk), newest first."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from taskscore.core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=Model)


def cursor_encode(*, created_at: datetime, pk: object) -> str:
    raw = json.dumps([created_at.isoformat(), str(pk)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), str(pk)
    except (ValueError, TypeError) as exc:
        raise _invalid_cursor() from exc


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed(
        detail="The cursor is not valid.",
        errors=[FieldError("cursor", "Use the next_cursor of a previous page.")],
    )


def page_newest_first(
    queryset: QuerySet[M], *, limit: int, cursor: str | None
) -> tuple[list[M], str | None]:
    """One page of `queryset` ordered by (created_at, pk) descending, and the cursor of the
    next page (None on the last). The model needs a `created_at` field."""
    qs = queryset.order_by("-created_at", "-pk")
    if cursor:
        created_at, pk = cursor_decode(cursor)
        try:
            qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
            items = list(qs[: limit + 1])
        except (ValueError, TypeError, DjangoValidationError) as exc:
            raise _invalid_cursor() from exc
    else:
        items = list(qs[: limit + 1])
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    last = items[-1]
    return items, cursor_encode(created_at=last.created_at, pk=last.pk)  # type: ignore[attr-defined]
