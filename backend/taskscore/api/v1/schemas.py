from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from taskscore.api.common.schemas import Attributes, InputSchema, TaskTitle

OFFSET_MAX = 10_000_000


class TaskV1In(InputSchema):
    title: TaskTitle
    description: str = Field(default="", max_length=10_000)
    attributes: Attributes = Field(default_factory=dict)


class TaskV1Out(Schema):
    """v1's original shape: a flat score, no breakdown."""

    id: str
    title: str
    description: str
    attributes: dict[str, float]
    status: Literal["queued", "scoring", "scored", "failed"]
    score: float | None
    created_at: datetime


class TaskV1PageOut(Schema):
    items: list[TaskV1Out]
    count: int
    limit: int
    offset: int


class OffsetQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    # Bounded: an offset past Postgres' bigint was a 500; past 10 million rows, use v2's cursors.
    offset: int = Field(default=0, ge=0, le=OFFSET_MAX)
