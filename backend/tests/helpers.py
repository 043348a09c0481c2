"""Small helpers shared by the cross-cutting tests."""

from __future__ import annotations

import json
import time
from typing import Any

from django.test import Client

from taskscore.orgs.principals import principal_for_token
from taskscore.tasks.models import Task, TaskStatus


def submit_task(token: str, *, title: str, description: str = "", **attributes: float) -> str:
    """POST a task through API v2 with an API key; returns its id."""
    response = Client().post(
        f"/api/v2/orgs/{_org_of(token)}/tasks",
        json.dumps({"title": title, "description": description, "attributes": attributes}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.content
    task_id: str = response.json()["id"]
    return task_id


def _org_of(token: str) -> str:
    principal = principal_for_token(token)
    assert principal is not None
    return principal.org_slug


def wait_terminal(task_id: str, *, timeout: float = 30.0, tick: Any = None) -> Task:
    """Poll until the task is scored or failed; `tick()` runs on every poll (e.g. a sweeper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = Task.objects.get(pk=task_id)
        if task.status in (TaskStatus.SCORED, TaskStatus.FAILED):
            return task
        if tick is not None:
            tick()
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still {Task.objects.get(pk=task_id).status}")
