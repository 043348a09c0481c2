"""The v2 task list: four sort orders (by creation, by current score) as keyset pages, filters
by status and title, and cursors bound to their sort. Scores are recorded by the real scoring
path (an attribute-only version, so no AI is involved)."""

from __future__ import annotations

import base64
import importlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from conftest import Actor
from taskscore.orgs.models import Organization
from taskscore.scoring.models import TaskScore
from taskscore.scoring.services import (
    scoring_model_create,
    version_activate,
    version_publish,
)
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import task_rescore, task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

TASKS = "/api/v2/orgs/acme/tasks"
# score = reach, exactly (one attribute criterion over 0..100)
REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1.0,
         "attribute": "reach", "min": 0.0, "max": 100.0}  # fmt: skip


def _activate(org: Organization, criteria: list[dict[str, Any]]) -> None:
    model = scoring_model_create(org_id=org.pk, name=f"m-{uuid.uuid4().hex[:6]}", criteria=criteria)
    version_publish(org_id=org.pk, model_id=model.pk, number=1)
    version_activate(org_id=org.pk, model_id=model.pk, number=1)


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    title: str
    score: float | None
    created_at: datetime


def _seven_tasks(org: Organization) -> list[Row]:
    """t0..t6, created a minute apart except two pairs created at the same instant; scores
    50, 80, 50, none, 20, 50, none (t2 and t5: equal score and equal creation time)."""
    _activate(org, [REACH])
    base = timezone.now() - timedelta(hours=1)
    plan = [(50, 0), (80, 1), (50, 2), (None, 3), (20, 4), (50, 2), (None, 3)]
    rows = []
    for n, (reach, minute) in enumerate(plan):
        task = TaskFactory.create(org=org, title=f"t{n}", attributes={"reach": float(reach or 0)})
        Task.objects.filter(pk=task.pk).update(created_at=base + timedelta(minutes=minute))
        if reach is not None:
            assert task_score_run(task_id=task.pk) is True
        task.refresh_from_db()
        rows.append(Row(task.pk, task.title, task.score_value, task.created_at))
    return rows


def _walk(client: Client, query: str, limit: int = 2) -> tuple[list[str], list[int]]:
    """Every page of the list; the titles in order and the size of each page."""
    titles: list[str] = []
    sizes: list[int] = []
    url = f"{TASKS}?limit={limit}&{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        titles += [item["title"] for item in page["items"]]
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        # the next page's cursor replaces the one in `query` (a parameter is given once)
        rest = "&".join(p for p in query.split("&") if not p.startswith("cursor="))
        url = f"{TASKS}?limit={limit}&{rest}&cursor={cursor}" if cursor else ""
    return titles, sizes


def _expected(rows: list[Row], sort: str) -> list[str]:
    """The order the API promises, written out independently of the query code."""
    if sort in ("-created_at", "created_at"):
        ordered = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=sort.startswith("-"))
        return [r.title for r in ordered]
    scored = [r for r in rows if r.score is not None]
    unscored = [r for r in rows if r.score is None]
    descending = sort.startswith("-")
    ordered = sorted(scored, key=lambda r: (r.score, r.created_at, r.id), reverse=descending)
    rest = sorted(unscored, key=lambda r: (r.created_at, r.id), reverse=descending)
    return [r.title for r in ordered + rest]


def test_scoring_records_the_current_score_on_the_task(alice: Actor) -> None:
    # given a task scored under one version
    _activate(alice.org, [REACH])
    task = TaskFactory.create(org=alice.org, attributes={"reach": 30.0})
    task_score_run(task_id=task.pk)
    task.refresh_from_db()
    assert task.score_value == TaskScore.objects.get(task=task).value == 30.0
    # when a version that weighs it differently is activated and the task re-scored
    _activate(alice.org, [{**REACH, "max": 50.0}])
    task_rescore(org_id=alice.org.pk, task_id=task.pk)
    task_score_run(task_id=task.pk)
    # then its current score is the newest
    task.refresh_from_db()
    assert (task.status, task.score_value) == (TaskStatus.SCORED, 60.0)
    assert sorted(TaskScore.objects.filter(task=task).values_list("value", flat=True)) == [30, 60]


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-score", "score"])
def test_each_sort_is_a_total_order_across_pages(alice: Actor, sort: str) -> None:
    # given seven tasks with equal scores, equal creation times and unscored ones
    rows = _seven_tasks(alice.org)
    # when every page of two is read
    titles, sizes = _walk(alice.client, f"sort={sort}")
    # then the pages hold every task once, in the promised order
    assert titles == _expected(rows, sort)
    assert sizes == [2, 2, 2, 1]


def test_the_score_orders_written_out(alice: Actor) -> None:
    # given the seven tasks (t2 and t5: same score, same instant)
    rows = _seven_tasks(alice.org)
    t2, t5 = rows[2], rows[5]
    hi, lo = ("t2", "t5") if t2.id > t5.id else ("t5", "t2")
    t3_t6 = ["t3", "t6"] if rows[3].id < rows[6].id else ["t6", "t3"]
    # then by score descending: 80, the 50s newest first (id breaks the tie), 20, unscored last
    assert _walk(alice.client, "sort=-score")[0] == ["t1", hi, lo, "t0", "t4", *t3_t6[::-1]]
    # and ascending: 20, the 50s oldest first, 80, and the unscored still last
    assert _walk(alice.client, "sort=score")[0] == ["t4", "t0", lo, hi, "t1", *t3_t6]


def test_the_default_is_newest_first_and_a_task_added_meanwhile_causes_no_duplicate(
    alice: Actor,
) -> None:
    rows = _seven_tasks(alice.org)
    first = alice.client.get(f"{TASKS}?limit=3").json()
    TaskFactory.create(org=alice.org, title="newer")  # lands before the first page
    rest, _ = _walk(alice.client, f"cursor={first['next_cursor']}", limit=3)
    titles = [item["title"] for item in first["items"]] + rest
    assert titles == _expected(rows, "-created_at")


def test_filters_by_status_and_title(alice: Actor) -> None:
    # given the seven tasks (five scored) and two titled alike
    _seven_tasks(alice.org)
    TaskFactory.create(org=alice.org, title="Dark mode toggle", status=TaskStatus.FAILED)
    TaskFactory.create(org=alice.org, title="Settings: DARK MODE", status=TaskStatus.FAILED)
    # then the status filter keeps one status, in the sort asked for
    scored, _ = _walk(alice.client, "status=scored&sort=score")
    assert scored[0] == "t4"
    assert sorted(scored) == ["t0", "t1", "t2", "t4", "t5"]
    assert _walk(alice.client, "status=queued")[0] in (["t6", "t3"], ["t3", "t6"])
    # and the search matches the title's words in any case, the last one as typed so far,
    # combined with the rest (tests/test_task_search.py has the rest of the search)
    found, _ = _walk(alice.client, "q=DARK%20Mo&sort=created_at")
    assert found == ["Dark mode toggle", "Settings: DARK MODE"]
    assert _walk(alice.client, "q=dark%20mode&status=scored")[0] == []
    assert _walk(alice.client, "q=ark%20mode")[0] == []  # words, not any part of the title
    assert _walk(alice.client, "q=%25_")[0] == _walk(alice.client, "")[0]  # no word: no filter


def test_a_cursor_is_refused_with_another_sort(alice: Actor) -> None:
    _seven_tasks(alice.org)
    cursor = alice.client.get(f"{TASKS}?limit=2&sort=-score").json()["next_cursor"]
    response = alice.client.get(f"{TASKS}?limit=2&sort=score&cursor={cursor}")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "cursor",
            "message": "This cursor continues sort=-score; send the same sort, or start "
            "without a cursor.",
        }
    ]
    # with its own sort it continues
    assert alice.client.get(f"{TASKS}?limit=2&sort=-score&cursor={cursor}").status_code == 200


def _forge(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        _forge({"sort": "-score", "after": [1.0, "2026-01-01T00:00:00+00:00"]}),  # one short
        _forge({"sort": "-score", "after": ["high", "2026-01-01T00:00:00+00:00", "x"]}),
        _forge({"sort": "-score", "after": [1.0, "2026-01-01T00:00:00", str(uuid.uuid4())]}),
        _forge({"sort": "-score", "after": [1.0, "2026-01-01T00:00:00+00:00", "not-a-uuid"]}),
        _forge({"sort": "-score", "after": [None, None, str(uuid.uuid4())]}),
        _forge({"sort": "-score"}),
        _forge(["not a date", "1"]),
        _forge("text"),
    ],
)
def test_a_malformed_cursor_is_a_422_on_cursor(alice: Actor, cursor: str) -> None:
    response = alice.client.get(f"{TASKS}?sort=-score&cursor={cursor}")
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=title", "sort"),
        ("status=done", "status"),
        ("q=", "q"),
        (f"q={'x' * 201}", "q"),
        ("q=a%00b", "q"),  # Postgres text cannot hold NUL
    ],
)
def test_bad_list_parameters_are_a_422_naming_them(alice: Actor, query: str, field: str) -> None:
    response = alice.client.get(f"{TASKS}?{query}")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_cursor_of_the_old_format_still_pages_newest_first(alice: Actor) -> None:
    rows = _seven_tasks(alice.org)
    newest = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
    old = _forge([newest[1].created_at.isoformat(), str(newest[1].id)])
    titles = [i["title"] for i in alice.client.get(f"{TASKS}?cursor={old}").json()["items"]]
    assert titles == [r.title for r in newest[2:]]


def test_the_migration_backfills_the_newest_score(alice: Actor) -> None:
    # given tasks scored before score_value existed: one twice (two versions), one never
    _activate(alice.org, [REACH])
    twice = TaskFactory.create(org=alice.org, attributes={"reach": 10.0})
    never = TaskFactory.create(org=alice.org)
    task_score_run(task_id=twice.pk)
    _activate(alice.org, [{**REACH, "max": 20.0}])
    task_rescore(org_id=alice.org.pk, task_id=twice.pk)
    task_score_run(task_id=twice.pk)
    Task.objects.update(score_value=None)
    # when the data migration runs
    migration = importlib.import_module("taskscore.tasks.migrations.0003_backfill_score_value")
    migration.backfill_score_value(apps, None)
    # then each task holds its newest score's value, and the unscored none
    assert Task.objects.get(pk=twice.pk).score_value == 50.0
    assert Task.objects.get(pk=never.pk).score_value is None
