"""Schemas shared by both API versions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from ninja import Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

AttributeValue = Annotated[StrictFloat, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Attributes = Annotated[
    dict[AttributeName, AttributeValue],
    Field(max_length=50),
    # Said as patternProperties, which OpenAPI tools (and schemathesis) understand.
    WithJsonSchema(
        {
            "type": "object",
            "patternProperties": {
                "^[a-z][a-z0-9_]{0,39}$": {"type": "number", "minimum": -1e12, "maximum": 1e12}
            },
            "additionalProperties": False,
            "maxProperties": 50,
        }
    ),
]


def _iso_8601(value: Any) -> Any:
    # pydantic reads a bare number ("0.5") as a Unix time; the document says date-time.
    if not (isinstance(value, str) and _ISO_8601.match(value)):
        raise ValueError(
            "Give a date and time in ISO 8601 with its offset, e.g. 2026-12-01T09:00:00Z."
        )
    return value


def _real_offset(value: datetime) -> datetime:
    # Offsets in use span -12:00 to +14:00; Postgres refuses some that Python accepts (+22:46).
    offset = value.utcoffset()
    if offset is None or abs(offset) > timedelta(hours=14):
        raise ValueError("The offset must be within ±14:00.")
    return value


_ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# A moment with its offset, written as ISO 8601 (RFC 3339) only.
IsoMoment = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_real_offset)]
TaskTitle = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class InputSchema(BaseModel):
    """Base of every request body: a plain pydantic model, so only a JSON object validates.
    (Ninja's `Schema` reads attributes of any object, so a JSON string would pass.)"""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # Postgres text and jsonb cannot store U+0000: refuse it as invalid input.
        if _has_nul(data):
            raise ValueError("Text must not contain the NUL character (U+0000).")
        return data


# The query of every cursor list: a page size and the previous page's `next_cursor`. (A comment,
# not a docstring: the docstring would become the OpenAPI schema's description.)
class PageQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None
