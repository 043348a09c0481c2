from __future__ import annotations

from typing import Any

from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import ApiKey, Invitation, Membership
from taskscore.orgs.services import CreatedInvitation, CreatedKey
from taskscore.rbac.catalog import Perm
from taskscore.rbac.models import Role


def member_out(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "email": membership.user.email,
        "role": membership.role.key,
        "joined_at": membership.created_at,
    }


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role.key,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def invitation_created_out(created: CreatedInvitation) -> dict[str, Any]:
    """The new invitation with its link, shown once (it carries the token)."""
    return invitation_out(created.invitation) | {"accept_url": created.accept_url}


def role_out(role: Role) -> dict[str, Any]:
    return {
        "key": role.key,
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
        "is_builtin": role.is_builtin,
    }


def permission_out(permission: Perm, description: str) -> dict[str, Any]:
    return {"key": str(permission), "description": description}


def api_key_out(api_key: ApiKey) -> dict[str, Any]:
    return {
        "id": api_key.pk,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "role": api_key.role.key,
        "created_at": api_key.created_at,
        "last_used_at": api_key.last_used_at,
        "revoked_at": api_key.revoked_at,
    }


def api_key_created_out(created: CreatedKey) -> dict[str, Any]:
    """The new key with its token, shown once."""
    return api_key_out(created.api_key) | {"token": created.token}


def audit_event_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "actor": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": event.before,
        "after": event.after,
        "created_at": event.created_at,
    }
