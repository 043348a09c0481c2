"""The task list's title search (`q`, `taskscore.tasks.search`; ADR 0014): what matches (the
title's words in any case, the last word of `q` as typed so far), the list's order and cursors
with a search in each sort, the other filters with it, another org's tasks never found, every path
a page may take (the words index in the list's order, the list walked, the score order gathered
or walked) answering the same, and the words index kept exact by every way tasks are written."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Actor
from taskscore.orgs.models import Organization
from taskscore.scoring.models import ScoreOverride
from taskscore.tasks import search as title_search
from taskscore.tasks.models import Task, TaskStatus, TaskWord
from taskscore.tasks.selectors import TaskSort, task_list, task_list_version
from taskscore.tasks.services import TaskInput, task_submit, tasks_submit_batch
from taskscore.testing.factories import OrganizationFactory, TaskFactory

pytestmark = pytest.mark.django_db

TASKS = "/api/v2/orgs/acme/tasks"
SORTS: list[TaskSort] = ["-created_at", "created_at", "-score", "score"]

TITLES = [
    "Dark mode toggle",
    "Settings: DARK MODE",
    "Darken the header",
    "Mode selector",
    "dark-mode CSS",
    "Zephyr export (v2)",
    "Send the e-mail digest",
    "École naïve",
    "Fix   billing_page   #1234",
]


def _titles(org: Organization, titles: list[str], *, status: str = TaskStatus.QUEUED) -> None:
    """Tasks with these titles, a minute apart (the first the oldest), scored 10, 20, ... except
    every third, unscored."""
    base = timezone.now() - timedelta(hours=1)
    for n, title in enumerate(titles):
        task = TaskFactory.create(org=org, title=title, status=status)
        score = None if n % 3 == 2 else float(10 * (n + 1))
        Task.objects.filter(pk=task.pk).update(
            created_at=base + timedelta(minutes=n), score_value=score
        )


def _all(
    org: Organization, q: str | None, sort: TaskSort = "-created_at", **more: Any
) -> list[str]:
    """Every page (of 2) of the org's list with `q`, titles in order; each page's version (the
    conditional GET's check) is the page's."""
    titles: list[str] = []
    cursor = None
    while True:
        selection = {"org_id": org.pk, "limit": 2, "cursor": cursor, "sort": sort, "q": q} | more
        page = task_list(**selection)
        assert task_list_version(**selection) == [
            *(f"{t.pk}@{t.updated_at.isoformat()}" for t in page.items),
            page.next_cursor,
        ]
        titles += [t.title for t in page.items]
        assert len(page.items) == 2 or page.next_cursor is None
        if page.next_cursor is None:
            return titles
        cursor = page.next_cursor


def _expected(org: Organization, titles: set[str], sort: TaskSort) -> list[str]:
    """The list's order, written out independently of the query code."""
    rows = list(Task.objects.filter(org=org, title__in=titles))
    if sort in ("-created_at", "created_at"):
        rows.sort(key=lambda t: (t.created_at, t.pk), reverse=sort.startswith("-"))
        return [t.title for t in rows]
    scored = [t for t in rows if t.score_value is not None]
    unscored = [t for t in rows if t.score_value is None]
    descending = sort.startswith("-")
    scored.sort(key=lambda t: (t.score_value or 0, t.created_at, t.pk), reverse=descending)
    unscored.sort(key=lambda t: (t.created_at, t.pk), reverse=descending)
    return [t.title for t in scored + unscored]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        # a word as typed so far: the start of a word, any case
        ("dark", {"Dark mode toggle", "Settings: DARK MODE", "Darken the header", "dark-mode CSS"}),
        ("DARK", {"Dark mode toggle", "Settings: DARK MODE", "Darken the header", "dark-mode CSS"}),
        # whole words then, in any order; punctuation separates words
        ("dark mode", {"Dark mode toggle", "Settings: DARK MODE", "dark-mode CSS"}),
        ("mode dark", {"Dark mode toggle", "Settings: DARK MODE", "dark-mode CSS"}),
        ("dark-mode", {"Dark mode toggle", "Settings: DARK MODE", "dark-mode CSS"}),
        ("darken mode", set()),
        ("mode mo", {"Dark mode toggle", "Settings: DARK MODE", "Mode selector", "dark-mode CSS"}),
        # not any part of a word
        ("ark", set()),
        ("ode", set()),
        ("mail", {"Send the e-mail digest"}),
        ("e mail", {"Send the e-mail digest"}),
        ("v2", {"Zephyr export (v2)"}),
        ("zephyr export (", {"Zephyr export (v2)"}),
        ("ÉCOLE", {"École naïve"}),
        ("naï", {"École naïve"}),
        ("billing_page", {"Fix   billing_page   #1234"}),
        ("1234", {"Fix   billing_page   #1234"}),
        ("123", {"Fix   billing_page   #1234"}),
        ("23", set()),
        ("nothing", set()),
        ("dark nothing", set()),
        ("nothing dark", set()),
    ],
)
def test_what_a_search_finds(org: Organization, q: str, found: set[str]) -> None:
    _titles(org, TITLES)
    for sort in SORTS:
        assert _all(org, q, sort) == _expected(org, found, sort), sort


@pytest.mark.parametrize("sort", SORTS)
def test_the_unfiltered_list_in_each_order_and_each_pages_version(
    org: Organization, sort: TaskSort
) -> None:
    # The first page's version comes from a fixed statement, the next pages' from the ORM's
    # keyset query: each equals its page's (`_all`), unscored tasks last in either direction.
    _titles(org, TITLES)
    other = OrganizationFactory.create()
    _titles(other, ["Another org's task"])
    assert _all(org, None, sort) == _expected(org, set(TITLES), sort)


@pytest.mark.parametrize("q", ["#", " - ", "%", "%_", "(  )"])
def test_a_search_without_letters_or_digits_filters_nothing(org: Organization, q: str) -> None:
    _titles(org, TITLES)
    assert _all(org, q) == _all(org, None) == _expected(org, set(TITLES), "-created_at")


def _many(org: Organization) -> list[str]:
    """23 tasks (with ties on score and on creation time) whose titles say "report", among
    others; a few also "weekly", one "reporting"."""
    titles = []
    for n in range(40):
        if n % 7 == 0:
            titles.append(f"Weekly report {n}")
        elif n % 5 == 0:
            titles.append(f"Reporting tool {n}")
        elif n % 2 == 0:
            titles.append(f"Report #{n}")
        else:
            titles.append(f"Other task {n}")
    _titles(org, titles)
    # two pairs created at the same instant, and equal scores: the id breaks the ties
    tasks = {t.title: t for t in Task.objects.filter(org=org)}
    same = tasks["Report #2"].created_at
    Task.objects.filter(pk=tasks["Report #4"].pk).update(created_at=same, score_value=30.0)
    Task.objects.filter(pk=tasks["Report #2"].pk).update(score_value=30.0)
    return [t for t in titles if "eport" in t]


@pytest.mark.parametrize("sort", SORTS)
def test_a_search_pages_every_match_once_in_the_lists_order(
    org: Organization, sort: TaskSort
) -> None:
    reports = _many(org)
    weekly = {t for t in reports if t.startswith("Weekly")}
    assert _all(org, "repo", sort) == _expected(org, set(reports), sort)
    assert _all(org, "report", sort) == _expected(org, set(reports), sort)
    assert _all(org, "report weekly", sort) == _expected(org, weekly, sort)
    assert _all(org, "weekly rep", sort) == _expected(org, weekly, sort)


@pytest.mark.parametrize("sort", SORTS)
def test_every_path_answers_the_same(
    org: Organization, sort: TaskSort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The words index in the list's order (or gathered, by score), and the list walked: a
    prefix of too many words, a score order whose words are all common."""
    reports = _many(org)
    expected = _expected(org, set(reports), sort)
    assert _all(org, "rep", sort) == expected
    monkeypatch.setattr(title_search, "PREFIX_WORDS_MAX", 1)  # "rep": report, reporting
    assert _all(org, "rep", sort) == expected
    monkeypatch.undo()
    monkeypatch.setattr(title_search, "_gathered", lambda *args: None)
    assert _all(org, "rep", sort) == expected
    assert _all(org, "report weekly", sort) == _expected(
        org, {t for t in reports if t.startswith("Weekly")}, sort
    )


def test_rounds_go_on_until_the_page_is_full(org: Organization) -> None:
    # given 60 tasks saying "report", one in ten failed, and a driver that must read past
    # several rounds of rows whose task is not failed
    titles = [f"Report {n}" for n in range(60)]
    _titles(org, titles)
    Task.objects.filter(org=org, title__in=titles[::10]).update(status=TaskStatus.FAILED)
    failed = {t for t in titles[::10]}
    for sort in SORTS:
        assert _all(org, "report", sort, status=TaskStatus.FAILED) == _expected(org, failed, sort)


def test_a_search_with_the_other_filters(alice: Actor) -> None:
    org = alice.org
    _titles(org, TITLES)
    dark = Task.objects.get(org=org, title="Dark mode toggle")
    Task.objects.filter(pk=dark.pk).update(status=TaskStatus.FAILED)
    ScoreOverride.objects.create(
        org=org, task=dark, criterion="", value=50.0, machine_value=10.0, reason="Checked."
    )
    for sort in SORTS:
        assert _all(org, "dark", sort, status=TaskStatus.FAILED) == ["Dark mode toggle"]
        assert _all(org, "dark mo", sort, overridden=True) == ["Dark mode toggle"]
        assert _all(org, "dark mo", sort, overridden=False) == _expected(
            org, {"Settings: DARK MODE", "dark-mode CSS"}, sort
        )
        assert _all(org, "zeph", sort, status=TaskStatus.FAILED) == []


def test_another_orgs_tasks_are_never_found(org: Organization, other_org: Organization) -> None:
    _titles(other_org, [*TITLES, *(f"Dark report {n}" for n in range(30))])
    _titles(org, ["Dark mode toggle", "Light report"])
    for sort in SORTS:
        for q in ("dark", "dark mode", "report", "rep", "dark rep", "zephyr", "naï"):
            found = _all(org, q, sort)
            assert set(found) <= {"Dark mode toggle", "Light report"}, (q, sort)
    assert _all(org, "zephyr") == []
    assert _all(org, "dark") == ["Dark mode toggle"]


def _forge(after: list[str]) -> str:
    raw = json.dumps({"sort": "-created_at", "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_the_api_searches_and_pages_with_the_cursor(alice: Actor) -> None:
    reports = _many(alice.org)
    expected = _expected(alice.org, set(reports), "-created_at")
    titles: list[str] = []
    url = f"{TASKS}?limit=5&q=Rep"
    while url:
        response = alice.client.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        titles += [item["title"] for item in page["items"]]
        url = f"{TASKS}?limit=5&q=Rep&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert titles == expected
    # a cursor of another sort, or a forged one, is a 422 on cursor with a search too
    cursor = alice.client.get(f"{TASKS}?limit=2&q=rep&sort=-score").json()["next_cursor"]
    response = alice.client.get(f"{TASKS}?limit=2&q=rep&cursor={cursor}")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    forged = _forge(["2026-01-01T00:00:00+00:00", "not-a-uuid"])
    response = alice.client.get(f"{TASKS}?limit=2&q=rep&cursor={forged}")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


def test_a_search_costs_a_few_queries_whatever_the_matches(alice: Actor, settings: Any) -> None:
    """A list request with a one-word search: the conditional GET's check is one query as
    without a search (the word's parse, its index rows and their tasks' keys, together), the page
    one more (the same parse and rows, then the tasks). Two words: the parse, the choice of the
    driving word and its index rows are three queries in the check (the rows give the keys) and
    in the page, whose tasks are a fourth."""
    settings.REPRESENTATION_CACHE_SECONDS = 0  # every request builds its body
    _many(alice.org)

    def queries(url: str, **headers: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.client.get(url, headers=headers).status_code in (200, 304)
        return len(captured)

    alice.client.get(f"{TASKS}?limit=5")  # a warm permission cache and session
    plain = queries(f"{TASKS}?limit=5")
    for q in ("report", "weekly", "rep"):
        assert queries(f"{TASKS}?limit=5&q={q}") == plain + 1, q
    assert queries(f"{TASKS}?limit=5&q=weekly%20report") == plain + 5
    # a poll of an unchanged page: one query with a search as without
    etag = alice.client.get(f"{TASKS}?limit=5&q=report")["ETag"]
    unchanged = alice.client.get(f"{TASKS}?limit=5")["ETag"]
    assert queries(f"{TASKS}?limit=5&q=report", if_none_match=etag) == queries(
        f"{TASKS}?limit=5", if_none_match=unchanged
    )


# ------------------------------------------------------------------ the words index kept exact


def _words(org: Organization) -> dict[str, set[str]]:
    """The index's words of each of the org's tasks, by title."""
    titles = dict(Task.objects.filter(org=org).values_list("id", "title"))
    words: dict[str, set[str]] = {title: set() for title in titles.values()}
    for row in TaskWord.objects.filter(org_id=org.pk):
        words[titles[row.task_id]].add(row.word)
    return words


def _exact(org: Organization) -> None:
    """Every task of the org has exactly its title's words in the index, at its creation time,
    and the index has no row of a task that is gone."""
    tasks = {t.pk: t for t in Task.objects.filter(org=org)}
    rows = list(TaskWord.objects.filter(org_id=org.pk))
    assert {r.task_id for r in rows} <= set(tasks)
    for row in rows:
        assert row.created_at == tasks[row.task_id].created_at
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, tasks_title_words(title) FROM tasks_task WHERE org_id = %s", [org.pk]
        )
        expected = {(task_id, word) for task_id, words in cursor.fetchall() for word in words}
    assert {(r.task_id, r.word) for r in rows} == expected


def test_every_way_tasks_are_written_keeps_the_index(
    org: Organization, other_org: Organization
) -> None:
    # created through the service, a batch, the factories, a bulk insert
    task_submit(org_id=org.pk, data=TaskInput(title="Fix: the Fix", description="", attributes={}))
    tasks_submit_batch(
        org_id=org.pk,
        items=[TaskInput(title=f"Batch {n}", description="", attributes={}) for n in range(2)],
    )
    TaskFactory.create(org=org, title="Factory made")
    Task.objects.bulk_create(Task(org=org, title=f"Bulk {n} École") for n in range(3))
    TaskFactory.create(org=other_org, title="Other org")
    assert _words(org)["Fix: the Fix"] == {"fix", "the"}
    assert _words(org)["Bulk 0 École"] == {"bulk", "0", "école"}
    _exact(org)
    # a title changed, a creation time changed (the list's order), other columns changed
    task = Task.objects.get(org=org, title="Factory made")
    Task.objects.filter(pk=task.pk).update(title="Renamed now")
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - timedelta(days=3))
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.SCORED, score_value=3.0)
    task.refresh_from_db()
    task.title = "Saved whole"
    task.save()
    assert _words(org)["Saved whole"] == {"saved", "whole"}
    _exact(org)
    # deleted, one and several
    Task.objects.filter(org=org, title__startswith="Bulk").delete()
    task.delete()
    _exact(org)
    assert set(_words(org)) == {"Fix: the Fix", "Batch 0", "Batch 1"}
    # and the other org's are untouched
    _exact(other_org)
    assert _words(other_org) == {"Other org": {"other", "org"}}


def test_deleting_an_org_deletes_its_words(org: Organization, other_org: Organization) -> None:
    _titles(org, TITLES)
    _titles(other_org, TITLES)
    Organization.objects.filter(pk=org.pk).delete()
    assert not TaskWord.objects.filter(org_id=org.pk).exists()
    _exact(other_org)


def test_the_migration_adds_the_words_of_the_tasks_written_before(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given tasks, four of which have no words in the index (written before its triggers)
    _titles(org, TITLES)
    some = list(Task.objects.filter(org=org).values_list("id", flat=True)[:4])
    TaskWord.objects.filter(task_id__in=some).delete()
    migration = importlib.import_module("taskscore.tasks.migrations.0007_backfill_task_title_words")
    monkeypatch.setattr(migration, "BATCH", 3)
    # when the backfill runs (in batches of 3)
    migration.backfill(None, SimpleNamespace(connection=connection))
    # then every task has its words, once; and running it again changes nothing
    _exact(org)
    before = TaskWord.objects.count()
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert TaskWord.objects.count() == before


def test_the_search_trusts_the_title_over_a_stale_word(org: Organization) -> None:
    # given a word the index holds for a task whose title no longer has it (as the backfill
    # may leave one for a title changed while its batch ran)
    _titles(org, ["Dark mode toggle", "Darken the header"])
    task = Task.objects.get(org=org, title="Darken the header")
    TaskWord.objects.create(org_id=org.pk, word="mode", created_at=task.created_at, task_id=task.pk)
    # then a search does not find it by that word
    for sort in SORTS:
        assert _all(org, "mode", sort) == ["Dark mode toggle"]
        assert _all(org, "mode dar", sort) == ["Dark mode toggle"]
