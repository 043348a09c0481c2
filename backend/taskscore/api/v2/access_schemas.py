from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from taskscore.api.common.schemas import InputSchema, IsoMoment, PageQuery


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
    email: str = Field(min_length=3, max_length=254)
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


class RoleIn(InputSchema):
    key: str = Field(min_length=2, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    permissions: list[str]


class RolePatchIn(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    permissions: list[str] | None = None


class PermissionOut(Schema):
    key: str
    description: str


class ApiKeyIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(default="member", min_length=1, max_length=40)


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    role: str
    created_by: str | None = Field(
        description="The email of the member who created it; null when an operator's command "
        "or another API key did."
    )
    created_at: datetime
    last_used_at: datetime | None
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
