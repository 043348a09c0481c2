from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskscore.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the audit log records it."""

    label: str
    user_id: int | None = None
    api_key_id: int | None = None


SYSTEM = Actor(label="system")


def audit_record(
    *,
    org_id: int,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event. Call inside the transaction that makes the change, so both or neither."""
    return AuditEvent.objects.create(
        org_id=org_id,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        actor_label=actor.label[:300],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
    )
