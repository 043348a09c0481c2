"""Who is acting in an org: a member (a user with a membership) or an API key."""

from __future__ import annotations

from dataclasses import dataclass

from taskscore.core.errors import NotFound
from taskscore.orgs.models import ApiKey
from taskscore.orgs.selectors import membership_get


@dataclass(frozen=True)
class Principal:
    org_id: int
    org_slug: str
    role: str
    user_id: int | None = None
    api_key_id: int | None = None


def principal_for_api_key(api_key: ApiKey, *, org_slug: str | None = None) -> Principal:
    """The key's principal; NotFound when the request names another org than the key's."""
    if org_slug is not None and api_key.org.slug != org_slug:
        raise NotFound(detail="No such organization.")
    return Principal(
        org_id=api_key.org_id, org_slug=api_key.org.slug, role=api_key.role, api_key_id=api_key.pk
    )


def principal_for_user(user_id: int, *, org_slug: str) -> Principal:
    """The user's principal in the org; NotFound when the user is not a member (never 403, so
    org names cannot be probed)."""
    membership = membership_get(user_id=user_id, org_slug=org_slug)
    if membership is None:
        raise NotFound(detail="No such organization.")
    return Principal(
        org_id=membership.org_id, org_slug=org_slug, role=membership.role, user_id=user_id
    )
