from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import DateTimeField, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from taskscore.accounts.models import User
from taskscore.accounts.selectors import (
    user_email_is_verified,
    user_has_totp,
    user_verified_emails,
)
from taskscore.audit.models import AuditEvent
from taskscore.audit.selectors import AuditFilters, audit_list
from taskscore.core.errors import NotFound
from taskscore.orgs.keys import secret_hash
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.rbac.catalog import is_administrative


@dataclass(frozen=True)
class AIRules:
    """An org's AI data rules (see Organization)."""

    org_id: int
    enabled: bool
    send_title: bool
    send_description: bool

    @property
    def fields(self) -> tuple[str, ...]:
        """The task fields that may be sent to the AI, in the order the AI reads them."""
        return tuple(
            name
            for name, allowed in (
                ("title", self.send_title),
                ("description", self.send_description),
            )
            if allowed
        )

    def as_dict(self) -> dict[str, bool]:
        return {
            "enabled": self.enabled,
            "send_title": self.send_title,
            "send_description": self.send_description,
        }


def ai_rules_of(org: Organization) -> AIRules:
    return AIRules(
        org_id=org.pk,
        enabled=org.ai_enabled,
        send_title=org.ai_send_title,
        send_description=org.ai_send_description,
    )


def ai_rules(*, org_id: int) -> AIRules:
    org = Organization.objects.only("id", "ai_enabled", "ai_send_title", "ai_send_description").get(
        pk=org_id
    )
    return ai_rules_of(org)


INVITATION_INVALID = "This invitation is not valid (expired, revoked or used)."


def invitation_pending(now: datetime | None = None) -> Q:
    """Invitations that can still be accepted: not accepted, revoked, declined or expired."""
    return Q(
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        declined_at__isnull=True,
        expires_at__gt=now or timezone.now(),
    )


def memberships_of_user(*, user_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("org", "role")
        .filter(user_id=user_id)
        .order_by("created_at")
    )


@dataclass(frozen=True)
class Account:
    """The logged-in user as `/me` shows them."""

    user: User
    email_verified: bool
    memberships: list[Membership]
    mfa_enabled: bool = False


def account_get(*, user: User) -> Account:
    return Account(
        user=user,
        email_verified=user_email_is_verified(user_id=user.pk),
        memberships=list(memberships_of_user(user_id=user.pk)),
        mfa_enabled=user_has_totp(user_id=user.pk),
    )


def membership_mfa_required(membership: Membership) -> bool:
    """Whether the member must have set up two-factor authentication to act in the org through a
    session: the org requires it of owners and admins, and their role is one (an administrative
    one: rbac.catalog.ADMINISTRATIVE). Reads the membership's org and role."""
    return membership.org.mfa_required_for_admins and is_administrative(membership.role.permissions)


@dataclass(frozen=True)
class SecuritySettings:
    """An org's security settings (see Organization)."""

    org_id: int
    mfa_required_for_admins: bool

    def as_dict(self) -> dict[str, bool]:
        return {"mfa_required_for_admins": self.mfa_required_for_admins}


def security_settings_of(org: Organization) -> SecuritySettings:
    return SecuritySettings(org_id=org.pk, mfa_required_for_admins=org.mfa_required_for_admins)


def security_settings(*, org_id: int) -> SecuritySettings:
    return security_settings_of(
        Organization.objects.only("id", "mfa_required_for_admins").get(pk=org_id)
    )


def member_list(*, org_id: int) -> QuerySet[Membership]:
    """The org's members, each with `last_active_at`: the later of their last log-in and their
    last audited change in this org (None: neither happened yet)."""
    last_change = (
        AuditEvent.objects.filter(org_id=OuterRef("org_id"), actor_user_id=OuterRef("user_id"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        Membership.objects.select_related("user", "role")
        .filter(org_id=org_id)
        .annotate(
            # Postgres' GREATEST skips NULLs: null only when both are.
            last_active_at=Greatest(
                F("user__last_login"),
                Subquery(last_change, output_field=DateTimeField()),
                output_field=DateTimeField(),
            )
        )
        .order_by("created_at", "pk")
    )


def member_get(*, org_id: int, membership_id: int) -> Membership:
    """One member, as `member_list` shows them."""
    membership = member_list(org_id=org_id).filter(pk=membership_id).first()
    if membership is None:
        raise NotFound(detail="No such member.")
    return membership


def invitation_list(*, org_id: int) -> QuerySet[Invitation]:
    """Pending invitations (not accepted, revoked, declined or expired)."""
    return (
        Invitation.objects.select_related("role", "invited_by", "invited_by_api_key")
        .filter(invitation_pending(), org_id=org_id)
        .order_by("-created_at")
    )


def _with_sender(qs: QuerySet[Invitation]) -> QuerySet[Invitation]:
    return qs.select_related("org", "role", "invited_by", "invited_by_api_key")


def invitation_get_by_token(*, token: str) -> Invitation:
    """The pending invitation the emailed token stands for (with its org, role and sender)."""
    invitation = (
        _with_sender(Invitation.objects.filter(invitation_pending()))
        .filter(token_hash=secret_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFound(detail=INVITATION_INVALID)
    return invitation


def invitations_of_user(*, user: User) -> list[Invitation]:
    """The pending invitations sent to the user's verified addresses to orgs they are not in,
    newest first; none to an address until the user has verified that it is theirs."""
    if not user_email_is_verified(user_id=user.pk):
        return []
    emails = user_verified_emails(user_id=user.pk)
    return list(
        _with_sender(Invitation.objects.filter(invitation_pending(), email__in=emails))
        .exclude(org__memberships__user=user)  # joined meanwhile: nothing left to accept
        .order_by("-created_at", "-pk")
    )


def api_key_list(*, org_id: int) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.select_related("role", "created_by")
        .filter(org_id=org_id)
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class AuditPage:
    """A page of the org's audit log, with the names of the API keys that acted in it."""

    events: list[AuditEvent]
    next_cursor: str | None
    api_key_names: dict[int, str]


def audit_page(*, org_id: int, limit: int, cursor: str | None, filters: AuditFilters) -> AuditPage:
    events, next_cursor = audit_list(org_id=org_id, limit=limit, cursor=cursor, filters=filters)
    key_ids = {e.actor_api_key_id for e in events if e.actor_api_key_id is not None}
    names = dict(ApiKey.objects.filter(org_id=org_id, pk__in=key_ids).values_list("pk", "name"))
    return AuditPage(events=events, next_cursor=next_cursor, api_key_names=names)
