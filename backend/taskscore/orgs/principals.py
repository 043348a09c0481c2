"""Who is acting in an org and what they may do there, through the permission cache.

A principal is a member (a user's membership) or an API key; each has one role in one org. The
lookup is one Redis round trip on a hit and one SQL query on a miss (taskscore.rbac.cache)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from taskscore.accounts.selectors import user_has_totp
from taskscore.audit.services import Actor
from taskscore.core.errors import ApiKeyExpired, MFARequired, NotFound, PermissionDenied
from taskscore.orgs.keys import key_parse, secret_matches
from taskscore.orgs.models import ApiKey, Membership
from taskscore.orgs.selectors import membership_mfa_required
from taskscore.rbac.cache import Grant, grant_lookup, key_principal, member_principal
from taskscore.rbac.catalog import Perm


@dataclass(frozen=True)
class Principal:
    org_id: int
    org_slug: str
    role: str
    permissions: frozenset[str]
    user_id: int | None = None
    membership_id: int | None = None
    api_key_id: int | None = None
    label: str = ""
    # A member who must have set up two-factor authentication to act here (see Grant).
    mfa_required: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(label=self.label, user_id=self.user_id, api_key_id=self.api_key_id)

    def can(self, permission: Perm) -> bool:
        return permission in self.permissions

    def require(self, permission: Perm) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(
                detail=f"Your role '{self.role}' lacks the permission '{permission}'.",
                permission=permission,
            )


def member_grant_load(user_id: int, org_slug: str) -> Grant | None:
    """A member's grant from Postgres (what the cache fills a miss with)."""
    membership = (
        Membership.objects.select_related("org", "role")
        .filter(user_id=user_id, org__slug=org_slug, user__is_active=True)
        .first()
    )
    if membership is None:
        return None
    return Grant(
        org_id=membership.org_id,
        org_slug=membership.org.slug,
        role=membership.role.key,
        permissions=tuple(membership.role.permissions),
        principal_id=membership.pk,
        user_id=user_id,
        mfa_required=membership_mfa_required(membership),
    )


def key_grant_load(prefix: str) -> Grant | None:
    """An API key's grant from Postgres (what the cache fills a miss with)."""
    api_key = (
        ApiKey.objects.select_related("org", "role")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    return Grant(
        org_id=api_key.org_id,
        org_slug=api_key.org.slug,
        role=api_key.role.key,
        permissions=tuple(api_key.role.permissions),
        principal_id=api_key.pk,
        secret_hash=api_key.secret_hash,
        expires_at=api_key.expires_at.timestamp() if api_key.expires_at is not None else None,
    )


def principal_for_user(user_id: int, *, org_slug: str, email: str = "") -> Principal:
    """The user's principal in the org; NotFound when not a member (never 403, so org names
    cannot be probed)."""
    grant = grant_lookup(
        member_principal(user_id, org_slug), lambda: member_grant_load(user_id, org_slug)
    )
    if grant is None:
        raise NotFound(detail="No such organization.")
    return Principal(
        org_id=grant.org_id,
        org_slug=grant.org_slug,
        role=grant.role,
        permissions=frozenset(grant.permissions),
        user_id=user_id,
        membership_id=grant.principal_id,
        label=email or f"user {user_id}",
        mfa_required=grant.mfa_required,
    )


def principal_mfa_require(principal: Principal) -> None:
    """Refuse (403 `mfa-required`) a member whom the org requires to use two-factor
    authentication and who has not set it up. One SQL query, only for such members (an org's
    owners and admins while it requires it); nobody else pays for the check. API keys are never
    refused here: a key is not a person's login."""
    user_id = principal.user_id
    if principal.mfa_required and user_id is not None and not user_has_totp(user_id=user_id):
        raise MFARequired()


def principal_for_token(
    token: str, *, before_load: Callable[[], None] | None = None, now: float | None = None
) -> Principal | None:
    """The API key's principal if `token` is an active key's full secret, else None;
    ApiKeyExpired (401) for the full secret of a key past its expiry, checked on every use (a
    cached grant carries the expiry), so it is refused from that moment, still with no SQL.
    `now` (Unix time) is the moment of the check; the clock's by default.

    A malformed token is refused without a lookup. An unknown prefix is cached as "no grant"
    for RBAC_ENTRY_TTL_SECONDS like any principal; `before_load` runs before a lookup goes to
    Postgres, where the API refuses a client whose failed authentications are used up, so one
    address adds at most RATE_LIMIT_FAILED_AUTH_PER_MINUTE such entries a minute."""
    parsed = key_parse(token)
    if parsed is None:
        return None

    def load() -> Grant | None:
        if before_load is not None:
            before_load()
        return key_grant_load(parsed.prefix)

    grant = grant_lookup(key_principal(parsed.prefix), load)
    if grant is None or not secret_matches(parsed.secret, grant.secret_hash):
        return None
    moment = now if now is not None else time.time()
    if grant.expires_at is not None and moment >= grant.expires_at:
        raise ApiKeyExpired()
    return Principal(
        org_id=grant.org_id,
        org_slug=grant.org_slug,
        role=grant.role,
        permissions=frozenset(grant.permissions),
        api_key_id=grant.principal_id,
        label=f"API key ts_{parsed.prefix}",
    )
