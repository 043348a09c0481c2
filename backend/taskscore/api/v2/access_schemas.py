from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from taskscore.api.common.schemas import InputSchema


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    role: str
    joined_at: datetime


class MemberRoleIn(InputSchema):
    role: str = Field(min_length=1, max_length=40)


class InvitationIn(InputSchema):
    email: str = Field(min_length=3, max_length=254)
    role: str = Field(default="member", min_length=1, max_length=40)


class InvitationOut(Schema):
    id: int
    email: str
    role: str
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
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    token: str = Field(description="The full secret: shown once, never again.")


class AuditEventOut(Schema):
    id: int
    actor: str
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
