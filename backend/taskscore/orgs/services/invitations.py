"""Invitations: sent (emailed), revoked, and accepted or declined by the invited person."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from taskscore.accounts.models import User
from taskscore.accounts.selectors import user_has_unverified_email, user_verified_emails
from taskscore.audit.services import Actor, audit_record
from taskscore.core.errors import (
    Conflict,
    DomainError,
    EmailNotVerified,
    FieldError,
    NotFound,
    PermissionDenied,
    ProblemType,
    ValidationFailed,
)
from taskscore.orgs.keys import secret_hash
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.orgs.selectors import INVITATION_INVALID, invitation_pending
from taskscore.orgs.services.orgs import email_verified_require
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_get
from taskscore.rbac.services import grant_require

INVITATION_DAYS = 7


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: Invitation
    accept_url: str  # carries the token; shown once and emailed, never stored


# ---------------------------------------------------------------------------------- invitations


logger = logging.getLogger(__name__)


@dataclass
class InvitationsLimited(DomainError):
    """The org has sent INVITATIONS_PER_ORG_PER_HOUR invitations in the last hour (429)."""

    retry_after: int = 3600
    problem: ProblemType = ProblemType.RATE_LIMITED

    def problem_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


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
    hour = list(
        Invitation.objects.filter(org=org, created_at__gte=now - timedelta(hours=1))
        .order_by("created_at")
        .values_list("created_at", flat=True)[: settings.INVITATIONS_PER_ORG_PER_HOUR]
    )
    if len(hour) >= settings.INVITATIONS_PER_ORG_PER_HOUR:
        raise InvitationsLimited(
            detail=f"This organization has sent {len(hour)} invitations in the last hour, the "
            "most it may; try again later.",
            retry_after=max(1, int((hour[0] + timedelta(hours=1) - now).total_seconds()) + 1),
        )
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

    def send() -> None:
        # After the commit, and never failing it: the invitation stands (its link is in the
        # answer, to share by hand) whether or not the mail goes out.
        try:
            send_mail(
                subject=f"You are invited to {org.name} on Taskscore",
                message=f"{caller.actor.label} invited you to join {org.name} as {role.name}.\n\n"
                f"Accept within {INVITATION_DAYS} days: {accept_url}\n",
                from_email=None,
                recipient_list=[email],
            )
        except Exception:
            logger.exception(
                "the invitation %s was saved but its mail could not be sent", invitation.pk
            )

    transaction.on_commit(send)
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
    email_verified_require(user)
    verified = user_verified_emails(user_id=user.pk)
    return _invitation_locked(
        Invitation.objects.filter(pk=invitation_id, email__in=verified),
        not_found="No such pending invitation for your email address.",
    )


def _addressee_require(invitation: Invitation, user: User) -> None:
    """Only the invited address, verified as one of the user's, may answer an invitation: the
    account's own address (`User.email`) or one the user has added but not verified proves
    nothing about who reads mail sent there."""
    email_verified_require(user)
    if invitation.email.lower() in user_verified_emails(user_id=user.pk):
        return
    if user_has_unverified_email(user_id=user.pk, email=invitation.email):
        raise EmailNotVerified(
            detail=f"This invitation was sent to {invitation.email}, which you have not verified "
            "yet: open the link in the verification mail sent there, then accept."
        )
    raise PermissionDenied(detail="This invitation was sent to another email address.")


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
