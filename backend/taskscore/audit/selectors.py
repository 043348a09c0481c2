from __future__ import annotations

from django.db.models import Q

from taskscore.audit.models import AuditEvent
from taskscore.core.cursor import cursor_decode, cursor_encode
from taskscore.core.errors import FieldError, ValidationFailed


def audit_list(
    *, org_id: int, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """The org's audit events, newest first, a page at a time."""
    qs = AuditEvent.objects.filter(org_id=org_id).order_by("-created_at", "-id")
    if cursor:
        created_at, pk = cursor_decode(cursor)
        if not pk.isdigit():
            raise ValidationFailed(
                detail="The cursor is not valid.",
                errors=[FieldError("cursor", "Use the next_cursor of a previous page.")],
            )
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=int(pk)))
    items = list(qs[: limit + 1])
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, cursor_encode(created_at=items[-1].created_at, pk=items[-1].pk)
