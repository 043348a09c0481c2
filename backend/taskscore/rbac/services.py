"""Writes to roles: the built-in ones follow the catalog; custom ones belong to an org."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from taskscore.audit.services import audit_record
from taskscore.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from taskscore.core.text import name_check
from taskscore.rbac import cache
from taskscore.rbac.callers import Caller
from taskscore.rbac.catalog import BUILTIN_ROLES, PERMISSIONS, Perm, unknown_permissions
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_get, role_principals

ROLE_KEY = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


def roles_sync_builtin() -> None:
    """Create or update the built-in roles from the catalog (run after every migrate)."""
    for key, (name, permissions) in BUILTIN_ROLES.items():
        Role.objects.update_or_create(
            org=None, key=key, defaults={"name": name, "permissions": sorted(permissions)}
        )


def role_builtin(key: str) -> Role:
    return Role.objects.get(org__isnull=True, key=key)


def grant_require(*, caller: Caller, role: Role) -> None:
    """Nobody hands out more than they hold: `role` must be within the caller's permissions."""
    missing = sorted(set(role.permissions) - caller.permissions)
    if missing:
        raise PermissionDenied(
            detail=f"The role '{role.key}' holds permissions you do not: {', '.join(missing)}.",
            permission=missing[0],
        )


def _validate(permissions: list[str], caller: Caller) -> list[str]:
    unknown = unknown_permissions(permissions)
    if unknown:
        raise ValidationFailed(
            detail="Unknown permissions.",
            errors=[FieldError("permissions", f"Unknown: {', '.join(unknown)}.")],
        )
    beyond = sorted(set(permissions) - caller.permissions)
    if beyond:
        raise PermissionDenied(
            detail=f"A role cannot hold permissions you do not: {', '.join(beyond)}.",
            permission=beyond[0],
        )
    return sorted(set(permissions))


def _snapshot(role: Role) -> dict[str, Any]:
    return {"key": role.key, "name": role.name, "permissions": list(role.permissions)}


@transaction.atomic
def role_create(
    *,
    org_id: int,
    key: str,
    name: str,
    description: str = "",
    permissions: list[str],
    caller: Caller,
) -> Role:
    if not ROLE_KEY.match(key) or key in BUILTIN_ROLES:
        raise ValidationFailed(
            detail="The role key is not valid.",
            errors=[
                FieldError(
                    "key",
                    "Use 2–40 lowercase letters, digits and -, not a built-in role's name.",
                )
            ],
        )
    name = name_check(name, field="name")
    clean = _validate(permissions, caller)
    try:
        with transaction.atomic():
            role = Role.objects.create(
                org_id=org_id, key=key, name=name, description=description, permissions=clean
            )
    except IntegrityError as exc:
        raise Conflict(detail=f"A role '{key}' exists already.") from exc
    audit_record(
        org_id=org_id, actor=caller.actor, action="role.created", target_type="role",
        target_id=key, after=_snapshot(role),
    )  # fmt: skip
    return role


@transaction.atomic
def role_update(
    *,
    org_id: int,
    key: str,
    name: str | None = None,
    description: str | None = None,
    permissions: list[str] | None = None,
    caller: Caller,
) -> Role:
    role = role_get(org_id=org_id, key=key)
    if role.is_builtin:
        raise Conflict(detail="Built-in roles cannot be changed; create a custom role.")
    role = Role.objects.select_for_update().get(pk=role.pk)  # serializes with role assignments
    grant_require(caller=caller, role=role)
    before = _snapshot(role)
    if permissions is not None:
        role.permissions = _validate(permissions, caller)
    if name is not None:
        role.name = name_check(name, field="name")
    if description is not None:
        role.description = description
    cache.changing(role_principals(role=role))
    role.save()
    audit_record(
        org_id=org_id, actor=caller.actor, action="role.updated", target_type="role",
        target_id=key, before=before, after=_snapshot(role),
    )  # fmt: skip
    return role


@transaction.atomic
def role_delete(*, org_id: int, key: str, caller: Caller) -> None:
    role = role_get(org_id=org_id, key=key)
    if role.is_builtin:
        raise Conflict(detail="Built-in roles cannot be deleted.")
    role = Role.objects.select_for_update().get(pk=role.pk)
    grant_require(caller=caller, role=role)
    if role_principals(role=role) or role.invitations.filter(accepted_at__isnull=True).exists():
        raise Conflict(detail="The role is in use; give its members and keys another role first.")
    before = _snapshot(role)
    try:
        with transaction.atomic():
            role.delete()
    except ProtectedError as exc:  # revoked keys and past invitations keep their role
        raise Conflict(
            detail="The role is named by revoked API keys or past invitations, which keep it "
            "for the record; it cannot be deleted."
        ) from exc
    audit_record(
        org_id=org_id, actor=caller.actor, action="role.deleted", target_type="role",
        target_id=key, before=before,
    )  # fmt: skip


def permission_catalog() -> dict[Perm, str]:
    return dict(PERMISSIONS)
