from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import JsonValue, StrictBool, field_validator

from taskscore.api.common.schemas import (
    EMAIL_PATTERN,
    InputSchema,
    IsoMoment,
    PageQuery,
    whole_number,
)
from taskscore.core.text import NAME_PATTERN
from taskscore.orgs.services.keys import API_KEY_LIFETIME_MAX_DAYS
from taskscore.rbac.catalog import BUILTIN_ROLES, Perm
from taskscore.rbac.services import ROLE_KEY


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    role: str
    joined_at: datetime
    last_active_at: datetime | None = Field(
        description="The later of the member's last log-in and their last audited change in "
        "this org; null when neither happened yet."
    )


class MemberRoleIn(InputSchema):
    role: str = Field(min_length=1, max_length=40)


class InvitationIn(InputSchema):
    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    role: str = Field(default="member", min_length=1, max_length=40)


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    invited_by: str = Field(
        description='The inviter\'s email, `API key "<name>"` or `an operator`.'
    )
    created_at: datetime
    expires_at: datetime


class InvitationCreatedOut(InvitationOut):
    accept_url: str = Field(description="Carries the token: shown once (and emailed).")


class RoleOut(Schema):
    key: str
    name: str
    description: str
    permissions: list[str]
    is_builtin: bool
    can_grant: bool = Field(
        description="Whether the caller may hand this role out (invite with it, give it to a "
        "member or an API key) and change or delete it: it holds no permission the caller "
        "lacks."
    )


_BUILTIN_ROLE_KEYS: list[JsonValue] = [key for key in sorted(BUILTIN_ROLES)]


class RoleIn(InputSchema):
    key: str = Field(
        min_length=2,
        max_length=40,
        pattern=ROLE_KEY.pattern,
        json_schema_extra={"not": {"enum": _BUILTIN_ROLE_KEYS}},
        description="Lowercase letters, digits and -; not a built-in role's key.",
    )
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=500)
    permissions: list[Perm]


class RolePatchIn(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=500)
    permissions: list[Perm] | None = None


class PermissionOut(Schema):
    key: Perm
    description: str


class ApiKeyIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="member", min_length=1, max_length=40)
    expires_in_days: int | None = Field(
        default=None,
        ge=1,
        le=API_KEY_LIFETIME_MAX_DAYS,
        description="The key stops working this many days from now (then every request made "
        "with it answers 401, saying it expired); null or absent: it never expires.",
    )

    _whole_days = field_validator("expires_in_days", mode="before")(whole_number)


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    role: str
    status: Literal["active", "expired", "revoked"] = Field(
        description="`revoked` once revoked (whatever its expiry), else `expired` from "
        "`expires_at` on, else `active`."
    )
    created_by: str | None = Field(
        description="The email of the member who created it; null when an operator's command "
        "or another API key did."
    )
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When it was last used, to the minute (recorded at most once a minute); "
        "null when never."
    )
    expires_at: datetime | None = Field(description="When it stops working; null: never.")
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    token: str = Field(description="The full secret: shown once, never again.")


class AuditQuery(PageQuery):
    action: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[a-z_]+\.[a-z_]+$",
        description="Only this action, e.g. `member.role_changed`.",
    )
    actor: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        pattern=r"^[^\x00]*$",
        description="Only events whose actor's label (an email, `API key ts_<prefix>`, "
        "`system`) contains this text, in any case.",
    )
    since: IsoMoment | None = Field(
        default=None, description="Only events at or after this moment (with its offset)."
    )
    until: IsoMoment | None = Field(
        default=None, description="Only events before this moment (with its offset)."
    )


class AuditEventOut(Schema):
    id: int
    actor: str
    actor_kind: Literal["user", "api_key", "system"] = Field(
        description="Who acted: a member in a browser session (`user`), an API key, or the "
        "system (an operator's command, Stripe's events)."
    )
    actor_api_key_name: str | None = Field(
        description="The acting API key's name (null for others, or a key since deleted)."
    )
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: datetime


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


class MemberPageOut(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class InvitationPageOut(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class ApiKeyPageOut(Schema):
    items: list[ApiKeyOut]
    next_cursor: str | None


class SecuritySettingsOut(Schema):
    mfa_required_for_admins: bool = Field(
        description="Owners and admins (any role that may manage members, API keys or billing) "
        "must have set up two-factor authentication: until they do, their requests to the org "
        "answer 403 `mfa-required`. API keys are not affected."
    )


class SecuritySettingsIn(InputSchema):
    mfa_required_for_admins: StrictBool | None = Field(
        default=None,
        description="Turning it on needs the owner making the change to have two-factor "
        "authentication set up (409 otherwise).",
    )
