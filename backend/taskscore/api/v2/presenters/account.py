from __future__ import annotations

from typing import Any

from taskscore.api.v2.presenters.access import invited_by_label
from taskscore.orgs.models import Invitation, Membership, Organization
from taskscore.orgs.selectors import Account, membership_mfa_required


def org_out(org: Organization, *, role: str) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name, "role": role}


def membership_org_out(membership: Membership) -> dict[str, Any]:
    """The org a membership is in, with the member's role (what joining answers)."""
    return org_out(membership.org, role=membership.role.key)


def me_out(account: Account) -> dict[str, Any]:
    return {
        "id": account.user.pk,
        "email": account.user.email,
        "email_verified": account.email_verified,
        "mfa_enabled": account.mfa_enabled,
        "orgs": [
            membership_org_out(m)
            | {
                "permissions": sorted(m.role.permissions),
                "mfa_required": membership_mfa_required(m),
            }
            for m in account.memberships
        ],
    }


def _invitation_common(invitation: Invitation) -> dict[str, Any]:
    return {
        "org": {"slug": invitation.org.slug, "name": invitation.org.name},
        "role": {"key": invitation.role.key, "name": invitation.role.name},
        "invited_by": invited_by_label(invitation),
        "expires_at": invitation.expires_at,
    }


def invitation_lookup_out(invitation: Invitation) -> dict[str, Any]:
    """What the emailed link shows before the invitee logs in."""
    return _invitation_common(invitation) | {"email": invitation.email}


def my_invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {"id": invitation.pk} | _invitation_common(invitation)
