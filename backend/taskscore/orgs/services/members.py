"""Members: changing their role and removing them, within the last-owner rule."""

from __future__ import annotations

from django.db import transaction

from taskscore.audit.services import audit_record
from taskscore.core.errors import (
    Conflict,
    NotFound,
)
from taskscore.orgs.models import Membership
from taskscore.orgs.services.keys import api_keys_of_creator_cap
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_get
from taskscore.rbac.services import grant_require

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
    api_keys_of_creator_cap(
        org_id=org_id, user_id=membership.user_id, held=frozenset(role.permissions),
        reason="creator_demoted", caller=caller,
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
    api_keys_of_creator_cap(
        org_id=org_id, user_id=membership.user_id, held=frozenset(), reason="creator_removed",
        caller=caller,
    )  # fmt: skip
