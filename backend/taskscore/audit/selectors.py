from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from taskscore.audit.models import AuditEvent
from taskscore.core.cursor import page_newest_first


@dataclass(frozen=True)
class AuditFilters:
    """Which events of an org to show; every filter is optional and they combine with AND."""

    action: str | None = None  # exactly this action, e.g. "member.role_changed"
    actor: str | None = None  # who acted: part of their label (an email, "API key ts_…"), any case
    since: datetime | None = None  # at or after
    until: datetime | None = None  # before


def audit_list(
    *, org_id: int, limit: int, cursor: str | None, filters: AuditFilters | None = None
) -> tuple[list[AuditEvent], str | None]:
    """The org's audit events that match `filters`, newest first, a page at a time."""
    events = AuditEvent.objects.filter(org_id=org_id)
    if filters is not None:
        if filters.action:
            events = events.filter(action=filters.action)
        if filters.actor:
            events = events.filter(actor_label__icontains=filters.actor)
        if filters.since is not None:
            events = events.filter(created_at__gte=filters.since)
        if filters.until is not None:
            events = events.filter(created_at__lt=filters.until)
    return page_newest_first(events, limit=limit, cursor=cursor)
