"""Calibration: people's ratings (reviews and an imported CSV) against the AI's, per AI criterion
and scoring version, through API v2; a bad CSV names its rows and imports nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from django.test import Client

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.integrations.ai.judge.metrics import agreement
from taskscore.scoring.models import HumanRating, ScoringVersion, TaskScore
from taskscore.scoring.services import scoring_model_create, version_activate, version_publish
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

CLARITY = {"kind": "ai", "key": "clarity", "label": "Clarity", "weight": 1,
           "rubric": "Is the task clearly described?"}  # fmt: skip
VALUE = {"kind": "ai", "key": "value", "label": "Value", "weight": 1,
         "rubric": "Does the task explain its value?"}  # fmt: skip


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _scored_tasks(actor: Actor, count: int) -> tuple[ScoringVersion, list[Task]]:
    model = scoring_model_create(org_id=actor.org.pk, name="AI", criteria=[CLARITY, VALUE])
    version_publish(org_id=actor.org.pk, model_id=model.pk, number=1)
    version = version_activate(org_id=actor.org.pk, model_id=model.pk, number=1)
    tasks = [TaskFactory.create(org=actor.org, title=f"Task {n}") for n in range(count)]
    for task in tasks:
        task_score_run(task_id=task.pk)
    return version, tasks


def _ai_rating(task: Task, version: ScoringVersion, key: str) -> float:
    breakdown = TaskScore.objects.get(task=task, version=version).breakdown
    return float(next(item["value"] for item in breakdown if item["key"] == key))


def _csv(rows: Sequence[tuple[object, ...]]) -> str:
    return "task_id,criterion,rating\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def _calibration(actor: Actor, version: ScoringVersion) -> dict[str, Any]:
    url = f"/api/v2/orgs/acme/scoring/models/{version.model_id}/versions/{version.number}"
    response = actor.client.get(f"{url}/calibration")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_imported_labels_are_compared_with_the_ai_per_criterion(alice: Actor) -> None:
    # Given six tasks the AI rated, and people's clarity ratings of them
    version, tasks = _scored_tasks(alice, 6)
    human = [2, 9, 5, 7, 0, 10]
    imported = _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/labels",
        {"csv": _csv([(t.pk, "clarity", h) for t, h in zip(tasks, human, strict=True)])},
    )
    assert (imported.status_code, imported.json()) == (
        201,
        {"imported": 6, "criteria": ["clarity"]},
    )

    # When the version's calibration is read
    calibration = _calibration(alice, version)

    # Then clarity's figures are those of the AI's ratings against people's, and value has none
    machine = [_ai_rating(t, version, "clarity") for t in tasks]
    expected = agreement(human, machine)
    clarity, value = calibration["criteria"]
    assert clarity["key"] == "clarity"
    assert (clarity["from_imports"], clarity["from_reviews"]) == (6, 0)
    assert clarity["agreement"]["labels"] == 6
    assert clarity["agreement"]["spearman"] == pytest.approx(expected.spearman, abs=1e-3)
    assert clarity["agreement"]["mae"] == pytest.approx(expected.mae, abs=1e-3)
    assert clarity["agreement"]["bias"] == pytest.approx(expected.bias, abs=1e-3)
    assert clarity["agreement"]["pairs"] == expected.pairs
    assert value["agreement"] == {
        "labels": 0, "spearman": None, "mae": None, "bias": None, "pairwise_accuracy": None,
        "pairs": 0,
    }  # fmt: skip


def test_a_review_is_a_label_and_wins_over_an_import(alice: Actor) -> None:
    version, tasks = _scored_tasks(alice, 2)
    _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/labels",
        {"csv": _csv([(tasks[0].pk, "clarity", 1), (tasks[1].pk, "clarity", 8)])},
    )
    _post(
        alice.client,
        f"/api/v2/orgs/acme/tasks/{tasks[0].pk}/overrides",
        {"criterion": "clarity", "value": 6, "reason": "Re-read it: the goal is there."},
    )

    clarity = _calibration(alice, version)["criteria"][0]

    assert (clarity["from_reviews"], clarity["from_imports"]) == (1, 1)
    machine = [_ai_rating(t, version, "clarity") for t in tasks]
    assert clarity["agreement"]["mae"] == pytest.approx(agreement([6, 8], machine).mae, abs=1e-3)


def test_a_reimport_replaces_a_tasks_earlier_label(alice: Actor) -> None:
    _, tasks = _scored_tasks(alice, 1)
    url = "/api/v2/orgs/acme/scoring/labels"
    _post(alice.client, url, {"csv": _csv([(tasks[0].pk, "clarity", 3)])})
    _post(alice.client, url, {"csv": _csv([(tasks[0].pk, "clarity", 7.5)])})

    assert list(HumanRating.objects.values_list("rating", "source")) == [(7.5, "import")]


def test_a_csv_with_bad_rows_names_them_and_imports_nothing(alice: Actor, mallory: Actor) -> None:
    # Given a CSV whose rows 2–5 are wrong in different ways (row 5: another org's task)
    _, tasks = _scored_tasks(alice, 2)
    foreign = TaskFactory.create(org=mallory.org)
    rows = [
        (tasks[0].pk, "clarity", 5),
        ("not-a-uuid", "clarity", 5),
        (tasks[1].pk, "speed", 5),
        (tasks[1].pk, "clarity", 11),
        (foreign.pk, "clarity", 4),
    ]

    response = _post(alice.client, "/api/v2/orgs/acme/scoring/labels", {"csv": _csv(rows)})

    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["rows.2.task_id", "rows.3.criterion", "rows.4.rating", "rows.5.task_id"]
    assert "nothing was imported" in response.json()["detail"]
    assert not HumanRating.objects.exists()
    assert not AuditEvent.objects.filter(action="calibration.labels_imported").exists()


def test_a_well_formed_csv_naming_what_the_org_lacks_is_a_404(alice: Actor, mallory: Actor) -> None:
    """The contract (finding 12): a file the document calls valid is never a 422; one naming
    another org's task or a criterion that is not an AI criterion here is a 404 naming them."""
    _, tasks = _scored_tasks(alice, 1)
    foreign = TaskFactory.create(org=mallory.org)
    rows = [(tasks[0].pk, "clarity", 5), (foreign.pk, "clarity", 4), (tasks[0].pk, "speed", 5)]

    response = _post(alice.client, "/api/v2/orgs/acme/scoring/labels", {"csv": _csv(rows)})

    assert response.status_code == 404
    assert [e["field"] for e in response.json()["errors"]] == [
        "rows.2.task_id",
        "rows.3.criterion",
    ]
    assert not HumanRating.objects.exists()


def test_a_later_row_on_the_same_task_and_criterion_wins(alice: Actor) -> None:
    _, tasks = _scored_tasks(alice, 1)
    rows = [(tasks[0].pk, "clarity", 3), (tasks[0].pk, "clarity", 6)]

    response = _post(alice.client, "/api/v2/orgs/acme/scoring/labels", {"csv": _csv(rows)})

    assert (response.status_code, response.json()["imported"]) == (201, 1)
    assert list(HumanRating.objects.values_list("rating", flat=True)) == [6.0]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("task,crit,score\n", id="wrong-header"),
        pytest.param("task_id,criterion,rating\n", id="no-rows"),
        pytest.param("task_id,criterion,rating\n" + "a,b,c\n" * 5001, id="too-many-rows"),
    ],
)
def test_a_malformed_csv_is_a_422_and_imports_nothing(alice: Actor, text: str) -> None:
    response = _post(alice.client, "/api/v2/orgs/acme/scoring/labels", {"csv": text})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "csv"
    assert not HumanRating.objects.exists()


def test_an_import_is_audited(alice: Actor) -> None:
    _, tasks = _scored_tasks(alice, 1)
    _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/labels",
        {"csv": _csv([(tasks[0].pk, "value", 4)])},
    )

    event = AuditEvent.objects.get(action="calibration.labels_imported")
    assert event.after == {"rows": 1, "criteria": ["value"]}
    assert event.actor_label == "alice@acme.test"


def test_a_member_may_read_calibration_but_not_import(bob: Actor, alice: Actor) -> None:
    version, tasks = _scored_tasks(alice, 1)

    read = _calibration(bob, version)
    refused = _post(
        bob.client,
        "/api/v2/orgs/acme/scoring/labels",
        {"csv": _csv([(tasks[0].pk, "clarity", 4)])},
    )

    assert [c["key"] for c in read["criteria"]] == ["clarity", "value"]
    assert (refused.status_code, refused.json()["permission"]) == (403, "score.review")
