"""Reads of data rights: an org's exports, and an export's file a chunk at a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone

from taskscore.core.errors import Conflict, DomainError, NotFound, ProblemType
from taskscore.datarights.models import ExportStatus, OrgExport, OrgExportChunk


@dataclass
class ExportExpired(DomainError):
    """An export past its expiry: its file was deleted (410)."""

    problem: ProblemType = ProblemType.EXPORT_EXPIRED


def export_is_expired(export: OrgExport) -> bool:
    if export.data_deleted_at is not None:
        return True
    return export.expires_at is not None and export.expires_at <= timezone.now()


def export_list(*, org_id: int) -> QuerySet[OrgExport]:
    """The org's exports (newest first when paged) with who asked for them."""
    return OrgExport.objects.filter(org_id=org_id).select_related(
        "created_by", "created_by_api_key"
    )


def export_get(*, org_id: int, export_id: uuid.UUID | str) -> OrgExport:
    """One export of the org; another org's (or none) is NotFound."""
    try:
        export = export_list(org_id=org_id).filter(pk=export_id).first()
    except (DjangoValidationError, ValueError):
        export = None
    if export is None:
        raise NotFound(detail="No such export.")
    return export


def export_downloadable(*, org_id: int, export_id: uuid.UUID | str) -> OrgExport:
    """An export whose file can be downloaded now: done and not expired (410 after its expiry,
    409 before it is done)."""
    export = export_get(org_id=org_id, export_id=export_id)
    if export.status == ExportStatus.FAILED:
        raise Conflict(detail="This export failed; start another one.")
    if export.status != ExportStatus.DONE:
        raise Conflict(detail="This export is not finished yet; try again when it is done.")
    if export_is_expired(export):
        raise ExportExpired(
            detail="This export has expired and its file was deleted; start another one."
        )
    return export


def export_file(*, export_id: uuid.UUID) -> Iterator[bytes]:
    """The export's gzipped file, one chunk (a database row) at a time."""
    seq = 0
    while True:
        data = (
            OrgExportChunk.objects.filter(export_id=export_id, seq=seq)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            return
        yield bytes(data)
        seq += 1
