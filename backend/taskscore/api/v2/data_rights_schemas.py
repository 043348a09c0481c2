"""Request and response schemas of the org's data rights (v2): exports and deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from taskscore.api.common.schemas import InputSchema


class ExportOut(Schema):
    id: str
    status: Literal["queued", "running", "done", "failed", "expired"] = Field(
        description="`expired`: done, but past `expires_at`; its file was deleted."
    )
    total: int = Field(description="How many rows the export writes (known once it runs).")
    done: int = Field(description="How many are written so far.")
    size_bytes: int | None = Field(description="The gzipped file's size, once done.")
    sha256: str | None = Field(description="The gzipped file's SHA-256, once done.")
    created_at: datetime
    created_by: str | None = Field(description="Who asked for it: an email or an API key's name.")
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="Until when the file can be downloaded.")
    failure_reason: str | None
    download_url: str | None = Field(
        description="Where to download the file (gzipped JSON) while it can be; else null."
    )


class ExportPageOut(Schema):
    items: list[ExportOut]
    next_cursor: str | None


class OrgDeletionIn(InputSchema):
    confirm: str = Field(
        min_length=1,
        max_length=60,
        description="The organization's slug, typed by the person deleting it.",
    )


class OrgDeletionOut(Schema):
    org: str = Field(description="The slug of the organization being deleted.")
    status: Literal["queued", "running", "done"]
    requested_at: datetime
