"""Plans × features as a matrix: every use of a paid feature × every billing state of the org.

The plan in force (a live subscription's — active, trialing or past_due —, an operator's grant,
else Free) decides: a use of a feature it includes succeeds; any other is a 402
`plan-feature-required` naming the feature, the plan in force and the cheapest plan that
includes it, and changes nothing. Past the grace of an overdue payment the features stay and
only submissions stop (`payment-overdue`). Then what a downgrade keeps: keys, custom roles and
the audit log stay, and work again on the next upgrade."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client, override_settings

from taskscore.api.v1 import api as api_v1
from taskscore.api.v2 import api as api_v2
from taskscore.audit.models import AuditEvent
from taskscore.billing.features import Feature
from taskscore.billing.selectors import plan_features, plans_list
from taskscore.billing.services import plans_seed
from taskscore.orgs.models import ApiKey, Membership
from taskscore.rbac.models import Role
from tests.authz_cases import call, db_snapshot
from tests.billing_helpers import WEBHOOK_SECRET, subscribe
from tests.plan_feature_cases import (
    DECLARED,
    FREE_USES,
    PLAN_FEATURES,
    PLANS,
    REQUIRED_PLAN,
    STATES,
    USES,
    State,
    Use,
    build_org,
    expected,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _webhooks() -> Iterator[None]:
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        yield


def _operations() -> Iterator[tuple[str, str, str, Callable[..., Any]]]:
    for name, api in (("v1", api_v1), ("v2", api_v2)):
        for prefix, router in api._routers:
            for path, path_operation in router.path_operations.items():
                for operation in path_operation.operations:
                    for method in operation.methods:
                        yield name, method, f"{prefix}{path}", operation.view_func


# ---------------------------------------------------------------------------------- the table


def test_the_plans_include_the_features_the_decision_gives_them() -> None:
    plans = plans_list()
    # the plans, cheapest first, with the features of the decision (docs/decisions/0011)
    assert [p.code for p in plans] == PLANS
    assert {p.code: plan_features(p) for p in plans} == PLAN_FEATURES
    # each plan includes every feature of the plans below it, and some plan includes each
    included = [plan_features(p) for p in plans]
    assert all(lower <= higher for lower, higher in itertools.pairwise(included))
    assert included[-1] == set(Feature)
    # and the words a person reads name them on the plan that first includes them
    assert "API keys" in plans[1].features
    assert {"Custom roles", "Audit log"} <= set(plans[2].features)
    assert "Custom scoring models" in plans[0].features


def test_every_operation_that_declares_a_feature_is_in_the_matrix() -> None:
    declared = {
        (api, method, path): getattr(view, "required_feature", None)
        for api, method, path, view in _operations()
    }
    assert {op: feature for op, feature in declared.items() if feature is not None} == DECLARED
    assert {(u.api, u.method, u.path): u.feature for u in USES if u.declares} == DECLARED
    # and every feature has a use in the matrix
    assert {u.feature for u in USES} == set(Feature)


# ---------------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("state", STATES, ids=str)
@pytest.mark.parametrize("use", USES, ids=str)
def test_a_paid_feature_works_exactly_on_the_plans_that_include_it(use: Use, state: State) -> None:
    # given acme in the state, and the use's request
    world = build_org(state)
    before = db_snapshot()
    # when it is sent
    response = use.send(world)
    # then it succeeds, or is refused with what would unlock it, and nothing changed
    status, problem = expected(use, state)
    if problem is None:
        assert response.status_code == status, response.content
        return
    assert (response.status_code, response["content-type"]) == (402, "application/problem+json")
    body = json.loads(response.content)
    assert (body["status"], body["type"]) == (402, f"/problems/{problem}")
    if problem == "plan-feature-required":
        assert (body["feature"], body["plan"], body["required_plan"]) == (
            use.feature, state.in_force, REQUIRED_PLAN[use.feature]
        )  # fmt: skip
    assert db_snapshot() == before


@pytest.mark.parametrize(("name", "method", "path", "body", "success"), FREE_USES, ids=str)
def test_what_is_not_a_paid_feature_stays_on_free(
    name: str, method: str, path: str, body: Any, success: int
) -> None:
    world = build_org(STATES[0])
    response = call(world.owner.client, method, f"/api/v2{world.url(path)}", body)
    assert response.status_code == success, response.content


# ---------------------------------------------------------------------------------- downgrade


@pytest.mark.django_db(transaction=True)
def test_a_downgrade_keeps_keys_roles_and_the_log_and_an_upgrade_brings_their_uses_back() -> None:
    """Committed, as in production: the process that applies Stripe's event forgets its copy of
    the org's plan, so the very next request sees the change."""
    plans_seed()
    world = build_org(STATES[0])
    subscription = subscribe(world.org, plan="business", status="active")
    owner = world.owner.client
    acme = "/api/v2/orgs/acme"
    analyst_holder = f"{acme}/members/{world.member_id}"
    # given, on Business, the key works and bob holds the custom role
    assert call(Client(), "GET", f"{acme}/tasks", token=world.token).status_code == 200
    assert call(owner, "PATCH", analyst_holder, {"role": "analyst"}).status_code == 200
    assert call(owner, "GET", f"{acme}/audit-events").status_code == 200

    # when the subscription ends (Stripe deletes it): the org is on Free
    subscribe(
        world.org, plan="business", status="canceled", subscription_id=subscription, deleted=True
    )

    # then the key is kept but refused, in both versions, on the very next request
    for url in (f"{acme}/tasks", "/api/v1/tasks"):
        refused = call(Client(), "GET", url, token=world.token)
        assert (refused.status_code, json.loads(refused.content)["required_plan"]) == (402, "pro")
    assert ApiKey.objects.filter(org=world.org, revoked_at__isnull=True).count() == 2
    # and the custom role stays, still held, but cannot be edited (deleting one is allowed)
    edit = call(owner, "PATCH", f"{acme}/roles/analyst", {"name": "Analysts"})
    assert (edit.status_code, json.loads(edit.content)["feature"]) == (402, "custom_roles")
    assert Role.objects.get(org=world.org, key="analyst").name == "Analyst"
    assert Membership.objects.get(pk=world.member_id).role.key == "analyst"
    # and changes are still recorded in the audit log, which cannot be read
    recorded = AuditEvent.objects.filter(org=world.org).count()
    assert call(owner, "PATCH", analyst_holder, {"role": "viewer"}).status_code == 200
    assert AuditEvent.objects.filter(org=world.org).count() == recorded + 1
    log = call(owner, "GET", f"{acme}/audit-events")
    assert (log.status_code, json.loads(log.content)["required_plan"]) == (402, "business")

    # when the org subscribes again
    subscribe(world.org, plan="business", status="active")
    # then the same key works, and the log shows what happened while it was not readable
    assert call(Client(), "GET", "/api/v1/tasks", token=world.token).status_code == 200
    items = json.loads(call(owner, "GET", f"{acme}/audit-events").content)["items"]
    assert [e["action"] for e in items[:3]] == [
        "billing.subscription_changed",  # canceled -> active
        "member.role_changed",  # recorded while on Free
        "billing.subscription_changed",  # active -> canceled
    ]
