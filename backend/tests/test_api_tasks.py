"""The task endpoints of v1 and v2: shapes, errors as problem JSON, and tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import Actor
from taskscore.orgs.services import CreatedKey
from taskscore.rbac.catalog import OWNER
from taskscore.tasks.models import Task
from taskscore.testing.factories import TaskFactory

pytestmark = pytest.mark.django_db

VALID = {"title": "Dark mode", "description": "", "attributes": {"reach": 100, "effort": 2}}


def _bearer(key: CreatedKey) -> dict[str, str]:
    return {"authorization": f"Bearer {key.token}"}


def _post(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def _assert_problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["type"]) == (status, type_)
    return body


def test_v2_submit_returns_the_queued_task(bob: Actor) -> None:
    response = _post(bob.client, "/api/v2/orgs/acme/tasks", VALID)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["score"], body["attributes"]) == (
        "queued", None, {"reach": 100.0, "effort": 2.0}
    )  # fmt: skip
    task = Task.objects.get()
    assert task.created_by is not None
    assert (str(task.id), task.created_by.email) == (body["id"], bob.email)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": "", "attributes": {}}, ["title"]),
        ({"description": "no title"}, ["title"]),
        ({"title": "t", "attributes": {"reach": "lots"}}, ["attributes.reach"]),
        ({"title": "t", "attributes": {"reach": None}}, ["attributes.reach"]),
        ({"title": "t", "attributes": {"Reach!": 1}}, ["attributes.Reach!"]),
        ({"title": "t", "attributes": [1, 2]}, ["attributes"]),
    ],
)
def test_v2_invalid_input_is_a_422_naming_the_field_and_writes_nothing(
    alice: Actor, body: dict[str, Any], fields: list[str]
) -> None:
    response = _post(alice.client, "/api/v2/orgs/acme/tasks", body)
    problem = _assert_problem(response, 422, "/problems/validation-failed")
    assert [e["field"] for e in problem["errors"]] == fields
    assert Task.objects.count() == 0


def test_malformed_json_is_a_problem_and_writes_nothing(alice: Actor) -> None:
    response = alice.client.post(
        "/api/v2/orgs/acme/tasks", "{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert response["content-type"] == "application/problem+json"
    assert Task.objects.count() == 0


def test_anonymous_requests_are_401_and_write_nothing() -> None:
    client = Client()
    _assert_problem(
        _post(client, "/api/v2/orgs/acme/tasks", VALID), 401, "/problems/not-authenticated"
    )
    _assert_problem(client.get("/api/v1/tasks"), 401, "/problems/not-authenticated")
    bad_key = {"authorization": "Bearer ts_000000000000_wrong"}
    _assert_problem(
        _post(client, "/api/v1/tasks", VALID, **bad_key), 401, "/problems/not-authenticated"
    )
    assert Task.objects.count() == 0


def test_another_orgs_tasks_are_404_and_unchanged(alice: Actor, mallory: Actor) -> None:
    task = TaskFactory.create(org=alice.org)
    # mallory names alice's org: 404, as if it did not exist
    _assert_problem(mallory.client.get("/api/v2/orgs/acme/tasks"), 404, "/problems/not-found")
    _assert_problem(
        _post(mallory.client, "/api/v2/orgs/acme/tasks", VALID), 404, "/problems/not-found"
    )
    # mallory names her own org and alice's task id: 404 too
    _assert_problem(
        mallory.client.get(f"/api/v2/orgs/globex/tasks/{task.id}"), 404, "/problems/not-found"
    )
    assert Task.objects.count() == 1


def test_an_api_key_cannot_reach_another_org(alice: Actor, other_org_key: CreatedKey) -> None:
    task = TaskFactory.create(org=alice.org)
    headers = _bearer(other_org_key)
    response = _post(Client(), "/api/v2/orgs/acme/tasks", VALID, **headers)
    _assert_problem(response, 404, "/problems/not-found")
    _assert_problem(
        Client().get(f"/api/v1/tasks/{task.id}", headers=headers), 404, "/problems/not-found"
    )
    assert Task.objects.count() == 1


@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_unknown_task_ids_are_404(alice: Actor, task_id: str) -> None:
    response = alice.client.get(f"/api/v2/orgs/acme/tasks/{task_id}")
    _assert_problem(response, 404, "/problems/not-found")


def test_a_viewer_cannot_submit(carol: Actor) -> None:
    problem = _assert_problem(
        _post(carol.client, "/api/v2/orgs/acme/tasks", VALID), 403, "/problems/permission-denied"
    )
    assert problem["permission"] == "task.create"
    assert Task.objects.count() == 0
    assert carol.client.get("/api/v2/orgs/acme/tasks").status_code == 200


def test_v2_list_pages_with_a_cursor_newest_first(alice: Actor) -> None:
    created = [TaskFactory.create(org=alice.org, title=f"t{i}") for i in range(5)]
    seen: list[str] = []
    url = "/api/v2/orgs/acme/tasks?limit=2"
    while url:
        page = alice.client.get(url).json()
        seen += [item["title"] for item in page["items"]]
        url = (
            f"/api/v2/orgs/acme/tasks?limit=2&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else ""
        )
    assert seen == [t.title for t in reversed(created)]


def test_a_garbled_cursor_is_a_422(alice: Actor) -> None:
    response = alice.client.get("/api/v2/orgs/acme/tasks?cursor=%%%")
    problem = _assert_problem(response, 422, "/problems/validation-failed")
    assert problem["errors"][0]["field"] == "cursor"


def test_v1_and_v2_see_the_same_task(alice: Actor, owner_key: CreatedKey) -> None:
    created = _post(Client(), "/api/v1/tasks", VALID, **_bearer(owner_key))
    assert created.status_code == 201
    task_id = created.json()["id"]
    v2 = alice.client.get(f"/api/v2/orgs/acme/tasks/{task_id}").json()
    v1 = Client().get(f"/api/v1/tasks/{task_id}", headers=_bearer(owner_key)).json()
    assert v1["title"] == v2["title"] == "Dark mode"
    assert v1["score"] is None
    assert v2["score"] is None
    listed = Client().get("/api/v1/tasks?limit=10&offset=0", headers=_bearer(owner_key)).json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, task_id)


def test_me_lists_the_users_orgs(alice: Actor) -> None:
    body = alice.client.get("/api/v2/me").json()
    assert body["email"] == alice.email
    assert body["email_verified"] is True
    assert body["mfa_enabled"] is False
    assert body["orgs"] == [
        {
            "slug": "acme",
            "name": "Acme",
            "role": "owner",
            "permissions": sorted(OWNER),
            "mfa_required": False,
        }
    ]


def test_session_posts_need_the_csrf_token(alice: Actor) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(
        Task.objects.model._meta.apps.get_model("accounts", "User").objects.get(email=alice.email)
    )
    response = _post(strict, "/api/v2/orgs/acme/tasks", VALID)
    assert response.status_code == 403
    assert response["content-type"] == "application/problem+json"
    assert Task.objects.count() == 0


def test_unknown_paths_and_methods_are_problem_json(alice: Actor) -> None:
    missing = alice.client.get("/api/v2/nothing-here")
    assert missing.status_code == 404
    assert missing["content-type"] == "application/problem+json"
    wrong_method = alice.client.put("/api/v2/orgs/acme/tasks")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["type"] == "/problems/method-not-allowed"


def test_v1_responses_announce_the_deprecation(owner_key: CreatedKey) -> None:
    response = Client().get("/api/v1/tasks", headers=_bearer(owner_key))
    assert response.status_code == 200
    assert response["Deprecation"].startswith("@")
    assert response["Sunset"].endswith("GMT")
    assert 'rel="successor-version"' in response["Link"]


def test_the_interactive_docs_work_offline() -> None:
    client = Client()
    for version in ("v1", "v2"):
        page = client.get(f"/api/{version}/docs")
        assert page.status_code == 200
        html = page.content.decode()
        assert "cdn" not in html.lower()
        assert "/static/ninja/swagger-ui-bundle.js" in html
        assert client.get(f"/api/{version}/openapi.json").status_code == 200


def test_a_batch_is_submitted_whole(bob: Actor) -> None:
    body = {"tasks": [{"title": f"t{i}", "attributes": {"reach": i}} for i in range(3)]}
    response = _post(bob.client, "/api/v2/orgs/acme/tasks/batch", body)
    assert response.status_code == 201
    assert [t["title"] for t in response.json()["items"]] == ["t0", "t1", "t2"]
    assert Task.objects.count() == 3


def test_one_invalid_task_refuses_the_whole_batch(bob: Actor) -> None:
    body = {
        "tasks": [{"title": "fine"}, {"title": " "}, {"title": "ok", "attributes": {"x": "no"}}]
    }
    response = _post(bob.client, "/api/v2/orgs/acme/tasks/batch", body)
    problem = _assert_problem(response, 422, "/problems/validation-failed")
    assert [e["field"] for e in problem["errors"]] == ["tasks.1.title", "tasks.2.attributes.x"]
    body = {"tasks": [{"title": "fine"}, {"title": " "}]}
    problem = _assert_problem(
        _post(bob.client, "/api/v2/orgs/acme/tasks/batch", body), 422, "/problems/validation-failed"
    )
    assert [e["field"] for e in problem["errors"]] == ["tasks.1.title"]
    too_many = {"tasks": [{"title": "x"}] * 101}
    _assert_problem(
        _post(bob.client, "/api/v2/orgs/acme/tasks/batch", too_many),
        422,
        "/problems/validation-failed",
    )
    assert Task.objects.count() == 0
