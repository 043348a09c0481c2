"""The org's data rights (v2): an owner exports all of the org's data (a job; the file is
downloaded while it lasts), or deletes the org."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router
from ninja.responses import Status

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.common.problems import PROBLEM_CONTENT_TYPE
from taskscore.api.common.schemas import PageQuery
from taskscore.api.v2.data_rights_schemas import (
    ExportOut,
    ExportPageOut,
    OrgDeletionIn,
    OrgDeletionOut,
)
from taskscore.api.v2.presenters.common import page_out
from taskscore.api.v2.presenters.data_rights import export_out, org_deletion_out
from taskscore.core.cursor import page_newest_first
from taskscore.datarights import selectors, services
from taskscore.rbac.catalog import Perm

router = Router(tags=["data rights"])

_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@router.get("/orgs/{org}/exports", response=ExportPageOut, operation_id="org_export_list")
@requires(Perm.ORG_OWNER)
def export_list(request: HttpRequest, org: str, query: Query[PageQuery]) -> dict[str, Any]:
    """The org's exports, newest first: their progress, and a download link while they last."""
    principal = principal_of(request)
    items, next_cursor = page_newest_first(
        selectors.export_list(org_id=principal.org_id), limit=query.limit, cursor=query.cursor
    )
    return page_out(items, next_cursor, lambda e: export_out(e, org_slug=principal.org_slug))


@router.post("/orgs/{org}/exports", response={202: ExportOut}, operation_id="org_export_create")
@requires(Perm.ORG_OWNER)
def export_create(request: HttpRequest, org: str) -> Status[dict[str, Any]]:
    """Export all of the org's data (members, roles, invitations, API keys without their
    secrets, tasks, scores and their history, scoring models and versions, reviews, calibration
    labels, AI rules, billing and invoices, the audit log) as one gzipped JSON file, in the
    background: poll the export for its progress, then download it (for ORG_EXPORT_TTL_HOURS,
    24). One at a time (409), ORG_EXPORTS_PER_DAY (5) a day (429)."""
    principal = principal_of(request)
    export = services.org_export_create(org_id=principal.org_id, caller=principal)
    return Status(202, export_out(export, org_slug=principal.org_slug))


@router.get("/orgs/{org}/exports/{export_id}", response=ExportOut, operation_id="org_export_get")
@requires(Perm.ORG_OWNER)
def export_get(request: HttpRequest, org: str, export_id: str) -> dict[str, Any]:
    """One export: its status, progress (done of total rows) and, once done, its download."""
    principal = principal_of(request)
    export = selectors.export_get(org_id=principal.org_id, export_id=export_id)
    return export_out(export, org_slug=principal.org_slug)


@router.get(
    "/orgs/{org}/exports/{export_id}/download",
    response={200: None},
    operation_id="org_export_download",
    openapi_extra={
        "responses": {
            200: {
                "description": "The export, gzipped JSON, as an attachment.",
                "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
            },
            410: {"description": "The export expired; its file was deleted.", "content": _PROBLEM},
        }
    },
)
@requires(Perm.ORG_OWNER)
def export_download(request: HttpRequest, org: str, export_id: str) -> StreamingHttpResponse:
    """The export's file (gzipped JSON), streamed as an attachment; each download is recorded
    in the audit log. 409 before it is done, 410 once it expired."""
    principal = principal_of(request)
    export = selectors.export_downloadable(org_id=principal.org_id, export_id=export_id)
    services.org_export_downloaded(export=export, caller=principal)
    stamp = export.created_at.strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        selectors.export_file(export_id=export.pk), content_type="application/gzip"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="taskscore-{principal.org_slug}-{stamp}.json.gz"'
    )
    response["Content-Length"] = str(export.size_bytes)
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/orgs/{org}/deletion", response={202: OrgDeletionOut}, operation_id="org_delete")
@requires(Perm.ORG_OWNER)
def org_delete(request: HttpRequest, org: str, payload: OrgDeletionIn) -> Status[dict[str, Any]]:
    """Delete the organization: an owner logged in with a session (403 for an API key) types
    its slug as `confirm` (422 otherwise). At once every member loses access and every API key
    and invitation is revoked; then, in the background, its Stripe subscription is canceled
    and every row of the org is deleted (tasks, scores, members, roles, keys, billing, the
    audit log...). Cannot be undone: export the data first."""
    principal = principal_of(request)
    deletion = services.org_deletion_request(
        org_id=principal.org_id, caller=principal, confirm=payload.confirm
    )
    return Status(202, org_deletion_out(deletion))
