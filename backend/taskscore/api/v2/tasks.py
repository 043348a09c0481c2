from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.common.conditional import etag_of, not_modified
from taskscore.api.common.representations import (
    json_response,
    render,
    representation_get,
    representation_put,
)
from taskscore.api.v2.presenters.common import page_out
from taskscore.api.v2.presenters.tasks import rescore_all_out, task_out, task_score_out
from taskscore.api.v2.schemas import (
    TaskBatchIn,
    TaskBatchOut,
    TaskIn,
    TaskListQuery,
    TaskOut,
    TaskPageOut,
)
from taskscore.api.v2.scoring_schemas import RescoreAllOut, TaskScoreOut
from taskscore.rbac.catalog import Perm
from taskscore.scoring import selectors as scoring_selectors
from taskscore.tasks import selectors, services

router = Router(tags=["tasks"])


@router.post("/orgs/{org}/tasks", response={201: TaskOut}, operation_id="task_create")
@requires(Perm.TASK_CREATE)
def task_create(request: HttpRequest, org: str, payload: TaskIn) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    task = services.task_submit(
        org_id=principal.org_id,
        data=services.TaskInput(**payload.model_dump()),
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
    )
    return Status(201, task_out(selectors.task_submitted(task)))


# Names the representation of a task and of a page of tasks in the ETags: change it with the body.
_TASK_REPRESENTATION = "v2.task.1"


@router.get("/orgs/{org}/tasks", response={200: TaskPageOut, 304: None}, operation_id="task_list")
@requires(Perm.TASK_READ)
def task_list(request: HttpRequest, org: str, query: Query[TaskListQuery]) -> HttpResponse:
    """A page of tasks. Answers If-None-Match with a 304 while the page is unchanged, so polling
    for changes costs little: one query of the page's keys, which also finds the page's body
    when an earlier request rendered it (`api.common.representations`)."""
    principal = principal_of(request)
    selection = selectors.TaskSelection(
        org_id=principal.org_id,
        limit=query.limit,
        cursor=query.cursor,
        sort=query.sort,
        status=query.status,
        q=query.q,
        overridden=query.overridden,
    )
    etag = etag_of(_TASK_REPRESENTATION, selectors.task_list_version(**selection))
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    body = representation_get(etag)
    if body is None:
        page = selectors.task_list(**selection)
        # The page as read now (a write may have come between the two queries).
        etag = etag_of(_TASK_REPRESENTATION, selectors.task_page_version(page))
        body = render(TaskPageOut, page_out(page.items, page.next_cursor, task_out))
        representation_put(etag, body)
    return json_response(body, etag)


# Registered before /tasks/{task_id} so that "batch" and "rescore" are not taken for task ids.
@router.post(
    "/orgs/{org}/tasks/batch", response={201: TaskBatchOut}, operation_id="task_create_batch"
)
@requires(Perm.TASK_CREATE)
def task_create_batch(
    request: HttpRequest, org: str, payload: TaskBatchIn
) -> Status[dict[str, Any]]:
    """Submit up to 100 tasks at once; one invalid task refuses the whole batch."""
    principal = principal_of(request)
    tasks = services.tasks_submit_batch(
        org_id=principal.org_id,
        items=[services.TaskInput(**item.model_dump()) for item in payload.tasks],
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
    )
    items = [task_out(selectors.task_submitted(task)) for task in tasks]
    return Status(201, {"items": items})  # all of them: no cursor


@router.post(
    "/orgs/{org}/tasks/rescore", response={202: RescoreAllOut}, operation_id="task_rescore_all"
)
@requires(Perm.TASK_RESCORE)
def task_rescore_all(request: HttpRequest, org: str) -> Status[dict[str, int]]:
    """Queue every finished task that has no score from the active version yet."""
    principal = principal_of(request)
    return Status(202, rescore_all_out(services.tasks_rescore_all(org_id=principal.org_id)))


@router.get(
    "/orgs/{org}/tasks/{task_id}", response={200: TaskOut, 304: None}, operation_id="task_get"
)
@requires(Perm.TASK_READ)
def task_get(request: HttpRequest, org: str, task_id: str) -> HttpResponse:
    """One task. Answers If-None-Match with a 304 while it is unchanged (one query, which also
    finds the task's body when an earlier request rendered it)."""
    principal = principal_of(request)
    version = selectors.task_version(org_id=principal.org_id, task_id=task_id)
    etag = etag_of(_TASK_REPRESENTATION, version)
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    body = representation_get(etag)
    if body is None:
        task = selectors.task_get(org_id=principal.org_id, task_id=task_id)
        etag = etag_of(_TASK_REPRESENTATION, [f"{task.pk}@{task.updated_at.isoformat()}"])
        body = render(TaskOut, task_out(task))
        representation_put(etag, body)
    return json_response(body, etag)


@router.post(
    "/orgs/{org}/tasks/{task_id}/rescore", response={202: TaskOut}, operation_id="task_rescore"
)
@requires(Perm.TASK_RESCORE)
def task_rescore(request: HttpRequest, org: str, task_id: str) -> Status[dict[str, Any]]:
    """Score the task again with the org's active version."""
    principal = principal_of(request)
    return Status(202, task_out(services.task_rescore(org_id=principal.org_id, task_id=task_id)))


@router.get(
    "/orgs/{org}/tasks/{task_id}/scores", response=list[TaskScoreOut], operation_id="task_scores"
)
@requires(Perm.TASK_READ)
def task_scores(request: HttpRequest, org: str, task_id: str) -> list[dict[str, Any]]:
    """Every score of the task, newest first, with the version and what the AI part cost."""
    principal = principal_of(request)
    task = selectors.task_get(org_id=principal.org_id, task_id=task_id)
    return [task_score_out(s) for s in scoring_selectors.task_scores(task_id=task.id)]
