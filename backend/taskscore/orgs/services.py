"""Writes to orgs: organizations, API keys, members and invitations. Every change to who may do
what goes through `rbac.cache.changing` (so no cached grant outlives it) and the audit log."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from taskscore.accounts.models import User
from taskscore.accounts.selectors import user_email_is_verified
from taskscore.audit.services import Actor, audit_record
from taskscore.core.errors import (
    Conflict,
    EmailNotVerified,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from taskscore.orgs.keys import key_generate, secret_hash
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.orgs.selectors import INVITATION_INVALID, invitation_pending
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_get
from taskscore.rbac.services import grant_require, role_builtin

INVITATION_DAYS = 7


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    token: str  # the full secret token; shown once, never stored


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: Invitation
    accept_url: str  # carries the token; shown once and emailed, never stored


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, suffix = base, 1
    while Organization.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


def _require_verified_email(user: User) -> None:
    if not user_email_is_verified(user_id=user.pk):
        raise EmailNotVerified()


@transaction.atomic
def org_create(*, name: str, owner: User) -> Organization:
    """Create an org with `owner` as its first owner; the owner's email must be verified."""
    name = name.strip()
    if not name:
        raise ValidationFailed(
            detail="An organization needs a name.", errors=[FieldError("name", "Enter a name.")]
        )
    _require_verified_email(owner)
    for _ in range(5):
        try:
            with transaction.atomic():
                org = Organization.objects.create(name=name[:200], slug=_unique_slug(name))
            break
        except IntegrityError:  # a concurrent create took the slug; pick the next one
            continue
    else:
        raise Conflict(detail="Could not allocate a unique slug; try again.")
    cache.changing([cache.member_principal(owner.pk, org.slug)])  # drop a cached "not a member"
    membership = Membership.objects.create(org=org, user=owner, role=role_builtin("owner"))
    audit_record(
        org_id=org.pk, actor=Actor(label=owner.email, user_id=owner.pk), action="org.created",
        target_type="membership", target_id=membership.pk,
        after={"email": owner.email, "role": "owner"},
    )  # fmt: skip
    return org


# ---------------------------------------------------------------------------------- API keys


@transaction.atomic
def api_key_create(
    *,
    org: Organization,
    name: str,
    role_key: str,
    caller: Caller,
    created_by: User | None = None,
) -> CreatedKey:
    """A new key with `role_key`, which the caller must be allowed to grant (operators' commands
    pass `rbac.callers.OPERATOR`). The key is recorded as made by `created_by`, or by the acting
    member."""
    role = role_get(org_id=org.pk, key=role_key)
    grant_require(caller=caller, role=role)
    token, parsed = key_generate()
    cache.changing([cache.key_principal(parsed.prefix)])
    api_key = ApiKey.objects.create(
        org=org,
        name=name.strip()[:200] or "API key",
        prefix=parsed.prefix,
        secret_hash=secret_hash(parsed.secret),
        role=role,
        created_by_id=created_by.pk if created_by is not None else caller.actor.user_id,
    )
    audit_record(
        org_id=org.pk, actor=caller.actor, action="api_key.created", target_type="api_key",
        target_id=api_key.pk,
        after={"name": api_key.name, "prefix": api_key.prefix, "role": role.key},
    )  # fmt: skip
    return CreatedKey(api_key=api_key, token=token)


@transaction.atomic
def api_key_revoke(*, org_id: int, key_id: int, caller: Caller) -> ApiKey:
    api_key = (
        ApiKey.objects.select_for_update()
        .select_related("role")
        .filter(org_id=org_id, pk=key_id)
        .first()
    )
    if api_key is None:
        raise NotFound(detail="No such API key.")
    grant_require(caller=caller, role=api_key.role)
    if api_key.revoked_at is None:
        cache.changing([cache.key_principal(api_key.prefix)])
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            org_id=org_id, actor=caller.actor, action="api_key.revoked", target_type="api_key",
            target_id=api_key.pk, before={"prefix": api_key.prefix, "role": api_key.role.key},
        )  # fmt: skip
    return api_key


_touched: dict[int, float] = {}
_touched_lock = threading.Lock()


def api_key_touch(*, api_key_id: int) -> None:
    """Record use at most once a minute per key and process, so hot keys do not write (or read)
    the database on every request."""
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(api_key_id, -120.0) < 60:
            return
        _touched[api_key_id] = now
    ApiKey.objects.filter(pk=api_key_id).update(last_used_at=timezone.now())


# ---------------------------------------------------------------------------------- members


def _owner_count(org_id: int) -> int:
    """Owners who can still act (a deactivated user's membership does not count)."""
    return Membership.objects.filter(
        org_id=org_id, role__org__isnull=True, role__key="owner", user__is_active=True
    ).count()


def _member_locked(org_id: int, membership_id: int) -> Membership:
    # Lock every membership of the org: the last-owner rule reads them all.
    members = {
        m.pk: m
        for m in Membership.objects.select_for_update()
        .select_related("role", "user", "org")
        .filter(org_id=org_id)
        .order_by("pk")
    }
    if membership_id not in members:
        raise NotFound(detail="No such member.")
    return members[membership_id]


@transaction.atomic
def member_role_change(
    *,
    org_id: int,
    membership_id: int,
    role_key: str,
    caller: Caller,
) -> Membership:
    membership = _member_locked(org_id, membership_id)
    role = Role.objects.select_for_update().get(pk=role_get(org_id=org_id, key=role_key).pk)
    grant_require(caller=caller, role=membership.role)  # may touch them
    grant_require(caller=caller, role=role)  # may give this
    is_owner = membership.role.key == "owner" and membership.role.is_builtin
    if is_owner and role.key != "owner" and _owner_count(org_id) <= 1:
        raise Conflict(detail="The last owner cannot be demoted; make someone else owner first.")
    before = {"email": membership.user.email, "role": membership.role.key}
    cache.changing([cache.member_principal(membership.user_id, membership.org.slug)])
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(
        org_id=org_id, actor=caller.actor, action="member.role_changed", target_type="membership",
        target_id=membership.pk, before=before, after={"email": before["email"], "role": role.key},
    )  # fmt: skip
    return membership


@transaction.atomic
def member_remove(*, org_id: int, membership_id: int, caller: Caller) -> None:
    membership = _member_locked(org_id, membership_id)
    grant_require(caller=caller, role=membership.role)
    if membership.role.key == "owner" and membership.role.is_builtin and _owner_count(org_id) <= 1:
        raise Conflict(detail="The last owner cannot be removed.")
    before = {"email": membership.user.email, "role": membership.role.key}
    cache.changing([cache.member_principal(membership.user_id, membership.org.slug)])
    membership.delete()
    audit_record(
        org_id=org_id, actor=caller.actor, action="member.removed", target_type="membership",
        target_id=membership_id, before=before,
    )  # fmt: skip


# ---------------------------------------------------------------------------------- invitations


@transaction.atomic
def invitation_create(
    *, org: Organization, email: str, role_key: str, caller: Caller
) -> CreatedInvitation:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationFailed(
            detail="The email is not valid.",
            errors=[FieldError("email", "Enter an email address.")],
        )
    role = role_get(org_id=org.pk, key=role_key)
    grant_require(caller=caller, role=role)
    if Membership.objects.filter(org=org, user__email__iexact=email).exists():
        raise Conflict(detail=f"{email} is a member already.")
    now = timezone.now()
    # A new invitation replaces a pending one for the same address.
    Invitation.objects.filter(
        org=org, email=email, accepted_at__isnull=True, revoked_at__isnull=True,
        declined_at__isnull=True,
    ).update(revoked_at=now)  # fmt: skip
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        token_hash=secret_hash(token),
        invited_by_id=caller.actor.user_id,
        invited_by_api_key_id=caller.actor.api_key_id,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    accept_url = f"{settings.WEB_ORIGIN}/invitations/{token}"
    audit_record(
        org_id=org.pk, actor=caller.actor, action="invitation.created", target_type="invitation",
        target_id=invitation.pk, after={"email": email, "role": role.key},
    )  # fmt: skip
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to {org.name} on Taskscore",
            message=f"{caller.actor.label} invited you to join {org.name} as {role.name}.\n\n"
            f"Accept within {INVITATION_DAYS} days: {accept_url}\n",
            from_email=None,
            recipient_list=[email],
        )
    )
    return CreatedInvitation(invitation=invitation, accept_url=accept_url)


@transaction.atomic
def invitation_revoke(*, org_id: int, invitation_id: int, caller: Caller) -> None:
    invitation = (
        Invitation.objects.select_related("role")
        .filter(
            org_id=org_id,
            pk=invitation_id,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            declined_at__isnull=True,
        )
        .first()
    )
    if invitation is None:
        raise NotFound(detail="No such pending invitation.")
    grant_require(caller=caller, role=invitation.role)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        org_id=org_id, actor=caller.actor, action="invitation.revoked", target_type="invitation",
        target_id=invitation.pk, before={"email": invitation.email},
    )  # fmt: skip


def _inviter_may_still_grant(invitation: Invitation, role: Role) -> None:
    """An invitation carries its inviter's authority: if the inviter has since left the org or
    lost the right to grant this role (as the role is now), the invitation no longer grants it."""
    inviter_role: Role | None = None
    if invitation.invited_by_api_key_id is None and invitation.invited_by_id is None:
        return  # sent by an operator (a management command), not on someone's authority
    if invitation.invited_by_api_key_id is not None:
        key = (
            ApiKey.objects.select_related("role")
            .filter(pk=invitation.invited_by_api_key_id, revoked_at__isnull=True)
            .first()
        )
        inviter_role = key.role if key else None
    elif invitation.invited_by_id is not None:
        member = (
            Membership.objects.select_related("role")
            .filter(
                org_id=invitation.org_id, user_id=invitation.invited_by_id, user__is_active=True
            )
            .first()
        )
        inviter_role = member.role if member else None
    inviter_permissions = frozenset(inviter_role.permissions) if inviter_role else frozenset()
    if (
        "members.manage" not in inviter_permissions
        or not set(role.permissions) <= inviter_permissions
    ):
        raise PermissionDenied(
            detail="Whoever sent this invitation can no longer grant its role; ask for a new one."
        )


def _invitation_locked(qs: QuerySet[Invitation], *, not_found: str) -> Invitation:
    """The pending invitation `qs` names, locked against a concurrent accept or decline."""
    invitation = (
        qs.select_for_update(of=("self",))
        .select_related("org", "role")
        .filter(invitation_pending())
        .first()
    )
    if invitation is None:
        raise NotFound(detail=not_found)
    return invitation


def _by_token(token: str) -> Invitation:
    return _invitation_locked(
        Invitation.objects.filter(token_hash=secret_hash(token)), not_found=INVITATION_INVALID
    )


def _by_id_for(invitation_id: int, user: User) -> Invitation:
    # Checked before the lookup, so an unverified account learns nothing about invitations.
    _require_verified_email(user)
    return _invitation_locked(
        Invitation.objects.filter(pk=invitation_id, email__iexact=user.email),
        not_found="No such pending invitation for your email address.",
    )


def _addressee_require(invitation: Invitation, user: User) -> None:
    """Only the invited address, verified as the user's, may answer an invitation."""
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied(detail="This invitation was sent to another email address.")
    _require_verified_email(user)


def invitation_join(*, invitation: Invitation, user: User) -> Membership:
    """Accept a pending invitation locked by the caller (see `invitation_accept`): join its org
    with its role, if the user is the invited (verified) address and whoever sent it may still
    grant that role."""
    _addressee_require(invitation, user)
    role = Role.objects.select_for_update().get(pk=invitation.role_id)
    _inviter_may_still_grant(invitation, role)
    cache.changing([cache.member_principal(user.pk, invitation.org.slug)])
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                org=invitation.org, user=user, role=invitation.role
            )
    except IntegrityError as exc:
        raise Conflict(detail="You are a member of this organization already.") from exc
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    audit_record(
        org_id=invitation.org_id, actor=Actor(label=user.email, user_id=user.pk),
        action="invitation.accepted", target_type="membership", target_id=membership.pk,
        after={"email": user.email, "role": invitation.role.key},
    )  # fmt: skip
    return membership


def invitation_refuse(*, invitation: Invitation, user: User) -> None:
    """Decline a pending invitation locked by the caller (see `invitation_decline`); only the
    invited (verified) address may. It is no longer pending anywhere."""
    _addressee_require(invitation, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at", "updated_at"])
    audit_record(
        org_id=invitation.org_id, actor=Actor(label=user.email, user_id=user.pk),
        action="invitation.declined", target_type="invitation", target_id=invitation.pk,
        before={"email": invitation.email, "role": invitation.role.key},
    )  # fmt: skip


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the org the emailed invitation names, with its role."""
    return invitation_join(invitation=_by_token(token), user=user)


@transaction.atomic
def invitation_accept_by_id(*, invitation_id: int, user: User) -> Membership:
    """Join through one of the user's own invitations (`GET /me/invitations`)."""
    return invitation_join(invitation=_by_id_for(invitation_id, user), user=user)


@transaction.atomic
def invitation_decline(*, token: str, user: User) -> None:
    invitation_refuse(invitation=_by_token(token), user=user)


@transaction.atomic
def invitation_decline_by_id(*, invitation_id: int, user: User) -> None:
    invitation_refuse(invitation=_by_id_for(invitation_id, user), user=user)
