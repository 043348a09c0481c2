"""Writes to orgs: organizations (`orgs`), API keys (`keys`), members (`members`),
invitations (`invitations`) and security settings (`security`). Every change to who may do what
goes through `rbac.cache.changing` (so no cached grant outlives it) and the audit log. Import from
here; the modules are its parts."""

from taskscore.orgs.services.ai_rules import ai_rules_update
from taskscore.orgs.services.invitations import (
    INVITATION_DAYS,
    CreatedInvitation,
    invitation_accept,
    invitation_accept_by_id,
    invitation_create,
    invitation_decline,
    invitation_decline_by_id,
    invitation_join,
    invitation_refuse,
    invitation_revoke,
)
from taskscore.orgs.services.keys import CreatedKey, api_key_create, api_key_revoke, api_key_touch
from taskscore.orgs.services.members import member_remove, member_role_change
from taskscore.orgs.services.orgs import org_create
from taskscore.orgs.services.security import security_settings_update

__all__ = [
    "INVITATION_DAYS",
    "CreatedInvitation",
    "CreatedKey",
    "ai_rules_update",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
    "invitation_accept",
    "invitation_accept_by_id",
    "invitation_create",
    "invitation_decline",
    "invitation_decline_by_id",
    "invitation_join",
    "invitation_refuse",
    "invitation_revoke",
    "member_remove",
    "member_role_change",
    "org_create",
    "security_settings_update",
]
