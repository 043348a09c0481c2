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
    if not (isinstance(value, str) and _ISO_8601.fullmatch(value)):
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


# RFC 3339 as Python and Postgres take it: a year from 0001, no leap second, an offset within
# ±14:00. The document states this pattern beside `format: date-time`, and it is the check.
MOMENT_PATTERN = (
    r"^(000[1-9]|00[1-9]\d|0[1-9]\d{2}|[1-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(\.\d+)?"
    r"([Zz]|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$"
)
_ISO_8601 = re.compile(MOMENT_PATTERN)
# A moment with its offset, written as ISO 8601 (RFC 3339) only.
IsoMoment = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_8601),
    AfterValidator(_real_offset),
    Field(json_schema_extra={"pattern": MOMENT_PATTERN}),
]
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

    @model_validator(mode="after")
    def _no_nul_characters(self) -> InputSchema:
        # Postgres text and jsonb cannot store U+0000: refuse it in what the body's fields hold
        # (the document says so of every text). Members the schema does not name are ignored,
        # and so is a NUL in them: it is never stored.
        if _has_nul(self.model_dump()):
            raise ValueError("Text must not contain the NUL character (U+0000).")
        return self


# Rules JSON Schema cannot state, said in the OpenAPI document as extensions (the contract test
# teaches schemathesis' generator each of them; docs/decisions/0012):
# - on an array: its items' values of this property are unique;
UNIQUE_BY = "x-unique-by"
# - on a parameter: only a value an earlier answer gave is valid (the `next_cursor` of a page).
OPAQUE = "x-opaque"

# An address the way the web app checks it: something, @, something, no spaces. `\s` differs
# between engines (pydantic's Rust regex counts U+0085 as a space, ECMAScript's counts U+FEFF), so
# both are named: every engine that reads the document refuses the same addresses.
EMAIL_PATTERN = r"^[^\s\u0085\uFEFF@]+@[^\s\u0085\uFEFF@]+$"


def whole_number(value: Any) -> Any:
    """A field validator (mode "before") for an integer as JSON Schema means it: 3 and 3.0,
    not true or "3" (pydantic's lax int takes those; its strict int refuses 3.0)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("Give a whole number.")


# The query of every cursor list: a page size and the previous page's `next_cursor`. (A comment,
# not a docstring: the docstring would become the OpenAPI schema's description.)
class PageQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None,
        description="The next_cursor of the previous page (422 for any other value).",
        json_schema_extra={OPAQUE: True},
    )
