from __future__ import annotations

from django.db.models import Q, QuerySet

from taskscore.core.errors import NotFound
from taskscore.rbac.models import Role


def roles_for_org(*, org_id: int) -> QuerySet[Role]:
    """The built-in roles and the org's custom roles."""
    return Role.objects.filter(Q(org__isnull=True) | Q(org_id=org_id)).order_by("org_id", "id")


def role_grantable(*, role: Role, permissions: frozenset[str]) -> bool:
    """Whether someone holding `permissions` may hand out `role` (invite with it, give it to a
    member or an API key, change or delete it): nobody grants more than they hold."""
    return set(role.permissions) <= permissions


def role_get(*, org_id: int, key: str) -> Role:
    role = roles_for_org(org_id=org_id).filter(key=key).first()
    if role is None:
        raise NotFound(detail=f"No role {key!r} in this organization.")
    return role


def role_principals(*, role: Role) -> list[str]:
    """The cache keys of every member and active API key holding `role` (for invalidation).

    Reads through the reverse relations `memberships` and `api_keys` declared by orgs, so
    that rbac never imports orgs."""
    from taskscore.rbac.cache import key_principal, member_principal

    members = role.memberships.values_list("user_id", "org__slug")
    keys = role.api_keys.filter(revoked_at__isnull=True).values_list("prefix", flat=True)
    return [member_principal(u, s) for u, s in members] + [key_principal(p) for p in keys]
