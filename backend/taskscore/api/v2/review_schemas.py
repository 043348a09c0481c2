"""Request and response bodies of human review, calibration and the org's AI rules."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import StrictBool, StrictFloat

from taskscore.api.common.schemas import InputSchema
from taskscore.api.v2.schemas import OverrideOut, ScoreBreakdownItemOut
from taskscore.tasks.services.reviews import LABELS_CSV_MAX_BYTES, LABELS_CSV_PATTERN


class OverrideIn(InputSchema):
    criterion: str | None = Field(
        default=None,
        max_length=40,
        description="The criterion key to override; omit or null for the whole score.",
    )
    value: StrictFloat = Field(
        allow_inf_nan=False,
        description="A score 0–100 (whole score), an AI rating 0–10, or an attribute's value.",
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why; required.")


class ScoreInputsAIOut(Schema):
    provider: str
    model: str
    prompt_version: str = Field(description="The chat prompt's format ('' for local providers).")
    text_sha256: str = Field(description="SHA-256 of the text the AI read (after redaction).")
    fields_sent: list[str] = Field(description="The task fields sent to the AI.")
    redacted: bool = Field(description="Whether anything was redacted before the AI read it.")
    redacted_kinds: list[str] = Field(description="What kinds were redacted (never the values).")
    skipped: dict[str, str] = Field(description="AI criteria left out, and why.")


class ScoreInputsOut(Schema):
    version_id: int
    version: int
    attributes: dict[str, float | None] = Field(description="The attribute values used.")
    ratings: dict[str, float] = Field(description="Each AI criterion's rating, 0–10.")
    ai: ScoreInputsAIOut


class TaskScoreDetailOut(Schema):
    id: int
    task_id: str
    version_id: int
    version: int
    model: str
    value: float = Field(description="The machine's score.")
    breakdown: list[ScoreBreakdownItemOut]
    inputs: ScoreInputsOut | None = Field(
        description="What made the score, enough to recompute it (None: recorded before "
        "inputs were kept)."
    )
    recomputed_value: float = Field(
        description="The score computed again from `inputs` alone: equal to `value`."
    )
    ai_provider: str
    ai_model: str
    ai_calls: int
    input_tokens: int
    output_tokens: int
    ai_latency_ms: int
    cost_usd: float
    scored_at: datetime
    overrides: list[OverrideOut] = Field(description="Every override of the task, newest first.")


class AgreementOut(Schema):
    labels: int = Field(description="Tasks with both a human and an AI rating.")
    spearman: float | None = Field(description="Rank correlation (None: fewer than 2 labels).")
    mae: float | None = Field(description="Mean absolute error, in rating points (0–10).")
    bias: float | None = Field(description="Mean of AI − human: positive, the AI rates higher.")
    pairwise_accuracy: float | None = Field(
        description="Share of pairs whose human ratings differ by ≥ 4 that the AI orders alike."
    )
    pairs: int


class CriterionCalibrationOut(Schema):
    key: str
    label: str
    rubric: str
    from_reviews: int
    from_imports: int
    agreement: AgreementOut


class CalibrationOut(Schema):
    version_id: int
    version: int
    criteria: list[CriterionCalibrationOut]


class LabelsImportIn(InputSchema):
    csv: str = Field(
        min_length=1,
        # bytes: the pattern's text is ASCII but for a byte-order mark (3 bytes, 1 character)
        max_length=LABELS_CSV_MAX_BYTES - 2,
        description="CSV text: the header `task_id,criterion,rating`, then up to 5,000 rows "
        "(quoted cells and blank lines are read too). A malformed row: 422; a row naming a task "
        "or an AI criterion the org does not have: 404; each row named in `errors`.",
        json_schema_extra={"pattern": LABELS_CSV_PATTERN},
    )


class LabelsImportOut(Schema):
    imported: int
    criteria: list[str]


class AIRulesOut(Schema):
    enabled: bool = Field(description="Whether AI criteria are rated at all.")
    send_title: bool
    send_description: bool


class AIRulesIn(InputSchema):
    enabled: StrictBool | None = None
    send_title: StrictBool | None = None
    send_description: StrictBool | None = None


class AIUsageOut(Schema):
    plan: str
    period_start: datetime
    calls: int = Field(description="AI calls made this period (cached answers are not calls).")
    limit: int | None = Field(description="The plan's monthly AI calls (None: unlimited).")
    remaining: int | None
    cost_usd: float


class AISettingsOut(Schema):
    rules: AIRulesOut
    usage: AIUsageOut
    redaction: list[str] = Field(description="What is always redacted before the AI reads a task.")


class AIEstimateOut(Schema):
    tasks: int
    ai_calls: int = Field(description="At most this many AI calls (cached answers cost none).")
    usage: AIUsageOut
    covered: bool = Field(description="Whether this period's allowance covers them.")
