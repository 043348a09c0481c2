from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from taskscore.api.common.schemas import OPAQUE, Attributes, InputSchema, PageQuery, TaskTitle
from taskscore.core.text import NAME_PATTERN

TaskStatusLiteral = Literal["queued", "scoring", "scored", "failed"]


class TaskIn(InputSchema):
    title: TaskTitle
    description: str = Field(default="", max_length=10_000)
    attributes: Attributes = Field(default_factory=dict)


class TaskBatchIn(InputSchema):
    tasks: list[TaskIn] = Field(min_length=1, max_length=100)


class BreakdownItemOut(Schema):
    key: str
    label: str
    kind: Literal["attribute", "ai"]
    weight: float
    value: float | None
    normalized: float
    contribution: float
    rationale: str | None = None
    skipped: Literal["ai_off", "no_fields", "budget", "slow"] | None = Field(
        default=None,
        description="Why this AI criterion was left out of the score (the org's AI rules, its "
        "monthly AI allowance, or, in a sample preview only, an AI slower than the request's "
        "bound); it then counts neither as 0 nor towards the weights.",
    )


class ScoreBreakdownItemOut(BreakdownItemOut):
    human_value: float | None = Field(
        default=None,
        description="A person's value for this criterion (an active override); `value` stays "
        "the machine's.",
    )


class OverrideOut(Schema):
    id: str
    criterion: str | None = Field(description="The criterion overridden; None: the whole score.")
    value: float = Field(description="The person's value (a score 0–100, an AI rating 0–10, an "
                         "attribute's value).")  # fmt: skip
    machine_value: float | None = Field(description="The machine's value when it was made.")
    reason: str
    created_by: str = Field(description="Who made it: an email address or an API key's name.")
    created_at: datetime
    cleared_at: datetime | None
    cleared_by: str | None


class ScoreOut(Schema):
    id: int
    value: float = Field(description="The score as people see it: the machine's, with the "
                         "active overrides applied.")  # fmt: skip
    machine_value: float = Field(description="The score the machine computed.")
    overridden: bool
    version: int
    scored_at: datetime
    breakdown: list[ScoreBreakdownItemOut]


class TaskOut(Schema):
    id: str
    title: str
    description: str
    attributes: dict[str, float]
    status: TaskStatusLiteral
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    score: ScoreOut | None
    overrides: list[OverrideOut] = Field(description="The active overrides, newest first.")


class TaskPageOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class OrgOut(Schema):
    slug: str
    name: str
    role: str


class MeOrgOut(OrgOut):
    permissions: list[str] = Field(
        description="The caller's permissions in this org (sorted), to show only what they may do."
    )
    mfa_required: bool = Field(
        description="The org requires two-factor authentication of its owners and admins and "
        "the caller is one: without `mfa_enabled`, the org's API answers them 403 `mfa-required`."
    )


class MeOut(Schema):
    id: int
    email: str
    email_verified: bool = Field(
        description="Creating an org and answering invitations need a verified address."
    )
    mfa_enabled: bool = Field(
        description="Two-factor authentication with an authenticator app is set up (allauth's "
        "`/_allauth/browser/v1/account/authenticators/totp`)."
    )
    orgs: list[MeOrgOut]


class OrgRefOut(Schema):
    slug: str
    name: str


class RoleRefOut(Schema):
    key: str
    name: str


class InvitationLookupOut(Schema):
    org: OrgRefOut
    role: RoleRefOut
    invited_by: str = Field(
        description='The inviter\'s email, \'API key "<name>"\' or "an operator".'
    )
    email: str = Field(description="The invited address.")
    expires_at: datetime


class MyInvitationOut(Schema):
    id: int
    org: OrgRefOut
    role: RoleRefOut
    invited_by: str = Field(
        description='The inviter\'s email, \'API key "<name>"\' or "an operator".'
    )
    expires_at: datetime


class TaskBatchOut(Schema):
    items: list[TaskOut]


class TaskListQuery(PageQuery):
    cursor: str | None = Field(
        default=None,
        description="The next_cursor of the previous page, with the same sort (422 otherwise).",
        json_schema_extra={OPAQUE: True},
    )
    sort: Literal["-created_at", "created_at", "-score", "score"] = Field(
        default="-created_at",
        description="By creation or by current score (unscored tasks last); '-' is descending.",
    )
    status: TaskStatusLiteral | None = Field(default=None, description="Only these tasks.")
    overridden: bool | None = Field(
        default=None,
        description="true: only tasks whose score or a criterion a person overrode; false: "
        "only the others.",
    )
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="Only tasks whose title has every word of this text, in any order and any "
        "case; the last word may be the start of a title's word (as typed so far: 'dark mo' "
        "finds 'Dark mode'). Words are runs of letters and digits; text without any filters "
        "nothing.",
    )


InvitationToken = Annotated[str, Field(min_length=10, max_length=200)]


class OrgIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)


class InvitationAcceptIn(InputSchema):
    token: InvitationToken


class InvitationDeclineIn(InputSchema):
    token: InvitationToken
