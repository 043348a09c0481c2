"""An org's security settings: whether owners and admins must use two-factor authentication."""

from __future__ import annotations

from django.db import transaction

from taskscore.accounts.selectors import user_has_totp
from taskscore.audit.services import audit_record
from taskscore.core.errors import Conflict, PermissionDenied
from taskscore.orgs.models import Membership, Organization
from taskscore.orgs.selectors import SecuritySettings, security_settings_of
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.catalog import Perm


@transaction.atomic
def security_settings_update(
    *, org_id: int, caller: Caller, mfa_required_for_admins: bool | None = None
) -> SecuritySettings:
    """Change the settings given (None: unchanged); audited when anything changed.

    Only a person changes them, never an API key (a key is no second factor, and a key that could
    lift the requirement would undo it). Requiring two-factor authentication needs the person to
    have it set up themselves, so that an owner cannot lock themselves out. Every member's cached
    grant is invalidated in the same transaction: the requirement holds from the next request."""
    actor = caller.actor
    if Perm.ORG_OWNER not in caller.permissions:
        raise PermissionDenied(
            detail="Only an owner changes the organization's security settings.",
            permission=Perm.ORG_OWNER,
        )
    if actor.api_key_id is not None:
        raise PermissionDenied(
            detail="An API key cannot change the organization's security settings; an owner "
            "logged in to the web app can.",
            permission=Perm.ORG_OWNER,
        )
    org = Organization.objects.select_for_update().get(pk=org_id)
    before = security_settings_of(org)
    if mfa_required_for_admins is None or mfa_required_for_admins == org.mfa_required_for_admins:
        return before
    if (
        mfa_required_for_admins
        and actor.user_id is not None
        and not user_has_totp(user_id=actor.user_id)
    ):
        raise Conflict(
            detail="Set up two-factor authentication for yourself first (Account, Two-factor "
            "authentication): the requirement applies to you as an owner."
        )
    members = Membership.objects.filter(org_id=org_id).values_list("user_id", flat=True)
    cache.changing([cache.member_principal(user_id, org.slug) for user_id in members])
    org.mfa_required_for_admins = mfa_required_for_admins
    org.save(update_fields=["mfa_required_for_admins", "updated_at"])
    after = security_settings_of(org)
    audit_record(
        org_id=org_id,
        actor=actor,
        action="org.security_changed",
        target_type="org",
        target_id=org_id,
        before=before.as_dict(),
        after=after.as_dict(),
    )
    return after
