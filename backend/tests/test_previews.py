"""Previewing draft criteria on the org's latest tasks, as a job: a real worker scores them
against the fake AI (cached answers reused), reports progress, ranks old against new, and
stores no score. The worker tests commit (transaction=True) so the worker sees the rows."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from config.celery import app as celery_app
from conftest import Actor
from taskscore.integrations.ai.prompt import user_prompt
from taskscore.orgs.models import Organization
from taskscore.scoring.ai import task_text
from taskscore.scoring.models import PreviewRun, PreviewRunStatus, TaskScore
from taskscore.scoring.services import (
    preview_run_claim,
    preview_run_create,
    preview_run_execute,
    preview_runs_purge,
    preview_runs_requeue_stuck,
    scoring_model_create,
    version_activate,
    version_publish,
)
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory
from taskscore.testing.fake_ai import FakeAIServer, expected_rating

PREVIEWS = "/api/v2/orgs/acme/scoring/previews"
REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1.0,
         "attribute": "reach", "min": 0.0, "max": 100.0}  # fmt: skip
CLARITY = {"kind": "ai", "key": "clarity", "label": "Clarity", "weight": 1.0,
           "rubric": "How clearly does the task state its goal and when it is done?",
           "high_anchor": "", "low_anchor": ""}  # fmt: skip
DRAFT = [REACH, CLARITY]  # new score = (reach + 10 × AI rating) / 2


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _rating(title: str, description: str) -> int:
    """What the fake AI answers for this task text."""
    return expected_rating(user_prompt(task_text(title=title, description=description)))


def _current_scores(org: Organization, scores: dict[Task, float | None]) -> None:
    """Give tasks a current score through the real scoring path (an attribute-only version:
    score = reach); tasks mapped to None stay unscored."""
    model = scoring_model_create(org_id=org.pk, name=f"m-{uuid.uuid4().hex[:6]}", criteria=[REACH])
    version_publish(org_id=org.pk, model_id=model.pk, number=1)
    version_activate(org_id=org.pk, model_id=model.pk, number=1)
    for task, score in scores.items():
        if score is not None:
            assert task_score_run(task_id=task.pk) is True
            task.refresh_from_db()
            assert task.score_value == score


def _tasks(org: Organization) -> list[Task]:
    """Five tasks, oldest first; the 2nd and 4th read the same text to the AI; the 5th is
    unscored. Current scores 90, 40, 70, 10, none."""
    tag = uuid.uuid4().hex[:8]
    spec = [
        (f"Alpha {tag}", "Export the monthly report as CSV.", 90.0, True),
        (f"Beta {tag}", "Dark mode for the dashboard.", 40.0, True),
        (f"Gamma {tag}", "Faster search.", 70.0, True),
        (f"Beta {tag}", "Dark mode for the dashboard.", 10.0, True),
        (f"Delta {tag}", "Single sign-on.", 60.0, False),
    ]
    tasks = []
    base = timezone.now() - timedelta(minutes=10)
    for n, (title, description, reach, _) in enumerate(spec):
        task = TaskFactory.create(org=org, title=title, description=description,
                                  attributes={"reach": reach})  # fmt: skip
        Task.objects.filter(pk=task.pk).update(created_at=base + timedelta(minutes=n))
        task.refresh_from_db()
        tasks.append(task)
    _current_scores(org, {t: (s[2] if s[3] else None) for t, s in zip(tasks, spec, strict=True)})
    return [Task.objects.get(pk=t.pk) for t in tasks]


def _ranks(rows: list[tuple[Task, float | None]]) -> dict[uuid.UUID, int]:
    """1 = highest; ties: newer first, then higher id (as the task list's -score order)."""
    ranked = sorted(
        (r for r in rows if r[1] is not None),
        key=lambda r: (r[1], r[0].created_at, r[0].pk),
        reverse=True,
    )
    return {task.pk: n for n, (task, _) in enumerate(ranked, start=1)}


def _expected_items(
    tasks: list[Task], failed: frozenset[uuid.UUID] = frozenset()
) -> list[dict[str, Any]]:
    """The items the run should hold, computed from the fake AI's known answers."""
    new: dict[uuid.UUID, float | None] = {
        t.pk: (t.attributes["reach"] + 10 * _rating(t.title, t.description)) / 2 for t in tasks
    }
    new.update(dict.fromkeys(failed))
    old_rank = _ranks([(t, t.score_value) for t in tasks])
    new_rank = _ranks([(t, new[t.pk]) for t in tasks])
    items = [
        {
            "task_id": str(t.pk),
            "title": t.title,
            "old_score": t.score_value,
            "new_score": None if new[t.pk] is None else pytest.approx(new[t.pk]),
            "old_rank": old_rank.get(t.pk),
            "new_rank": new_rank.get(t.pk),
            "rank_change": old_rank[t.pk] - new_rank[t.pk]
            if t.pk in old_rank and t.pk in new_rank
            else None,
            "ai_skipped": None,
        }
        for t in tasks
    ]
    newest_first = {str(t.pk): n for n, t in enumerate(reversed(tasks))}
    return sorted(items, key=lambda i: (i["new_rank"] is None, i["new_rank"] or 0,
                                        newest_first[i["task_id"]]))  # fmt: skip


def _wait_done(
    client: Client, run_id: str, timeout: float = 30.0
) -> tuple[dict[str, Any], list[int]]:
    """Poll the run until it is done or failed; its last state and every `done` seen."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{PREVIEWS}/{run_id}")
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        seen.append(body["done"])
        if body["status"] in ("done", "failed"):
            return body, seen
        assert body["items"] == []
        time.sleep(0.05)
    raise AssertionError(f"preview {run_id} did not finish")


def _task_state() -> list[tuple[Any, ...]]:
    return list(
        Task.objects.order_by("pk").values_list(
            "pk", "title", "status", "score_value", "attributes", "updated_at", "attempts"
        )
    )


# ---------------------------------------------------------------------------------- with a worker


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_preview_run_scores_the_latest_tasks_with_the_draft(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    # given five tasks (two reading the same text, one unscored), and what they hold now
    tasks = _tasks(alice.org)
    fake_ai.reset()
    scores_before, tasks_before = TaskScore.objects.count(), _task_state()
    # when an admin previews a draft with an AI criterion on them
    created = _post(alice.client, PREVIEWS, {"criteria": DRAFT})
    # then the run is accepted at once, queued over the five tasks
    assert created.status_code == 202, created.content
    run = created.json()
    assert {k: run[k] for k in ("status", "total", "done", "items", "failure_reason")} == {
        "status": "queued", "total": 5, "done": 0, "items": [], "failure_reason": None,
    }  # fmt: skip
    # and the worker finishes it, progress only growing to the total
    body, seen = _wait_done(alice.client, run["id"])
    assert body["status"] == "done", body
    assert seen == sorted(seen)
    assert (seen[-1], body["total"]) == (5, 5)
    assert body["finished_at"] is not None
    # with each task's old and new score and rank, by new rank
    assert [{k: v for k, v in i.items() if k != "error"} for i in body["items"]] == (
        _expected_items(tasks)
    )
    assert [i["error"] for i in body["items"]] == [None] * 5
    # and one AI call per distinct text (the repeated one came from the cache)
    assert fake_ai.stats().calls == 4
    # and no score was stored, no task changed
    assert TaskScore.objects.count() == scores_before
    assert _task_state() == tasks_before
    # when the same draft is previewed again, then every answer comes from the cache
    again = _post(alice.client, PREVIEWS, {"criteria": DRAFT, "limit": 5}).json()
    second, _ = _wait_done(alice.client, again["id"])
    assert second["items"] == body["items"]
    assert fake_ai.stats().calls == 4


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_an_ai_failure_marks_only_its_task(alice: Actor, fake_ai: FakeAIServer) -> None:
    # given the five tasks, and an AI that refuses the first question it is asked
    tasks = [t for t in _tasks(alice.org) if not t.title.startswith("Beta")]  # distinct texts
    Task.objects.filter(title__startswith="Beta").delete()
    fake_ai.reset()
    fake_ai.script(["400"])
    # when a preview runs
    run = _post(alice.client, PREVIEWS, {"criteria": DRAFT}).json()
    body, _ = _wait_done(alice.client, run["id"])
    # then the run is done, and exactly one task has an error instead of a new score
    assert (body["status"], body["total"], body["done"]) == ("done", 3, 3)
    [failed] = [i for i in body["items"] if i["error"] is not None]
    assert failed["error"].startswith("The AI provider could not rate this task: OpenAI returned "
                                      "HTTP 400")  # fmt: skip
    assert (failed["new_score"], failed["new_rank"], failed["rank_change"]) == (None, None, None)
    assert body["items"][-1] == failed  # last: it has no new rank
    failed_id = uuid.UUID(failed["task_id"])
    assert [{k: v for k, v in i.items() if k != "error"} for i in body["items"]] == (
        _expected_items(tasks, failed=frozenset({failed_id}))
    )
    assert fake_ai.stats().by_behaviour == {"400": 1, "ok": 2}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_the_sweeper_runs_a_preview_whose_job_was_lost(alice: Actor) -> None:
    # given a queued run whose message never reached the broker
    TaskFactory.create(org=alice.org, attributes={"reach": 30.0})
    run = PreviewRun.objects.create(
        org=alice.org, criteria=[REACH], limit=10, total=1,
        task_ids=[str(t.pk) for t in Task.objects.all()],
        enqueued_at=timezone.now() - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS + 1),
    )  # fmt: skip
    # when the sweeper runs, then the worker completes it
    assert preview_runs_requeue_stuck() == 1
    body, _ = _wait_done(alice.client, str(run.pk))
    assert [(i["new_score"], i["old_score"]) for i in body["items"]] == [(30.0, None)]
    # and a second sweep finds nothing to do
    assert preview_runs_requeue_stuck() == 0


# ---------------------------------------------------------------------------------- API rules


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"criteria": [{**REACH, "weight": 0}]}, ["criteria.0.weight"]),
        ({"criteria": [REACH, {**CLARITY, "key": "reach"}]}, ["criteria.1.key"]),
        ({"criteria": []}, ["criteria"]),
        ({"criteria": [REACH], "limit": 0}, ["limit"]),
        ({"criteria": [REACH], "limit": 201}, ["limit"]),
        ({"limit": 10}, ["criteria"]),
    ],
)
def test_bad_criteria_or_limit_are_a_422_and_create_nothing(
    alice: Actor, body: dict[str, Any], fields: list[str]
) -> None:
    response = _post(alice.client, PREVIEWS, body)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert PreviewRun.objects.count() == 0


@pytest.mark.django_db
def test_another_orgs_run_is_a_404_and_a_member_may_not_preview(
    alice: Actor, bob: Actor, mallory: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    # given a run of acme
    run = _post(alice.client, PREVIEWS, {"criteria": [REACH]}).json()
    # then mallory (owner of globex) finds it neither through acme nor through globex
    for url in (f"{PREVIEWS}/{run['id']}", f"/api/v2/orgs/globex/scoring/previews/{run['id']}"):
        response = mallory.client.get(url)
        assert (response.status_code, response.json()["type"]) == (404, "/problems/not-found")
    # and a malformed or unknown id is a 404 too
    for run_id in ("not-a-uuid", str(uuid.uuid4())):
        assert alice.client.get(f"{PREVIEWS}/{run_id}").status_code == 404
    # and bob (member) may neither start nor read one
    with django_capture_on_commit_callbacks() as callbacks:
        refused = _post(bob.client, PREVIEWS, {"criteria": [REACH]})
    assert (refused.status_code, refused.json()["permission"]) == (403, "scoring.manage")
    assert callbacks == []
    assert bob.client.get(f"{PREVIEWS}/{run['id']}").status_code == 403
    assert PreviewRun.objects.count() == 1


@pytest.mark.django_db
def test_a_run_covers_the_newest_tasks_up_to_the_limit(
    alice: Actor, django_capture_on_commit_callbacks: Any
) -> None:
    tasks = [TaskFactory.create(org=alice.org) for _ in range(4)]
    TaskFactory.create()  # another org's
    with django_capture_on_commit_callbacks() as callbacks:
        run = _post(alice.client, PREVIEWS, {"criteria": [REACH], "limit": 3}).json()
    stored = PreviewRun.objects.get(pk=run["id"])
    assert (run["total"], stored.limit) == (3, 3)
    assert stored.task_ids == [str(t.pk) for t in sorted(tasks, key=lambda t: (t.created_at, t.pk),
                                                          reverse=True)[:3]]  # fmt: skip
    assert stored.created_by is not None
    assert len(callbacks) == 1  # the job is enqueued once the request commits


# ---------------------------------------------------------------------------------- the job


@pytest.mark.django_db
def test_the_job_is_safe_to_run_twice(alice: Actor) -> None:
    # given a queued run
    TaskFactory.create(org=alice.org, attributes={"reach": 20.0})
    run = preview_run_create(org_id=alice.org.pk, criteria=[REACH])
    # when its job runs twice
    assert preview_run_execute(run_id=run.pk) is True
    first = PreviewRun.objects.get(pk=run.pk)
    assert preview_run_execute(run_id=run.pk) is False
    # then the second changed nothing
    again = PreviewRun.objects.get(pk=run.pk)
    assert (again.status, again.items, again.finished_at, again.attempts) == (
        PreviewRunStatus.DONE, first.items, first.finished_at, 1
    )  # fmt: skip
    assert [i["new_score"] for i in again.items] == [20.0]


@pytest.mark.django_db
def test_a_run_held_by_a_live_worker_is_left_alone_until_its_lease_ends(alice: Actor) -> None:
    TaskFactory.create(org=alice.org, attributes={"reach": 20.0})
    run = preview_run_create(org_id=alice.org.pk, criteria=[REACH])
    held = preview_run_claim(run_id=run.pk)  # another worker's claim
    assert held is not None
    assert preview_run_execute(run_id=run.pk) is False
    assert PreviewRun.objects.get(pk=run.pk).status == PreviewRunStatus.RUNNING
    # once the claim is older than the lease (that worker died), the job takes over
    lapsed = timezone.now() - timedelta(seconds=settings.TASK_CLAIM_LEASE_SECONDS + 1)
    PreviewRun.objects.filter(pk=run.pk).update(claimed_at=lapsed)
    assert preview_run_execute(run_id=run.pk) is True
    done = PreviewRun.objects.get(pk=run.pk)
    assert (done.status, done.done, done.attempts) == (PreviewRunStatus.DONE, 1, 2)


@pytest.mark.django_db
def test_a_run_whose_attempts_all_died_ends_failed(alice: Actor) -> None:
    run = preview_run_create(org_id=alice.org.pk, criteria=[REACH])
    PreviewRun.objects.filter(pk=run.pk).update(attempts=settings.TASK_MAX_ATTEMPTS)
    assert preview_run_execute(run_id=run.pk) is False
    failed = PreviewRun.objects.get(pk=run.pk)
    assert failed.status == PreviewRunStatus.FAILED
    assert failed.failure_reason == (
        f"The preview stopped {settings.TASK_MAX_ATTEMPTS} times without finishing; giving up."
    )


@pytest.mark.django_db
def test_runs_older_than_a_day_are_purged(alice: Actor) -> None:
    old = preview_run_create(org_id=alice.org.pk, criteria=[REACH])
    recent = preview_run_create(org_id=alice.org.pk, criteria=[REACH])
    PreviewRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert preview_runs_purge() == 1
    assert list(PreviewRun.objects.values_list("pk", flat=True)) == [recent.pk]


def test_every_beat_job_is_a_registered_task() -> None:
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "taskscore.scoring.jobs.preview_runs_sweep",
        "taskscore.scoring.jobs.preview_runs_purge",
    } <= scheduled
    assert scheduled - set(celery_app.tasks) == set()
