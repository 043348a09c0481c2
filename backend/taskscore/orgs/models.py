from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from taskscore.core.models import TimestampedModel
from taskscore.rbac.models import Role


class Organization(TimestampedModel):
    """A tenant: every task, score and key belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    # The org's AI data rules: whether AI criteria are rated at all, and which task fields may
    # be sent to the AI (always after redaction: taskscore.integrations.ai.redact).
    ai_enabled = models.BooleanField(default=True)
    ai_send_title = models.BooleanField(default=True)
    ai_send_description = models.BooleanField(default=True)
    # Owners and admins (any role that may manage members, API keys or billing) must have set up
    # two-factor authentication to use the org through a session (ADR 0012, "MFA").
    mfa_required_for_admins = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.slug


class Membership(TimestampedModel):
    """A user in an org, with one role there."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="membership_unique_org_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.org_id}:{self.role_id}"


class ApiKey(TimestampedModel):
    """An org's programmatic principal. The secret is shown once; only its SHA-256 is stored."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="api_keys")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Recorded at most once a minute per key and process (services.keys.api_key_touch).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # From this moment the key authenticates as nothing (401 "expired"); null: it never expires.
    expires_at = models.DateTimeField(null=True, blank=True)

    @property
    def is_active(self) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def __str__(self) -> str:
        return f"ts_{self.prefix}_… ({self.name})"


class Invitation(TimestampedModel):
    """An invitation to join an org with a role. The token is emailed; only its hash is kept."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)  # by the invited person

    class Meta:
        indexes = [
            models.Index(fields=["org", "email"], name="invitation_org_email"),
            # "My invitations": the pending ones sent to an address, across orgs.
            models.Index(
                Upper("email"),
                name="invitation_pending_email",
                condition=models.Q(
                    accepted_at__isnull=True, revoked_at__isnull=True, declined_at__isnull=True
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.org_id}"
