"""The scoring endpoints of v2: models, versions, preview, activation, re-score, comparison."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import Actor
from taskscore.scoring.models import ScoringModel, ScoringVersion, TaskScore
from taskscore.scoring.services import version_active_get_or_create
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1,
         "attribute": "reach", "min": 0, "max": 100}  # fmt: skip


def _post(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_templates_are_listed(bob: Actor) -> None:
    keys = [t["key"] for t in bob.client.get("/api/v2/orgs/acme/scoring/templates").json()]
    assert keys == ["rice_ai", "rice", "wsjf", "quality"]


def test_an_admin_builds_publishes_and_activates_a_version(alice: Actor) -> None:
    created = _post(
        alice.client, "/api/v2/orgs/acme/scoring/models", {"name": "Lean", "criteria": [REACH]}
    )
    assert created.status_code == 201
    model = created.json()
    assert [(v["number"], v["status"]) for v in model["versions"]] == [(1, "draft")]
    base = f"/api/v2/orgs/acme/scoring/models/{model['id']}/versions"

    v2 = _post(alice.client, base, {"criteria": [{**REACH, "weight": 2}], "notes": "heavier"})
    assert (v2.status_code, v2.json()["number"]) == (201, 2)
    conflict = _post(alice.client, f"{base}/2/activate")
    assert conflict.status_code == 409
    assert _post(alice.client, f"{base}/2/publish").json()["status"] == "published"
    activated = _post(alice.client, f"{base}/2/activate").json()
    assert activated["is_active"] is True
    assert alice.client.get("/api/v2/orgs/acme/scoring/active").json()["id"] == activated["id"]


def test_invalid_criteria_are_a_422_naming_the_field_and_write_nothing(alice: Actor) -> None:
    bad = {"name": "Bad", "criteria": [REACH, {**REACH, "key": "other", "max": -5}]}
    response = _post(alice.client, "/api/v2/orgs/acme/scoring/models", bad)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("criteria.1")
    duplicate = _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/models",
        {"name": "Dup", "criteria": [REACH, REACH]},
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [
        {"field": "criteria.1.key", "message": "Keys must be unique."}
    ]
    assert not ScoringModel.objects.filter(name__in=["Bad", "Dup"]).exists()


def test_a_member_cannot_manage_scoring(bob: Actor) -> None:
    response = _post(
        bob.client, "/api/v2/orgs/acme/scoring/models", {"name": "X", "template": "rice"}
    )
    assert response.status_code == 403
    assert response.json()["permission"] == "scoring.manage"
    assert not ScoringModel.objects.filter(name="X").exists()


def test_preview_scores_a_sample_and_stores_nothing(alice: Actor) -> None:
    before = (Task.objects.count(), TaskScore.objects.count(), ScoringVersion.objects.count())
    response = _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/preview",
        {"criteria": [REACH], "task": {"title": "Sample", "attributes": {"reach": 25}}},
    )
    assert response.status_code == 200
    assert response.json()["value"] == pytest.approx(25.0)
    assert (
        Task.objects.count(),
        TaskScore.objects.count(),
        ScoringVersion.objects.count(),
    ) == before


def test_rescore_with_a_new_active_version_and_compare(alice: Actor) -> None:
    # given two tasks scored with the default version
    tasks = [TaskFactory.create(org=alice.org, attributes={"reach": r}) for r in (10, 90)]
    for task in tasks:
        task_score_run(task_id=task.pk)
    old = version_active_get_or_create(org_id=alice.org.pk)
    # re-scoring with the same active version is refused
    same = _post(alice.client, f"/api/v2/orgs/acme/tasks/{tasks[0].pk}/rescore")
    assert same.status_code == 409

    # when a reach-only version becomes active and everything is re-scored
    model = _post(
        alice.client, "/api/v2/orgs/acme/scoring/models", {"name": "Reach", "criteria": [REACH]}
    ).json()
    base = f"/api/v2/orgs/acme/scoring/models/{model['id']}/versions/1"
    _post(alice.client, f"{base}/publish")
    new = _post(alice.client, f"{base}/activate").json()
    queued = _post(alice.client, "/api/v2/orgs/acme/tasks/rescore")
    assert (queued.status_code, queued.json()) == (202, {"queued": 2})
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.QUEUED}
    for task in tasks:
        task_score_run(task_id=task.pk)

    # then each task has two scores and the comparison lines them up
    history = alice.client.get(f"/api/v2/orgs/acme/tasks/{tasks[1].pk}/scores").json()
    assert [h["version_id"] for h in history] == [new["id"], old.pk]
    assert history[0]["value"] == pytest.approx(90.0)
    comparison = alice.client.get(
        f"/api/v2/orgs/acme/scoring/compare?from_version={old.pk}&to_version={new['id']}"
    ).json()
    assert comparison["tasks"] == 2
    assert [round(i["to_value"], 1) for i in comparison["items"]] == [90.0, 10.0]


def test_another_orgs_scoring_objects_are_404(alice: Actor, mallory: Actor) -> None:
    model = _post(
        alice.client, "/api/v2/orgs/acme/scoring/models", {"name": "Mine", "template": "rice"}
    ).json()
    assert (
        mallory.client.get(f"/api/v2/orgs/globex/scoring/models/{model['id']}").status_code == 404
    )
    assert mallory.client.get("/api/v2/orgs/acme/scoring/models").status_code == 404
    version_id = model["versions"][0]["id"]
    compare = mallory.client.get(
        f"/api/v2/orgs/globex/scoring/compare?from_version={version_id}&to_version={version_id}"
    )
    assert compare.status_code == 404


def test_an_org_opened_through_the_api_has_its_active_version_and_reading_writes_nothing(
    alice: Actor,
) -> None:
    # given a new org, opened as a person opens one
    alice.client.post("/api/v2/orgs", {"name": "Fresh"}, content_type="application/json")
    versions_before = list(ScoringVersion.objects.filter(org__slug="fresh").values_list("pk"))
    # when its scoring is read
    active = alice.client.get("/api/v2/orgs/fresh/scoring/active")
    models = alice.client.get("/api/v2/orgs/fresh/scoring/models")
    # then the default version was there from the start, and the reads created nothing
    assert len(versions_before) == 1
    assert active.status_code == 200
    assert active.json()["number"] == 1
    assert active.json()["is_active"] is True
    assert [m["name"] for m in models.json()] == ["Default"]
    assert list(ScoringVersion.objects.filter(org__slug="fresh").values_list("pk")) == (
        versions_before
    )


def test_reading_the_scoring_of_an_org_without_a_version_does_not_create_one(
    alice: Actor,
) -> None:
    # given an org whose versions are gone (not reachable through the API; a damaged state)
    ScoringVersion.objects.filter(org=alice.org).update(is_active=False)
    # when the active version is read
    response = alice.client.get("/api/v2/orgs/acme/scoring/active")
    # then it is a 404, and no version was created by the read
    assert response.status_code == 404
    assert not ScoringVersion.objects.filter(org=alice.org, is_active=True).exists()
