"""The plan × feature matrix's data (test_plan_features), in the style of authz_cases:

- `PLAN_FEATURES`: which paid features each plan includes — the decision of
  docs/decisions/0011-plan-features.md, written here independently of the code;
- `USES`: every way to use a paid feature through the API (the v2 operations that declare one,
  and requests made with an API key in both versions);
- `STATES`: an org's billing states, each with the plan that must be in force;
- `build_org(state)`: acme with an owner, a custom role, an API key, in that state (reached
  through signed Stripe webhooks, or an operator's grant);
- `expected(use, state)`: success, or the 402 the rules promise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpResponse
from django.test import Client

from conftest import Actor
from taskscore.billing.features import Feature
from taskscore.billing.services import billing_plan_grant
from taskscore.orgs.models import Organization
from taskscore.orgs.services import api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.services import role_builtin, role_create
from taskscore.testing.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.authz_cases import SETUP_CALLER, VALID_TASK, call
from tests.billing_helpers import DAY, subscribe

PLANS = ["free", "pro", "business"]  # cheapest first; each includes the features of those before
PLAN_FEATURES: dict[str, frozenset[Feature]] = {
    "free": frozenset(),
    "pro": frozenset({Feature.API_KEYS}),
    "business": frozenset({Feature.API_KEYS, Feature.CUSTOM_ROLES, Feature.AUDIT_LOG}),
}
REQUIRED_PLAN = {
    feature: next(plan for plan in PLANS if feature in PLAN_FEATURES[plan]) for feature in Feature
}


# ---------------------------------------------------------------------------------- states


@dataclass(frozen=True)
class State:
    name: str
    plan: str  # the subscription's (or the grant's) plan
    status: str  # a Stripe status, "none" (never subscribed) or "granted" (an operator's grant)
    in_force: str  # the plan whose features the org must have
    overdue_days: int = 0  # past_due: days since the failed renewal (the grace is 7)

    def __str__(self) -> str:
        return self.name


STATES = [
    State("free", "free", "none", "free"),
    State("pro-active", "pro", "active", "pro"),
    State("pro-trialing", "pro", "trialing", "pro"),
    State("pro-past_due-in-grace", "pro", "past_due", "pro", overdue_days=2),
    State("pro-past_due-after-grace", "pro", "past_due", "pro", overdue_days=10),
    State("pro-unpaid", "pro", "unpaid", "free"),
    State("pro-canceled", "pro", "canceled", "free"),
    State("pro-incomplete", "pro", "incomplete", "free"),
    State("business-active", "business", "active", "business"),
    State("business-trialing", "business", "trialing", "business"),
    State("business-past_due-in-grace", "business", "past_due", "business", overdue_days=2),
    State("business-canceled", "business", "canceled", "free"),
    State("pro-granted", "pro", "granted", "pro"),
    State("business-granted", "business", "granted", "business"),
]


# ---------------------------------------------------------------------------------- the org


@dataclass
class PlanWorld:
    org: Organization
    owner: Actor
    token: str  # an owner-role API key of the org
    spare_key_id: int  # a key nobody uses
    member_id: int  # bob, a viewer

    def url(self, path: str) -> str:
        """A router's path with this org's objects in it (`analyst` is its custom role)."""
        return path.format(
            org=self.org.slug, key="analyst", key_id=self.spare_key_id, member_id=self.member_id
        )


def build_org(state: State) -> PlanWorld:
    org = OrganizationFactory.create(name="Acme", slug="acme")
    user = UserFactory.create(email="alice@acme.test")
    MembershipFactory.create(user=user, org=org, role=role_builtin("owner"))
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    role_create(
        org_id=org.pk, key="analyst", name="Analyst", permissions=["task.read"],
        caller=SETUP_CALLER,
    )  # fmt: skip
    token = api_key_create(org=org, name="ci", role_key="owner", caller=OPERATOR).token
    spare = api_key_create(org=org, name="spare", role_key="viewer", caller=OPERATOR).api_key
    bob = MembershipFactory.create(
        user=UserFactory.create(email="bob@acme.test"), org=org, role=role_builtin("viewer")
    )
    state_apply(org, state)
    return PlanWorld(
        org=org,
        owner=Actor("alice@acme.test", org, "owner", client),
        token=token,
        spare_key_id=spare.pk,
        member_id=bob.pk,
    )


def state_apply(org: Organization, state: State) -> None:
    """Put the org in `state` as it happens in production: Stripe's signed events, or the
    operator's grant."""
    if state.status == "none":
        return
    if state.status == "granted":
        billing_plan_grant(org_id=org.pk, plan_code=state.plan, caller=OPERATOR)
        return
    now = int(time.time())
    start = now - (state.overdue_days or 1) * DAY
    trial_end = now + 10 * DAY if state.status == "trialing" else None
    if state.status == "canceled":  # it was active, then Stripe deleted it
        subscription = subscribe(org, plan=state.plan, status="active", period_start=start)
        subscribe(
            org, plan=state.plan, status="canceled", subscription_id=subscription,
            period_start=start, deleted=True,
        )  # fmt: skip
    else:
        subscribe(
            org, plan=state.plan, status=state.status, period_start=start, trial_end=trial_end
        )


# ---------------------------------------------------------------------------------- uses


@dataclass(frozen=True)
class Use:
    feature: Feature
    name: str
    api: Literal["v1", "v2"]
    method: str
    path: str  # as the router declares it (the org is acme)
    success: int
    body: Any = None
    with_key: bool = False  # sent with the org's API key rather than the owner's session
    declares: bool = True  # the operation itself declares the feature (not only the key)
    submits: bool = False  # submits a task (refused past the grace of an overdue payment)

    def __str__(self) -> str:
        return f"{self.feature}: {self.name}"

    def send(self, world: PlanWorld) -> HttpResponse:
        url = f"/api/{self.api}{world.url(self.path)}"
        if self.with_key:
            return call(Client(), self.method, url, self.body, token=world.token)
        return call(world.owner.client, self.method, url, self.body)


USES = [
    Use(Feature.API_KEYS, "create a key", "v2", "POST", "/orgs/{org}/api-keys", 201,
        body={"name": "deploy", "role": "member"}),
    Use(Feature.API_KEYS, "read tasks with a key (v2)", "v2", "GET", "/orgs/{org}/tasks", 200,
        with_key=True, declares=False),
    Use(Feature.API_KEYS, "submit a task with a key (v2)", "v2", "POST", "/orgs/{org}/tasks",
        201, body=VALID_TASK, with_key=True, declares=False, submits=True),
    Use(Feature.API_KEYS, "read tasks with a key (v1)", "v1", "GET", "/tasks", 200,
        with_key=True, declares=False),
    Use(Feature.CUSTOM_ROLES, "create a custom role", "v2", "POST", "/orgs/{org}/roles", 201,
        body={"key": "triage", "name": "Triage", "permissions": ["task.read"]}),
    Use(Feature.CUSTOM_ROLES, "edit a custom role", "v2", "PATCH", "/orgs/{org}/roles/{key}",
        200, body={"name": "Analysts"}),
    Use(Feature.AUDIT_LOG, "read the audit log", "v2", "GET", "/orgs/{org}/audit-events", 200),
]  # fmt: skip


DECLARED = {  # the operations that declare a feature, as their routers spell the path
    ("v2", "POST", "/orgs/{org}/api-keys"): Feature.API_KEYS,
    ("v2", "POST", "/orgs/{org}/roles"): Feature.CUSTOM_ROLES,
    ("v2", "PATCH", "/orgs/{org}/roles/{key}"): Feature.CUSTOM_ROLES,
    ("v2", "GET", "/orgs/{org}/audit-events"): Feature.AUDIT_LOG,
}


GRACE_DAYS = 7  # BILLING_GRACE_DAYS


def expected(use: Use, state: State) -> tuple[int, str | None]:
    """The status and, for a refusal, its problem type: a feature the plan in force lacks is
    402 `plan-feature-required`; past the grace of an overdue payment the features stay and only
    a submission is refused (402 `payment-overdue`)."""
    if use.feature not in PLAN_FEATURES[state.in_force]:
        return 402, "plan-feature-required"
    if use.submits and state.overdue_days > GRACE_DAYS:
        return 402, "payment-overdue"
    return use.success, None


# What stays available on every plan, even after a downgrade (a Free org's owner session).
FREE_USES = [
    ("list the API keys", "GET", "/orgs/{org}/api-keys", None, 200),
    ("revoke an API key", "DELETE", "/orgs/{org}/api-keys/{key_id}", None, 204),
    ("list the roles", "GET", "/orgs/{org}/roles", None, 200),
    ("give a member an existing custom role", "PATCH", "/orgs/{org}/members/{member_id}",
     {"role": "analyst"}, 200),
    ("delete a custom role", "DELETE", "/orgs/{org}/roles/analyst", None, 204),
    ("create a scoring model", "POST", "/orgs/{org}/scoring/models",
     {"name": "Growth", "template": "rice"}, 201),
]  # fmt: skip
