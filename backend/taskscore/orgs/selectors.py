from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from taskscore.orgs.models import ApiKey, Invitation, Membership


def memberships_of_user(*, user_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("org", "role")
        .filter(user_id=user_id)
        .order_by("created_at")
    )


def member_list(*, org_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.select_related("user", "role")
        .filter(org_id=org_id)
        .order_by("created_at", "pk")
    )


def invitation_list(*, org_id: int) -> QuerySet[Invitation]:
    """Pending invitations (not accepted, revoked or expired)."""
    return (
        Invitation.objects.select_related("role")
        .filter(
            org_id=org_id,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
    )


def api_key_list(*, org_id: int) -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("role").filter(org_id=org_id).order_by("-created_at")
