"""Human review through API v2: a person with `score.review` overrides a task's score or one
criterion's value with a reason; the machine's value stays beside it, a re-score keeps the
override until it is cleared, every change is audited, and the task list filters on it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.scoring.models import HumanRating, ScoreOverride
from taskscore.scoring.services import (
    scoring_model_create,
    version_activate,
    version_publish,
)
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_rescore, task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1,
         "attribute": "reach", "min": 0, "max": 100}  # fmt: skip
CLARITY = {"kind": "ai", "key": "clarity", "label": "Clarity", "weight": 1,
           "rubric": "Is the task clearly described?"}  # fmt: skip


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _task(actor: Actor, criteria: list[dict[str, Any]], reach: float = 40) -> Task:
    """A task of the actor's org scored under an active version of `criteria`."""
    model = scoring_model_create(org_id=actor.org.pk, name="Review", criteria=criteria)
    version = model.versions.get()
    version_publish(org_id=actor.org.pk, model_id=model.pk, number=version.number)
    version_activate(org_id=actor.org.pk, model_id=model.pk, number=version.number)
    task = TaskFactory.create(org=actor.org, title="Export CSV", attributes={"reach": reach})
    task_score_run(task_id=task.pk)
    return task


def _get_task(client: Client, task: Task) -> dict[str, Any]:
    response = client.get(f"/api/v2/orgs/acme/tasks/{task.pk}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_an_override_of_the_score_keeps_the_machine_value_beside_it(alice: Actor) -> None:
    # Given a task the machine scored 40
    task = _task(alice, [REACH], reach=40)

    # When a reviewer overrides the whole score
    response = _post(
        alice.client,
        f"/api/v2/orgs/acme/tasks/{task.pk}/overrides",
        {"value": 75, "reason": "Finance depends on it this quarter."},
    )

    # Then the override is recorded with the machine's value, and the task shows both
    assert response.status_code == 201
    override = response.json()
    assert (override["criterion"], override["value"], override["machine_value"]) == (
        None,
        75.0,
        pytest.approx(40.0),
    )
    assert override["created_by"] == "alice@acme.test"
    shown = _get_task(alice.client, task)["score"]
    assert (shown["value"], shown["machine_value"], shown["overridden"]) == (
        75.0,
        pytest.approx(40.0),
        True,
    )
    task.refresh_from_db()
    assert task.score_value == 75.0  # the list sorts by what people see


def test_an_override_of_a_criterion_recomputes_the_score_and_becomes_a_label(
    alice: Actor,
) -> None:
    # Given a task scored on reach (40/100) and an AI clarity rating
    task = _task(alice, [REACH, CLARITY], reach=40)
    machine = _get_task(alice.client, task)["score"]
    machine_clarity = next(i for i in machine["breakdown"] if i["key"] == "clarity")["value"]

    # When a reviewer sets clarity to 9
    response = _post(
        alice.client,
        f"/api/v2/orgs/acme/tasks/{task.pk}/overrides",
        {"criterion": "clarity", "value": 9, "reason": "Goal, scope and done are all stated."},
    )

    # Then the score uses 9 for clarity, the machine's rating stays in the breakdown, and the
    # review is a calibration label
    assert response.status_code == 201
    assert response.json()["machine_value"] == machine_clarity
    score = _get_task(alice.client, task)["score"]
    clarity = next(i for i in score["breakdown"] if i["key"] == "clarity")
    assert (clarity["value"], clarity["human_value"]) == (machine_clarity, 9.0)
    assert score["value"] == pytest.approx(100 * (0.4 + 0.9) / 2)
    assert score["machine_value"] == pytest.approx(machine["machine_value"])
    label = HumanRating.objects.get(task=task, criterion="clarity")
    assert (label.rating, label.source) == (9.0, "review")


def test_a_rescore_keeps_the_override_until_it_is_cleared(alice: Actor) -> None:
    # Given an overridden task
    task = _task(alice, [REACH], reach=40)
    override = _post(
        alice.client,
        f"/api/v2/orgs/acme/tasks/{task.pk}/overrides",
        {"value": 90, "reason": "Strategic."},
    ).json()

    # When another version becomes active and the task is scored again
    model = scoring_model_create(
        org_id=alice.org.pk, name="Double", criteria=[{**REACH, "max": 50}]
    )
    version_publish(org_id=alice.org.pk, model_id=model.pk, number=1)
    version_activate(org_id=alice.org.pk, model_id=model.pk, number=1)
    task_rescore(org_id=alice.org.pk, task_id=task.pk)
    task_score_run(task_id=task.pk)

    # Then the new machine score is shown beside the kept override, which stays the task's
    # current score (what the list sorts by)
    score = _get_task(alice.client, task)["score"]
    assert (score["value"], score["machine_value"]) == (90.0, pytest.approx(80.0))
    task.refresh_from_db()
    assert task.score_value == 90.0

    # And once cleared, the machine's new score counts again
    cleared = alice.client.delete(f"/api/v2/orgs/acme/tasks/{task.pk}/overrides/{override['id']}")
    assert cleared.status_code == 204
    score = _get_task(alice.client, task)["score"]
    assert (score["value"], score["overridden"]) == (pytest.approx(80.0), False)
    task.refresh_from_db()
    assert task.score_value == pytest.approx(80.0)
    history = alice.client.get(f"/api/v2/orgs/acme/tasks/{task.pk}/overrides").json()
    assert [(o["value"], o["cleared_by"]) for o in history] == [(90.0, "alice@acme.test")]


def test_a_new_override_replaces_the_active_one_and_keeps_it_as_history(alice: Actor) -> None:
    task = _task(alice, [REACH])
    url = f"/api/v2/orgs/acme/tasks/{task.pk}/overrides"
    _post(alice.client, url, {"value": 60, "reason": "First look."})
    _post(alice.client, url, {"value": 70, "reason": "After the planning meeting."})

    active = _get_task(alice.client, task)["overrides"]
    history = alice.client.get(url).json()

    assert [o["value"] for o in active] == [70.0]
    assert [(o["value"], o["cleared_at"] is None) for o in history] == [(70.0, True), (60.0, False)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"value": 50, "reason": "   "}, "reason", id="blank-reason"),
        pytest.param({"value": 50}, "reason", id="no-reason"),
        pytest.param({"value": 101, "reason": "x"}, "value", id="score-over-100"),
        pytest.param({"criterion": "clarity", "value": 11, "reason": "x"}, "value", id="ai-11"),
        pytest.param({"criterion": "nope", "value": 1, "reason": "x"}, "criterion", id="unknown"),
    ],
)
def test_a_bad_override_is_a_422_naming_the_field_and_changes_nothing(
    alice: Actor, body: dict[str, Any], field: str
) -> None:
    task = _task(alice, [REACH, CLARITY])
    before = Task.objects.get(pk=task.pk).score_value

    response = _post(alice.client, f"/api/v2/orgs/acme/tasks/{task.pk}/overrides", body)

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not ScoreOverride.objects.exists()
    assert Task.objects.get(pk=task.pk).score_value == before


def test_an_unscored_task_cannot_be_overridden(alice: Actor) -> None:
    task = TaskFactory.create(org=alice.org)

    response = _post(
        alice.client, f"/api/v2/orgs/acme/tasks/{task.pk}/overrides", {"value": 1, "reason": "x"}
    )

    assert response.status_code == 409
    assert not ScoreOverride.objects.exists()


def test_another_orgs_task_is_a_404_and_is_not_overridden(alice: Actor, mallory: Actor) -> None:
    task = _task(alice, [REACH])

    as_own_org = _post(
        mallory.client,
        f"/api/v2/orgs/globex/tasks/{task.pk}/overrides",
        {"value": 1, "reason": "mine now"},
    )
    as_their_org = _post(
        mallory.client,
        f"/api/v2/orgs/acme/tasks/{task.pk}/overrides",
        {"value": 1, "reason": "mine now"},
    )

    assert (as_own_org.status_code, as_their_org.status_code) == (404, 404)
    assert not ScoreOverride.objects.exists()


def test_clearing_an_unknown_or_cleared_override_is_a_404(alice: Actor) -> None:
    task = _task(alice, [REACH])
    url = f"/api/v2/orgs/acme/tasks/{task.pk}/overrides"
    override = _post(alice.client, url, {"value": 60, "reason": "x"}).json()
    assert alice.client.delete(f"{url}/{override['id']}").status_code == 204

    assert alice.client.delete(f"{url}/{override['id']}").status_code == 404
    assert alice.client.delete(f"{url}/not-a-uuid").status_code == 404


def test_a_member_without_score_review_is_refused(bob: Actor, alice: Actor) -> None:
    task = _task(alice, [REACH])

    response = _post(
        bob.client, f"/api/v2/orgs/acme/tasks/{task.pk}/overrides", {"value": 1, "reason": "x"}
    )

    assert response.status_code == 403
    assert response.json()["permission"] == "score.review"


def test_overrides_are_audited(alice: Actor) -> None:
    task = _task(alice, [REACH], reach=40)
    url = f"/api/v2/orgs/acme/tasks/{task.pk}/overrides"
    override = _post(alice.client, url, {"value": 55, "reason": "Customer escalation."}).json()
    alice.client.delete(f"{url}/{override['id']}")

    events = list(
        AuditEvent.objects.filter(target_id=str(task.pk))
        .order_by("id")
        .values("action", "actor_label", "before", "after")
    )

    assert [e["action"] for e in events] == ["score.overridden", "score.override_cleared"]
    assert events[0]["actor_label"] == "alice@acme.test"
    assert events[0]["after"] == {
        "criterion": None, "value": 55.0, "reason": "Customer escalation."
    }  # fmt: skip
    before_override, before_clear = events[0]["before"], events[1]["before"]
    assert before_override is not None
    assert before_clear is not None
    assert before_override["machine_value"] == pytest.approx(40.0)
    assert before_clear["value"] == 55.0


def test_the_task_list_filters_overridden_tasks(alice: Actor) -> None:
    task = _task(alice, [REACH])
    plain = TaskFactory.create(org=alice.org, title="Plain")
    task_score_run(task_id=plain.pk)
    _post(alice.client, f"/api/v2/orgs/acme/tasks/{task.pk}/overrides", {"value": 5, "reason": "x"})

    overridden = alice.client.get("/api/v2/orgs/acme/tasks?overridden=true").json()["items"]
    others = alice.client.get("/api/v2/orgs/acme/tasks?overridden=false").json()["items"]

    assert [t["id"] for t in overridden] == [str(task.pk)]
    assert [t["id"] for t in others] == [str(plain.pk)]


def test_v1_reports_the_reviewed_score(alice: Actor, owner_key: Any) -> None:
    task = _task(alice, [REACH], reach=40)
    _post(
        alice.client, f"/api/v2/orgs/acme/tasks/{task.pk}/overrides", {"value": 66, "reason": "x"}
    )

    response = Client().get(
        f"/api/v1/tasks/{task.pk}", headers={"Authorization": f"Bearer {owner_key.token}"}
    )

    assert response.json()["score"] == 66.0
