from __future__ import annotations

from django.db.models import QuerySet

from taskscore.orgs.keys import key_parse, secret_matches
from taskscore.orgs.models import ApiKey, Membership


def membership_get(*, user_id: int, org_slug: str) -> Membership | None:
    return (
        Membership.objects.select_related("org").filter(user_id=user_id, org__slug=org_slug).first()
    )


def memberships_of_user(*, user_id: int) -> QuerySet[Membership]:
    return Membership.objects.select_related("org").filter(user_id=user_id).order_by("created_at")


def api_key_authenticate(*, token: str) -> ApiKey | None:
    """The active key whose secret matches `token`, or None."""
    parsed = key_parse(token)
    if parsed is None:
        return None
    api_key = (
        ApiKey.objects.select_related("org")
        .filter(prefix=parsed.prefix, revoked_at__isnull=True)
        .first()
    )
    if api_key is None or not secret_matches(parsed.secret, api_key.secret_hash):
        return None
    return api_key
