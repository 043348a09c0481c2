"""API v1, the original: API keys only, the org implied by the key, offset pagination and a flat
score. Kept working for existing clients; new ones use v2."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query
from ninja.responses import Status

from taskscore.api.common.auth import ApiKeyAuth, principal_of, requires
from taskscore.api.common.errors import install_error_handlers
from taskscore.api.common.links import Link
from taskscore.api.common.openapi import TaskscoreAPI
from taskscore.api.v1.presenters import offset_page_out, task_out
from taskscore.api.v1.schemas import OffsetQuery, TaskV1In, TaskV1Out, TaskV1PageOut
from taskscore.rbac.catalog import Perm
from taskscore.tasks import selectors, services

api = TaskscoreAPI(
    title="Taskscore API (v1, deprecated)",
    version="1.0.0",
    description="The original API. Use v2 for new clients.",
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    links=[Link("v1_task_create", 201, "v1_task_get", {"path.task_id": "$response.body#/id"})],
)
install_error_handlers(api)


@api.get("/tasks", response=TaskV1PageOut, tags=["tasks"], operation_id="v1_task_list")
@requires(Perm.TASK_READ)
def task_list(request: HttpRequest, query: Query[OffsetQuery]) -> dict[str, Any]:
    principal = principal_of(request)
    items, count = selectors.task_list_offset(
        org_id=principal.org_id, limit=query.limit, offset=query.offset
    )
    return offset_page_out(items, count=count, limit=query.limit, offset=query.offset)


@api.post("/tasks", response={201: TaskV1Out}, tags=["tasks"], operation_id="v1_task_create")
@requires(Perm.TASK_CREATE)
def task_create(request: HttpRequest, payload: TaskV1In) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    task = services.task_submit(
        org_id=principal.org_id,
        data=services.TaskInput(**payload.model_dump()),
        api_key_id=principal.api_key_id,
    )
    return Status(201, task_out(selectors.task_submitted(task)))


@api.get("/tasks/{task_id}", response=TaskV1Out, tags=["tasks"], operation_id="v1_task_get")
@requires(Perm.TASK_READ)
def task_get(request: HttpRequest, task_id: str) -> dict[str, Any]:
    principal = principal_of(request)
    return task_out(selectors.task_get(org_id=principal.org_id, task_id=task_id))
