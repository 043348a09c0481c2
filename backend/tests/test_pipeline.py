"""The core flow end to end with real processes: API → Postgres → Celery (Redis broker) → a real
worker → score. These tests commit (transaction=True) so the worker process sees the rows."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from taskscore.integrations.ai.prompt import user_prompt
from taskscore.orgs.services import CreatedKey
from taskscore.scoring.ai import task_text
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import tasks_requeue_stuck
from taskscore.testing.factories import TaskFactory
from taskscore.testing.fake_ai import FakeAIServer, expected_rating

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def _wait_terminal(task_id: str, timeout: float = 20.0) -> Task:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = Task.objects.get(pk=task_id)
        if task.status in (TaskStatus.SCORED, TaskStatus.FAILED):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still {Task.objects.get(pk=task_id).status}")


def _expected_default_score(
    reach: float, impact: float, confidence: float, effort: float, ai_rating: float
) -> float:
    """The default version (RICE-like + AI clarity), written out independently of the engine."""
    parts = [
        (2, min(max(reach / 1000, 0), 1)),
        (3, min(max(impact / 10, 0), 1)),
        (1, min(max(confidence / 100, 0), 1)),
        (2, 1 - min(max(effort / 10, 0), 1)),
        (2, ai_rating / 10),
    ]
    return 100 * sum(w * s for w, s in parts) / sum(w for w, _ in parts)


def _fake_rating(title: str, description: str = "") -> int:
    """What the fake AI answers for this task (it derives the rating from the prompt)."""
    return expected_rating(user_prompt(task_text(title=title, description=description)))


def test_a_task_submitted_through_the_api_is_scored_by_the_worker(owner_key: CreatedKey) -> None:
    attributes = {"reach": 320, "impact": 8, "confidence": 70, "effort": 3}
    response = Client().post(
        "/api/v2/orgs/acme/tasks",
        json.dumps({"title": "Bulk export", "attributes": attributes}),
        content_type="application/json",
        headers={"authorization": f"Bearer {owner_key.token}"},
    )
    assert response.status_code == 201
    task = _wait_terminal(response.json()["id"])

    assert task.status == TaskStatus.SCORED
    score = TaskScore.objects.get(task=task)
    assert score.value == pytest.approx(
        _expected_default_score(320, 8, 70, 3, ai_rating=_fake_rating("Bulk export"))
    )
    assert (score.ai_calls, score.ai_model) == (1, "fake-model")
    assert score.input_tokens > 0
    body = (
        Client()
        .get(
            f"/api/v2/orgs/acme/tasks/{task.id}",
            headers={"authorization": f"Bearer {owner_key.token}"},
        )
        .json()
    )
    assert body["status"] == "scored"
    assert body["score"]["value"] == pytest.approx(score.value)
    assert [b["key"] for b in body["score"]["breakdown"]] == [
        "reach", "impact", "confidence", "effort", "clarity"
    ]  # fmt: skip
    assert body["score"]["breakdown"][-1]["rationale"]
    assert sum(b["contribution"] for b in body["score"]["breakdown"]) == pytest.approx(score.value)


def test_a_task_whose_broker_message_was_lost_is_recovered_by_the_sweeper(
    owner_key: CreatedKey,
) -> None:
    # given a committed task whose job never reached the broker
    task = TaskFactory.create(
        org=owner_key.api_key.org, enqueued_at=timezone.now() - timedelta(minutes=10)
    )
    time.sleep(0.5)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.QUEUED
    # when the sweeper runs
    assert tasks_requeue_stuck() == 1
    # then the worker scores it, once
    assert _wait_terminal(str(task.pk)).status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task=task).count() == 1


def test_many_tasks_submitted_at_once_are_each_scored_exactly_once(owner_key: CreatedKey) -> None:
    client = Client()
    ids = [
        client.post(
            "/api/v1/tasks",
            json.dumps({"title": f"t{i}", "attributes": {"reach": i * 10}}),
            content_type="application/json",
            headers={"authorization": f"Bearer {owner_key.token}"},
        ).json()["id"]
        for i in range(30)
    ]
    for task_id in ids:
        assert _wait_terminal(task_id).status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task_id__in=ids).count() == 30


def test_an_email_and_a_phone_number_never_reach_the_ai(
    owner_key: CreatedKey, fake_ai: FakeAIServer
) -> None:
    # Given a task whose description names a person's email address and phone number
    description = (
        "Customer asked for bulk export: reply to jane.roe@customer.example or call "
        "+44 20 7946 0958 once it ships."
    )
    response = Client().post(
        "/api/v2/orgs/acme/tasks",
        json.dumps({"title": "Bulk export for a customer", "description": description}),
        content_type="application/json",
        headers={"authorization": f"Bearer {owner_key.token}"},
    )

    # When the worker scores it
    task = _wait_terminal(response.json()["id"])

    # Then the AI read the redacted text only, and the score says something was redacted
    assert task.status == TaskStatus.SCORED
    users = [r["user"] for r in fake_ai.requests()]
    assert len(users) == 1
    assert "jane.roe@customer.example" not in users[0]
    assert "7946" not in users[0]
    assert "reply to [email] or call [phone] once it ships" in users[0]
    ai = TaskScore.objects.get(task=task).inputs["ai"]
    assert (ai["redacted"], sorted(ai["redacted_kinds"])) == (True, ["email", "phone"])
