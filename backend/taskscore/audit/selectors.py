from __future__ import annotations

from taskscore.audit.models import AuditEvent
from taskscore.core.cursor import page_newest_first


def audit_list(
    *, org_id: int, limit: int, cursor: str | None
) -> tuple[list[AuditEvent], str | None]:
    """The org's audit events, newest first, a page at a time."""
    return page_newest_first(AuditEvent.objects.filter(org_id=org_id), limit=limit, cursor=cursor)
