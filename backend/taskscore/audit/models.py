from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    """An append-only record of a change to who may do what: who, what, when, before/after."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_api_key_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(
        max_length=300
    )  # an email or "API key ts_abc…", kept as shown then
    action = models.CharField(max_length=80)  # e.g. "member.role_changed"
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=80)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at", "-id"], name="audit_org_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
