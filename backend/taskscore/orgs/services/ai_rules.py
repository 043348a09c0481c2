"""An org's AI data rules: whether AI criteria are rated, and which task fields go to the AI."""

from __future__ import annotations

from django.db import transaction

from taskscore.audit.services import Actor, audit_record
from taskscore.orgs.models import Organization
from taskscore.orgs.selectors import AIRules, ai_rules_of


@transaction.atomic
def ai_rules_update(
    *,
    org_id: int,
    actor: Actor,
    enabled: bool | None = None,
    send_title: bool | None = None,
    send_description: bool | None = None,
) -> AIRules:
    """Change the rules given (None: unchanged); audited when anything changed. Takes effect
    for every score computed after the commit (a job reads the rules when it runs)."""
    org = Organization.objects.select_for_update().get(pk=org_id)
    before = ai_rules_of(org)
    changes = {
        field: value
        for field, value in (
            ("ai_enabled", enabled),
            ("ai_send_title", send_title),
            ("ai_send_description", send_description),
        )
        if value is not None and getattr(org, field) != value
    }
    if not changes:
        return before
    for field, value in changes.items():
        setattr(org, field, value)
    org.save(update_fields=[*changes, "updated_at"])
    after = ai_rules_of(org)
    audit_record(
        org_id=org_id,
        actor=actor,
        action="org.ai_rules_changed",
        target_type="org",
        target_id=org_id,
        before=before.as_dict(),
        after=after.as_dict(),
    )
    return after
