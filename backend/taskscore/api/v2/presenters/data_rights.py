from __future__ import annotations

from typing import Any

from taskscore.datarights.models import ExportStatus, OrgDeletion, OrgExport
from taskscore.datarights.selectors import export_is_expired


def export_download_path(*, org_slug: str, export_id: object) -> str:
    return f"/api/v2/orgs/{org_slug}/exports/{export_id}/download"


def _created_by(export: OrgExport) -> str | None:
    if export.created_by is not None:
        return export.created_by.email
    if export.created_by_api_key is not None:
        return f'API key "{export.created_by_api_key.name}"'
    return None


def export_out(export: OrgExport, *, org_slug: str) -> dict[str, Any]:
    is_done = export.status == ExportStatus.DONE
    is_expired = is_done and export_is_expired(export)
    return {
        "id": str(export.pk),
        "status": "expired" if is_expired else export.status,
        "total": max(export.total, export.done),
        "done": export.done,
        "size_bytes": export.size_bytes if is_done else None,
        "sha256": export.sha256 or None,
        "created_at": export.created_at,
        "created_by": _created_by(export),
        "finished_at": export.finished_at,
        "expires_at": export.expires_at,
        "failure_reason": export.failure_reason or None,
        "download_url": export_download_path(org_slug=org_slug, export_id=export.pk)
        if is_done and not is_expired
        else None,
    }


def org_deletion_out(deletion: OrgDeletion) -> dict[str, Any]:
    return {
        "org": deletion.org_slug,
        "status": deletion.status,
        "requested_at": deletion.requested_at,
    }
