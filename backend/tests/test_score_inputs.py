"""Reproducible scores: each score keeps the inputs that made it (attribute values, AI ratings,
the hash of the text the AI read, version, provider, model, prompt version), the API returns
them, and every score recomputed from them alone gives the same number."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conftest import Actor
from taskscore.billing.models import Plan
from taskscore.integrations.ai.prompt import PROMPT_VERSION
from taskscore.scoring.models import ScoringVersion, TaskScore
from taskscore.scoring.recompute import score_recompute
from taskscore.scoring.services import scoring_model_create, version_activate, version_publish
from taskscore.scoring.templates import QUALITY, RICE_AI, WSJF
from taskscore.tasks.services import task_rescore, task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db


def _activate(actor: Actor, criteria: list[dict[str, Any]]) -> ScoringVersion:
    model = scoring_model_create(
        org_id=actor.org.pk, name=f"M{uuid.uuid4().hex[:6]}", criteria=criteria
    )
    version_publish(org_id=actor.org.pk, model_id=model.pk, number=1)
    return version_activate(org_id=actor.org.pk, model_id=model.pk, number=1)


def test_every_score_is_recomputed_from_its_inputs_to_the_same_number(alice: Actor) -> None:
    # Given tasks of all kinds scored under three versions, the last with the AI budget spent
    attributes = [
        {"reach": 120, "impact": 7, "confidence": 80, "effort": 3},
        {"business_value": 9, "time_criticality": 2, "risk_reduction": 5, "job_size": 8},
        {},
        {"reach": 1e9, "effort": -4},
    ]
    tasks = [
        TaskFactory.create(
            org=alice.org,
            title=f"Task {n} {uuid.uuid4().hex[:6]}",
            description="Reach me at a@b.example." if n % 2 else "",
            attributes=attrs,
        )
        for n, attrs in enumerate(attributes)
    ]
    for criteria in (RICE_AI.criteria, WSJF.criteria, QUALITY.criteria):
        if criteria is QUALITY.criteria:
            Plan.objects.filter(code="free").update(monthly_ai_calls=0)
            criteria = [*criteria, *RICE_AI.criteria[:1]]  # reach, so it can score without AI
        _activate(alice, criteria)
        for task in tasks:
            task.refresh_from_db()
            if task.status != "queued":
                task_rescore(org_id=alice.org.pk, task_id=task.pk)
            task_score_run(task_id=task.pk)
    scores = list(TaskScore.objects.filter(task__in=tasks).select_related("version"))
    assert len(scores) == 12

    # When each is recomputed from its stored inputs alone, then it is the same number
    for score in scores:
        assert score.inputs["inputs_version"] == 1
        assert score_recompute(score).value == score.value


def test_the_api_returns_a_scores_inputs_and_its_recomputation(alice: Actor) -> None:
    task = TaskFactory.create(
        org=alice.org,
        title=f"Export CSV {uuid.uuid4().hex[:6]}",
        description="Ping ops@acme.example when done.",
        attributes={"reach": 500, "impact": 5, "confidence": 50, "effort": 5},
    )
    task_score_run(task_id=task.pk)
    score = TaskScore.objects.get(task=task)

    response = alice.client.get(f"/api/v2/orgs/acme/tasks/{task.pk}/scores/{score.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["recomputed_value"] == body["value"] == score.value
    inputs = body["inputs"]
    assert inputs["attributes"] == {
        "confidence": 50.0,
        "effort": 5.0,
        "impact": 5.0,
        "reach": 500.0,
    }
    assert set(inputs["ratings"]) == {"clarity"}
    assert inputs["ai"]["provider"] == "openai"
    assert inputs["ai"]["model"] == "fake-model"
    assert inputs["ai"]["prompt_version"] == PROMPT_VERSION
    assert inputs["ai"]["fields_sent"] == ["title", "description"]
    assert (inputs["ai"]["redacted"], inputs["ai"]["redacted_kinds"]) == (True, ["email"])
    assert len(inputs["ai"]["text_sha256"]) == 64
    assert "ops@acme" not in response.content.decode()


def test_another_orgs_score_and_an_unknown_score_are_404(alice: Actor, mallory: Actor) -> None:
    task = TaskFactory.create(org=alice.org)
    task_score_run(task_id=task.pk)
    score = TaskScore.objects.get(task=task)

    foreign = mallory.client.get(f"/api/v2/orgs/globex/tasks/{task.pk}/scores/{score.pk}")
    unknown = alice.client.get(f"/api/v2/orgs/acme/tasks/{task.pk}/scores/999999")

    assert (foreign.status_code, unknown.status_code) == (404, 404)


def test_a_score_recorded_before_inputs_were_kept_is_recomputed_from_its_breakdown(
    alice: Actor,
) -> None:
    task = TaskFactory.create(org=alice.org, attributes={"reach": 300})
    task_score_run(task_id=task.pk)
    score = TaskScore.objects.get(task=task)
    TaskScore.objects.filter(pk=score.pk).update(inputs={})
    score.refresh_from_db()

    assert score_recompute(score).value == score.value
    body = alice.client.get(f"/api/v2/orgs/acme/tasks/{task.pk}/scores/{score.pk}").json()
    assert body["inputs"] is None
    assert body["recomputed_value"] == score.value
