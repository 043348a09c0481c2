from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import Field as PydanticField

from taskscore.api.common.schemas import UNIQUE_BY, InputSchema
from taskscore.api.v2.schemas import BreakdownItemOut, TaskIn
from taskscore.scoring.criteria import MAX_AI_CRITERIA, MAX_CRITERIA
from taskscore.scoring.engine import AICriterion, AttributeCriterion

CriterionSchema = Annotated[AttributeCriterion | AICriterion, PydanticField(discriminator="kind")]
# A version's criteria as a request states them: keys unique (`x-unique-by`, which JSON Schema
# cannot say) and at most MAX_AI_CRITERIA AI criteria (`maxContains`); scoring.criteria checks.
CriteriaIn = Annotated[
    list[CriterionSchema],
    PydanticField(
        min_length=1,
        max_length=MAX_CRITERIA,
        json_schema_extra={
            UNIQUE_BY: "key",
            "contains": {"properties": {"kind": {"const": "ai"}}, "required": ["kind"]},
            "minContains": 0,
            "maxContains": MAX_AI_CRITERIA,
        },
    ),
]


class TemplateOut(Schema):
    key: str
    name: str
    description: str
    criteria: list[CriterionSchema]


class VersionOut(Schema):
    id: int
    model_id: int
    number: int
    status: Literal["draft", "published"]
    is_active: bool
    notes: str
    criteria: list[CriterionSchema]
    created_at: datetime
    published_at: datetime | None
    activated_at: datetime | None


class ScoringModelOut(Schema):
    id: int
    name: str
    description: str
    created_at: datetime
    versions: list[VersionOut]


class ScoringModelIn(InputSchema):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    template: Literal["rice_ai", "rice", "wsjf", "quality"] | None = Field(
        default=None, description="Start from this template when no criteria are given."
    )
    criteria: CriteriaIn | None = Field(
        default=None,
        description="The first version's criteria (the template is then unused).",
    )


class VersionIn(InputSchema):
    criteria: CriteriaIn
    notes: str = Field(default="", max_length=2000)


class PreviewIn(InputSchema):
    criteria: CriteriaIn
    task: TaskIn


class PreviewOut(Schema):
    value: float
    breakdown: list[BreakdownItemOut]


class ComparisonRowOut(Schema):
    task_id: str
    title: str
    from_value: float
    to_value: float
    delta: float
    from_rank: int
    to_rank: int


class ComparisonOut(Schema):
    from_version: int
    to_version: int
    tasks: int
    mean_delta: float
    rank_changes: int
    items: list[ComparisonRowOut]


class TaskScoreOut(Schema):
    version_id: int
    version: int
    model: str
    value: float
    breakdown: list[BreakdownItemOut]
    ai_provider: str
    ai_model: str
    ai_calls: int
    input_tokens: int
    output_tokens: int
    ai_latency_ms: int
    cost_usd: float
    scored_at: datetime


class RescoreAllOut(Schema):
    queued: int


class PreviewRunIn(InputSchema):
    criteria: CriteriaIn
    limit: int = Field(
        default=200, ge=1, le=200, description="How many of the org's newest tasks to score."
    )


class PreviewRunItemOut(Schema):
    task_id: str
    title: str
    old_score: float | None = Field(description="The task's current score (None: unscored).")
    new_score: float | None = Field(description="Its score under the draft (None: see error).")
    old_rank: int | None = Field(description="1 = highest current score among the run's tasks.")
    new_rank: int | None
    rank_change: int | None = Field(description="old_rank - new_rank: positive moved up.")
    error: str | None = Field(description="Why this task has no new score (the AI failed).")
    ai_skipped: str | None = Field(
        default=None,
        description="Why the draft's AI criteria were left out of this task's new score "
        "(budget, ai_off, no_fields).",
    )


class PreviewRunOut(Schema):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    total: int = Field(description="How many tasks the run scores.")
    done: int = Field(description="How many are scored so far.")
    created_at: datetime
    finished_at: datetime | None
    failure_reason: str | None
    items: list[PreviewRunItemOut] = Field(description="By new rank; empty until done.")


class CompareQuery(Schema):
    from_version: int
    to_version: int
