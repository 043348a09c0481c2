"""Conditional GETs of tasks (If-None-Match → 304): the live task list and the task page poll
these. A 304 costs one query and no body; any change to what the page shows gives a new ETag;
another org's task is a 404 whatever the client sends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import Actor
from taskscore.api.common import representations
from taskscore.scoring.services import scoring_model_create, version_activate, version_publish
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v2/orgs/acme/tasks?limit=2"
REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1,
         "attribute": "reach", "min": 0, "max": 100}  # fmt: skip


def _get(client: Client, url: str, etag: str | None = None) -> Any:
    headers = {} if etag is None else {"If-None-Match": etag}
    return client.get(url, headers=headers)


def _scored_tasks(actor: Actor, count: int) -> list[Task]:
    model = scoring_model_create(org_id=actor.org.pk, name="Reach", criteria=[REACH])
    version = model.versions.get()
    version_publish(org_id=actor.org.pk, model_id=model.pk, number=version.number)
    version_activate(org_id=actor.org.pk, model_id=model.pk, number=version.number)
    tasks = [TaskFactory.create(org=actor.org, attributes={"reach": 10 * i}) for i in range(count)]
    for task in tasks:
        task_score_run(task_id=task.pk)
    return tasks


def test_a_list_carries_a_weak_etag_and_asks_to_be_revalidated(bob: Actor) -> None:
    _scored_tasks(bob, 3)
    response = _get(bob.client, LIST)
    assert response.status_code == 200
    assert response["ETag"].startswith('W/"')
    assert response["Cache-Control"] == "private, no-cache"


def _tables(queries: list[str]) -> list[str]:
    """The tables each query reads first (its FROM), in order."""
    return [sql.split(" FROM ", 1)[1].split()[0].strip('"') for sql in queries if " FROM " in sql]


def _reads(client: Client, url: str, etag: str | None = None) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = _get(client, url, etag)
    return response, _tables([q["sql"] for q in captured.captured_queries])


def test_an_unchanged_list_is_a_304_without_a_body_from_the_pages_keys_alone(
    bob: Actor,
) -> None:
    _scored_tasks(bob, 3)
    first = _get(bob.client, LIST)

    again, tables = _reads(bob.client, LIST, first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    # One query of the page's keys; no scores, no overrides (the session's own reads aside).
    assert [t for t in tables if not t.startswith(("django_session", "accounts_"))] == [
        "tasks_task"
    ]


def test_a_page_rendered_once_is_served_again_from_its_keys_alone(bob: Actor) -> None:
    _scored_tasks(bob, 3)
    _get(bob.client, LIST)  # the session's and the permission cache's first reads
    built, built_tables = _reads(bob.client, LIST + "&sort=score")  # rendered and kept

    again, tables = _reads(bob.client, LIST + "&sort=score")

    assert "scoring_taskscore" in built_tables
    assert again.status_code == 200
    assert again.content == built.content
    assert again["ETag"] == built["ETag"]
    assert [t for t in tables if not t.startswith(("django_session", "accounts_"))] == [
        "tasks_task"
    ]


def test_without_the_cache_the_same_body_is_built(bob: Actor, settings: Any) -> None:
    _scored_tasks(bob, 2)
    kept = _get(bob.client, LIST)
    settings.REPRESENTATION_CACHE_SECONDS = 0
    built, tables = _reads(bob.client, LIST)
    assert "scoring_taskscore" in tables
    assert (built.content, built["ETag"]) == (kept.content, kept["ETag"])


def test_a_failing_cache_only_costs_the_building(bob: Actor, settings: Any) -> None:
    _scored_tasks(bob, 2)
    kept = _get(bob.client, LIST)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    response = _get(bob.client, LIST)
    assert response.status_code == 200
    assert response.content == kept.content


def test_a_body_this_process_served_is_served_again_from_its_memory(
    bob: Actor, settings: Any
) -> None:
    _scored_tasks(bob, 2)
    kept = _get(bob.client, LIST)
    # given the body gone from Redis (expired, or evicted)
    cache.delete(representations._key(kept["ETag"]))
    # when the page is read again, unchanged
    again, tables = _reads(bob.client, LIST)
    # then this process's copy answers: the page's keys are read, its scores are not
    assert (again.content, again["ETag"]) == (kept.content, kept["ETag"])
    assert "scoring_taskscore" not in tables
    # and with no memory for bodies, Redis missing it means building it again
    settings.REPRESENTATION_MEMORY_BYTES = 0
    cache.delete(representations._key(kept["ETag"]))
    built, tables = _reads(bob.client, LIST)
    assert built.content == kept.content
    assert "scoring_taskscore" in tables


def test_the_bodies_kept_in_memory_stay_within_their_budget_least_recently_used_out() -> None:
    recent = representations.RecentBodies()
    for name in "abcd":
        recent.put(name, b"x" * 25, budget=100)
    recent.get("a")  # used: the oldest now is "b"
    recent.put("e", b"x" * 25, budget=100)
    assert [recent.get(name) is not None for name in "abcde"] == [True, False, True, True, True]
    recent.put("big", b"x" * 26, budget=100)  # more than a quarter of the room: not kept
    assert recent.get("big") is None


def test_the_etag_matches_among_several_and_in_its_strong_form(bob: Actor) -> None:
    _scored_tasks(bob, 1)
    etag = _get(bob.client, LIST)["ETag"]
    strong = etag.removeprefix("W/")
    assert _get(bob.client, LIST, f'"other", {strong}').status_code == 304
    assert _get(bob.client, LIST, '"other"').status_code == 200


@pytest.mark.parametrize("change", ["scored", "submitted", "overridden", "deleted"])
def test_any_change_to_the_page_gives_a_new_etag_and_the_new_page(
    alice: Actor, change: str
) -> None:
    tasks = _scored_tasks(alice, 2)
    first = _get(alice.client, LIST)
    newest = tasks[-1]

    if change == "scored":  # the newest task scored again (a re-score finished)
        Task.objects.filter(pk=newest.pk).update(status="queued", claimed_at=None)
        task_score_run(task_id=newest.pk)
    elif change == "submitted":
        TaskFactory.create(org=alice.org, attributes={"reach": 99})
    elif change == "overridden":
        response = alice.client.post(
            f"/api/v2/orgs/acme/tasks/{newest.pk}/overrides",
            json.dumps({"value": 12, "reason": "Known to be small."}),
            content_type="application/json",
        )
        assert response.status_code == 201
    else:
        Task.objects.filter(pk=newest.pk).delete()

    again = _get(alice.client, LIST, first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.json() != first.json()


def test_another_listing_does_not_match_this_ones_etag(bob: Actor) -> None:
    _scored_tasks(bob, 3)  # reach 0, 10, 20: newest first is 20, 10; lowest score first 0, 10
    by_date = _get(bob.client, LIST)["ETag"]
    by_score = _get(bob.client, LIST + "&sort=score", by_date)
    assert by_score.status_code == 200
    assert [t["attributes"]["reach"] for t in by_score.json()["items"]] == [0, 10]


def test_one_task_is_a_304_while_unchanged_and_200_once_overridden(alice: Actor) -> None:
    [task] = _scored_tasks(alice, 1)
    url = f"/api/v2/orgs/acme/tasks/{task.pk}"
    first = _get(alice.client, url)
    assert first.status_code == 200

    again, tables = _reads(alice.client, url, first["ETag"])
    assert again.status_code == 304
    assert [t for t in tables if not t.startswith(("django_session", "accounts_"))] == [
        "tasks_task"
    ]

    alice.client.post(
        f"{url}/overrides",
        json.dumps({"value": 80, "reason": "Matters more."}),
        content_type="application/json",
    )
    changed = _get(alice.client, url, first["ETag"])
    assert changed.status_code == 200
    assert changed.json()["score"]["value"] == 80
    assert _get(alice.client, url).json()["score"]["value"] == 80  # not the kept body


def test_another_orgs_task_is_a_404_whatever_the_client_sends(bob: Actor, mallory: Actor) -> None:
    [task] = _scored_tasks(mallory, 1)
    for etag in (None, "*", _get(mallory.client, f"/api/v2/orgs/globex/tasks/{task.pk}")["ETag"]):
        response = _get(bob.client, f"/api/v2/orgs/acme/tasks/{task.pk}", etag)
        assert response.status_code == 404
        assert response["content-type"] == "application/problem+json"
