"""Authorization as a matrix: every operation of both APIs × every kind of principal.

anonymous → 401; another org's principal → 404; a principal lacking the operation's permission
→ 403 naming it; one holding it → the operation's success status (every case in the table is
built to succeed: 200/201/202/204, never a domain 409/422). On every denial nothing changed: not
a row of any project model, no callback queued for the commit, no mail; and no GET, allowed or
not, writes anything."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from taskscore.api.common.auth import AUTHENTICATED, PUBLIC
from taskscore.api.v1 import api as api_v1
from taskscore.api.v2 import api as api_v2
from taskscore.rbac.catalog import PERMISSIONS
from taskscore.tasks.models import Task
from taskscore.testing.fake_stripe import FakeStripeServer
from tests.authz_cases import (
    CASES,
    PRINCIPAL,
    PRINCIPALS,
    Case,
    Principal,
    World,
    assert_problem,
    build_world,
    call,
    db_snapshot,
    expected_status,
    prepare,
    world_delete,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def fake_stripe() -> Iterator[FakeStripeServer]:
    """The billing operations that succeed call Stripe: a fake on loopback answers them."""
    with FakeStripeServer() as server, override_settings(STRIPE_API_BASE=server.url):
        yield server


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built and committed once for the module. Each test runs in a transaction that is rolled
    back after it, so every test starts from this same world whatever the one before changed.
    (The permission cache cannot carry a rolled-back change over: a change marks its
    principals in flight, and they are read from Postgres until the mark expires.)"""
    with django_db_blocker.unblock():
        world = build_world()
    yield world
    with django_db_blocker.unblock():
        world_delete(world)


def _operations() -> Iterator[tuple[str, str, str, Callable[..., Any]]]:
    """(api, method, path, view) for every operation both NinjaAPIs serve."""
    for name, api in (("v1", api_v1), ("v2", api_v2)):
        for prefix, router in api._routers:
            for path, path_operation in router.path_operations.items():
                for operation in path_operation.operations:
                    for method in operation.methods:
                        yield name, method, f"{prefix}{path}", operation.view_func


def test_every_operation_declares_a_permission_and_has_a_matrix_case() -> None:
    # given every operation of both APIs
    operations = list(_operations())
    declared = {
        (api, method, path): getattr(view, "required_permission", None)
        for api, method, path, view in operations
    }
    # then each declares a catalog permission, "authenticated" or "public"
    undeclared = {
        op: permission
        for op, permission in declared.items()
        if permission not in {*PERMISSIONS, AUTHENTICATED, PUBLIC}
    }
    assert undeclared == {}
    assert len(declared) == len(operations)  # no (method, path) served twice
    # and the case table covers exactly these operations, with the permission each declares
    table = {(c.api, c.method, c.path): c.permission for c in CASES}
    assert len(table) == len(CASES)
    assert table == declared


def test_the_snapshot_covers_every_project_model(world: World) -> None:
    # (a superset: a model added later is snapshot too)
    assert set(db_snapshot()) >= {
        "accounts.User",
        "audit.AuditEvent",
        "orgs.ApiKey",
        "orgs.Invitation",
        "orgs.Membership",
        "orgs.Organization",
        "rbac.Role",
        "scoring.ScoringModel",
        "scoring.ScoringVersion",
        "scoring.TaskScore",
        "tasks.Task",
    }


@pytest.mark.parametrize("principal", PRINCIPALS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_authorization(
    world: World,
    case: Case,
    principal: Principal,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given the principal's request for the operation, valid in every other respect
    request = prepare(world, principal, case)
    before = db_snapshot()
    # when it is sent
    with django_capture_on_commit_callbacks() as callbacks:
        response = request.send()
    # then the status is the one the rules promise
    expected = expected_status(case, principal)
    if expected in (401, 403, 404):
        problem = assert_problem(response, expected)
        if expected == 403:
            assert problem["permission"] == case.permission
        # and a denial changed nothing
        assert db_snapshot() == before
        assert callbacks == []
        assert mail.outbox == []
    else:
        assert response.status_code == expected, response.content
        if case.method == "GET":
            # and a read wrote nothing (the org's default scoring version exists from its
            # creation; a GET never creates it), but its audit event if it is audited
            after = db_snapshot()
            if case.read_audited:
                assert len(after["audit.AuditEvent"]) == len(before["audit.AuditEvent"]) + 1
                after["audit.AuditEvent"] = before["audit.AuditEvent"]
            assert after == before
            assert callbacks == []


# ---------------------------------------------------------------------------------- v1 scoping


def test_v1_another_orgs_key_lists_only_its_own_org(world: World) -> None:
    # given mallory's key (globex) and a task in each org
    token = world.tokens["mallory_key"]
    # when she lists v1 tasks
    response = call(Client(), "GET", "/api/v1/tasks", token=token)
    # then she sees globex's task only
    assert response.status_code == 200
    body = json.loads(response.content)
    assert ([item["id"] for item in body["items"]], body["count"]) == ([world.other_task_id], 1)


def test_v1_another_orgs_key_creates_in_its_own_org(world: World) -> None:
    # when mallory's key submits a task through v1
    response = call(Client(), "POST", "/api/v1/tasks", CASES[1].body(world, PRINCIPAL["mallory"]),
                    token=world.tokens["mallory_key"])  # fmt: skip
    # then it lands in globex, not acme
    assert response.status_code == 201
    task = Task.objects.get(pk=json.loads(response.content)["id"])
    assert task.org_id == world.other_org.pk


def test_v1_another_orgs_key_cannot_read_an_acme_task_by_id(world: World) -> None:
    response = call(
        Client(), "GET", f"/api/v1/tasks/{world.task_id}", token=world.tokens["mallory_key"]
    )
    assert_problem(response, 404)
