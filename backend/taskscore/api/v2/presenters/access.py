from __future__ import annotations

from typing import Any

from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import ApiKey, Invitation, Membership
from taskscore.orgs.selectors import AuditPage, SecuritySettings
from taskscore.orgs.services import CreatedInvitation, CreatedKey
from taskscore.rbac.catalog import Perm
from taskscore.rbac.models import Role
from taskscore.rbac.selectors import role_grantable


def member_out(membership: Membership) -> dict[str, Any]:
    """A member as `orgs.selectors.member_list` loads them (with `last_active_at`)."""
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "email": membership.user.email,
        "role": membership.role.key,
        "joined_at": membership.created_at,
        "last_active_at": membership.last_active_at,  # type: ignore[attr-defined]  # annotated
    }


def invited_by_label(invitation: Invitation) -> str:
    """Who sent an invitation, in words: an email, `API key "<name>"` or `an operator`."""
    if invitation.invited_by is not None:
        return invitation.invited_by.email
    if invitation.invited_by_api_key is not None:
        return f'API key "{invitation.invited_by_api_key.name}"'
    return "an operator"


def invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role.key,
        "invited_by": invited_by_label(invitation),
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }


def invitation_created_out(created: CreatedInvitation) -> dict[str, Any]:
    """The new invitation with its link, shown once (it carries the token)."""
    return invitation_out(created.invitation) | {"accept_url": created.accept_url}


def role_out(role: Role, *, caller_permissions: frozenset[str]) -> dict[str, Any]:
    """A role as the caller (holding `caller_permissions`) sees it: whether they may grant it."""
    return {
        "key": role.key,
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
        "is_builtin": role.is_builtin,
        "can_grant": role_grantable(role=role, permissions=caller_permissions),
    }


def permission_out(permission: Perm, description: str) -> dict[str, Any]:
    return {"key": str(permission), "description": description}


def api_key_status(api_key: ApiKey) -> str:
    if api_key.revoked_at is not None:
        return "revoked"
    return "expired" if api_key.is_expired else "active"


def api_key_out(api_key: ApiKey) -> dict[str, Any]:
    return {
        "id": api_key.pk,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "role": api_key.role.key,
        "status": api_key_status(api_key),
        "created_by": api_key.created_by.email if api_key.created_by is not None else None,
        "created_at": api_key.created_at,
        "last_used_at": api_key.last_used_at,
        "expires_at": api_key.expires_at,
        "revoked_at": api_key.revoked_at,
    }


def api_key_created_out(created: CreatedKey) -> dict[str, Any]:
    """The new key with its token, shown once."""
    return api_key_out(created.api_key) | {"token": created.token}


def _actor_kind(event: AuditEvent) -> str:
    if event.actor_api_key_id is not None:
        return "api_key"
    if event.actor_user_id is not None:
        return "user"
    return "system"


def audit_event_out(event: AuditEvent, *, api_key_names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": event.pk,
        "actor": event.actor_label,
        "actor_kind": _actor_kind(event),
        "actor_api_key_name": (
            api_key_names.get(event.actor_api_key_id) if event.actor_api_key_id else None
        ),
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "before": event.before,
        "after": event.after,
        "created_at": event.created_at,
    }


def audit_page_out(page: AuditPage) -> dict[str, Any]:
    return {
        "items": [audit_event_out(e, api_key_names=page.api_key_names) for e in page.events],
        "next_cursor": page.next_cursor,
    }


def security_settings_out(settings: SecuritySettings) -> dict[str, Any]:
    return settings.as_dict()
