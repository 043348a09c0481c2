"""Query budgets: every v2 operation runs an exact number of SQL queries, so an N+1 (a query per
listed row) or a stray lookup fails the build.

The world is the authorization matrix's (`tests.authz_cases`), with several rows of everything a
list shows (tasks with scores and overrides, members, keys, invitations, roles, scoring models,
exports, audit events), so a query per row would show. Each operation is sent the matrix's valid
request as a browser session (alice, the owner) and as an API key (the owner key); public ones
anonymously, account ones as a session only. The count is the steady state: a session is read from
its cached copy (`accounts.sessions`), the caller's permission entry is warm in the cache (a miss
costs one query per RBAC_ENTRY_TTL_SECONDS, see `taskscore.rbac.cache`) and its key's last use was
just recorded (written at most once a minute). A budget that changes is a decision: lower it when a
query goes, raise it only with a reason."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from taskscore.api.common.auth import AUTHENTICATED, PUBLIC
from taskscore.billing.selectors import plan_in_force_cached, plans_in_force_forget
from taskscore.datarights.services import org_export_create, org_export_execute
from taskscore.orgs.services import invitation_create, keys
from taskscore.scoring.services import scoring_model_create
from taskscore.tasks.services import score_override, task_score_run
from taskscore.testing.factories import TaskFactory
from tests.authz_cases import (
    CASES,
    PRINCIPAL,
    SETUP_CALLER,
    Case,
    Principal,
    World,
    build_world,
    prepare,
    world_delete,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OPENAPI = Path(__file__).resolve().parents[1] / "openapi" / "v2.json"
ROWS = 4  # of each thing a list shows, beyond the matrix's own

# (method, path as the router declares it) -> exact queries as (session, API key); None where
# that kind of caller cannot succeed (a public operation, an account one, a session-only one).
BUDGETS: dict[tuple[str, str], tuple[int | None, int | None]] = {
    ("GET", "/auth/csrf"): (0, None),
    ("GET", "/me"): (4, None),
    ("POST", "/orgs"): (24, None),
    ("POST", "/invitations/accept"): (12, None),
    ("POST", "/invitations/decline"): (8, None),
    ("GET", "/invitations/{token}"): (1, None),
    ("GET", "/me/invitations"): (4, None),
    ("POST", "/me/invitations/{invitation_id}/accept"): (14, None),
    ("POST", "/me/invitations/{invitation_id}/decline"): (10, None),
    ("POST", "/orgs/{org}/tasks"): (7, 6),
    # A miss of the rendered-body cache (off here): the page's keys (the ETag), then the page.
    ("GET", "/orgs/{org}/tasks"): (5, 4),
    ("POST", "/orgs/{org}/tasks/batch"): (15, 14),
    ("POST", "/orgs/{org}/tasks/rescore"): (10, 9),
    ("GET", "/orgs/{org}/tasks/{task_id}"): (5, 4),
    ("POST", "/orgs/{org}/tasks/{task_id}/rescore"): (13, 12),
    ("GET", "/orgs/{org}/tasks/{task_id}/scores"): (5, 4),
    ("GET", "/orgs/{org}/scoring/templates"): (1, 0),
    ("GET", "/orgs/{org}/scoring/models"): (3, 2),
    ("POST", "/orgs/{org}/scoring/models"): (12, 11),
    ("GET", "/orgs/{org}/scoring/models/{model_id}"): (3, 2),
    ("POST", "/orgs/{org}/scoring/models/{model_id}/versions"): (7, 6),
    ("GET", "/orgs/{org}/scoring/models/{model_id}/versions/{number}"): (2, 1),
    ("POST", "/orgs/{org}/scoring/models/{model_id}/versions/{number}/publish"): (4, 3),
    ("POST", "/orgs/{org}/scoring/models/{model_id}/versions/{number}/activate"): (7, 6),
    ("GET", "/orgs/{org}/scoring/active"): (2, 1),
    ("POST", "/orgs/{org}/scoring/preview"): (5, 4),
    ("GET", "/orgs/{org}/scoring/compare"): (3, 2),
    ("POST", "/orgs/{org}/scoring/previews"): (9, 8),
    ("GET", "/orgs/{org}/scoring/previews/{run_id}"): (2, 1),
    ("GET", "/orgs/{org}/members"): (2, 1),
    ("PATCH", "/orgs/{org}/members/{member_id}"): (10, 9),
    ("DELETE", "/orgs/{org}/members/{member_id}"): (7, 6),
    ("GET", "/orgs/{org}/invitations"): (2, 1),
    ("POST", "/orgs/{org}/invitations"): (11, 10),
    ("DELETE", "/orgs/{org}/invitations/{invitation_id}"): (6, 5),
    ("GET", "/orgs/{org}/permissions"): (1, 0),
    ("GET", "/orgs/{org}/roles"): (2, 1),
    ("POST", "/orgs/{org}/roles"): (7, 6),
    ("PATCH", "/orgs/{org}/roles/{key}"): (9, 8),
    ("DELETE", "/orgs/{org}/roles/{key}"): (15, 14),
    ("GET", "/orgs/{org}/api-keys"): (2, 1),
    ("POST", "/orgs/{org}/api-keys"): (8, 6),
    ("DELETE", "/orgs/{org}/api-keys/{key_id}"): (6, 5),
    ("GET", "/orgs/{org}/audit-events"): (2, 1),
    ("GET", "/orgs/{org}/billing"): (9, 8),
    ("POST", "/orgs/{org}/billing/checkout"): (14, 13),
    ("POST", "/orgs/{org}/billing/portal"): (9, 8),
    ("GET", "/orgs/{org}/tasks/rescore/estimate"): (6, 5),
    ("GET", "/orgs/{org}/tasks/{task_id}/scores/{score_id}"): (9, 8),
    ("GET", "/orgs/{org}/tasks/{task_id}/overrides"): (5, 4),
    ("POST", "/orgs/{org}/tasks/{task_id}/overrides"): (16, 15),
    ("DELETE", "/orgs/{org}/tasks/{task_id}/overrides/{override_id}"): (13, 12),
    ("GET", "/orgs/{org}/scoring/models/{model_id}/versions/{number}/calibration"): (2, 1),
    ("POST", "/orgs/{org}/scoring/labels"): (7, 6),
    ("POST", "/orgs/{org}/scoring/previews/estimate"): (5, 4),
    ("GET", "/orgs/{org}/ai"): (5, 4),
    ("PATCH", "/orgs/{org}/ai/rules"): (6, 5),
    ("GET", "/orgs/{org}/security"): (2, 1),
    ("PATCH", "/orgs/{org}/security"): (4, None),
    ("GET", "/orgs/{org}/exports"): (2, 1),
    ("POST", "/orgs/{org}/exports"): (9, 8),
    ("GET", "/orgs/{org}/exports/{export_id}"): (2, 1),
    ("GET", "/orgs/{org}/exports/{export_id}/download"): (3, 2),
    ("POST", "/orgs/{org}/deletion"): (10, None),
}


def _v2_operations() -> set[tuple[str, str]]:
    """(method, path) of every operation in the committed v2 OpenAPI file."""
    paths = json.loads(OPENAPI.read_text())["paths"]
    return {
        (method.upper(), path.removeprefix("/api/v2"))
        for path, operations in paths.items()
        for method in operations
    }


V2_CASES = [case for case in CASES if case.api == "v2"]


def _callers(case: Case) -> list[tuple[int, Principal]]:
    """(index in the budget pair, principal) of each caller that succeeds on `case`."""
    if case.permission == PUBLIC:
        return [(0, PRINCIPAL["anonymous"])]
    if case.permission == AUTHENTICATED or case.session_only:
        return [(0, PRINCIPAL["alice"])]
    return [(0, PRINCIPAL["alice"]), (1, PRINCIPAL["owner_key"])]


def _enrich(world: World) -> None:
    """Several rows of everything a list shows."""
    for i in range(ROWS):
        task = TaskFactory.create(org=world.org, title=f"Listed {i}")
        task_score_run(task_id=task.pk)
        score_override(
            org_id=world.org.pk, task_id=task.pk, actor=SETUP_CALLER.actor, criterion=None,
            value=40 + i, reason="Several overrides for the budgets.",
        )  # fmt: skip
        invitation_create(
            org=world.org, email=f"guest{i}@example.test", role_key="viewer", caller=SETUP_CALLER
        )
        scoring_model_create(org_id=world.org.pk, name=f"Model {i}", template="rice")
    task_score_run(task_id=world.scored_task_id)  # a second score of the scored task
    for _ in range(2):
        export = org_export_create(org_id=world.org.pk, caller=SETUP_CALLER)
        assert org_export_execute(export_id=export.pk)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock():
        world = build_world()
        _enrich(world)
    yield world
    with django_db_blocker.unblock():
        world_delete(world)


@contextmanager
def _isolated() -> Iterator[None]:
    """One caller's request, undone afterwards (in a savepoint rolled back), with a permission
    cache of its own: a change rolled back before leaves no in-flight mark here that would send
    its checks to Postgres."""
    with (
        override_settings(RBAC_CACHE_PREFIX=f"rbac-budget-{uuid.uuid4().hex}"),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)


def _warm(world: World, principal: Principal) -> None:
    """Fill the caller's permission entry and record its key's use, as a steady caller has."""
    if principal.kind == "anonymous":
        return
    # The org's plan in force as a steady caller's process holds it, read now: a case that
    # changed the plan and was rolled back leaves its copy in this process (the forgetting runs
    # on commit), and a feature check would then confirm a refusal from Postgres (two queries).
    plans_in_force_forget()
    plan_in_force_cached(org_id=world.org.pk)
    keys._touched.clear()  # the once-a-minute write happens now, not during the measured request
    warm = next(c for c in V2_CASES if (c.method, c.path) == ("GET", "/orgs/{org}/tasks/{task_id}"))
    if principal.kind == "session":
        warm = next(c for c in V2_CASES if (c.method, c.path) == ("GET", "/me"))
        prepare(world, principal, warm).send()
        warm = next(
            c for c in V2_CASES if (c.method, c.path) == ("GET", "/orgs/{org}/tasks/{task_id}")
        )
    assert prepare(world, principal, warm).send().status_code == 200


def test_every_v2_operation_has_a_budget_and_a_case() -> None:
    # given every operation of the committed v2 schema
    operations = _v2_operations()
    # then each has a budget and a request to measure it with
    assert operations - set(BUDGETS) == set(), "give each new operation a query budget"
    assert set(BUDGETS) - operations == set()
    assert {(c.method, c.path) for c in V2_CASES} == operations


@pytest.mark.parametrize("case", V2_CASES, ids=str)
def test_query_budget(world: World, case: Case, settings: Any) -> None:
    # Rendered bodies kept in Redis outlive each case's rolled-back transaction: off, so every
    # case measures the work of building its answer (tests/test_conditional_get.py the hits).
    settings.REPRESENTATION_CACHE_SECONDS = 0
    budget = BUDGETS.get((case.method, case.path), (None, None))
    failures: list[str] = []
    for index, principal in _callers(case):
        with _isolated():
            # given a steady caller of the operation and its valid request
            request = prepare(world, principal, case)
            _warm(world, principal)
            # when it is sent
            with CaptureQueriesContext(connection) as queries:
                response = request.send()
        # then it succeeds with exactly its budget of queries
        assert response.status_code == case.success, response.content
        if budget[index] != len(queries):
            listing = "\n".join(f"  {q['sql'][:300]}" for q in queries.captured_queries)
            failures.append(
                f"as {principal}: {len(queries)} queries, budget {budget[index]}:\n{listing}"
            )
    assert failures == [], f"{case}\n" + "\n".join(failures)
