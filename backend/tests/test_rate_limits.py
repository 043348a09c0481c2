"""Rate limits per caller and per org: 429 with Retry-After and RateLimit-* headers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from conftest import Actor
from taskscore.billing.models import OrgBilling, Plan
from taskscore.billing.selectors import plans_in_force_forget
from taskscore.billing.services import billing_account_get_or_create
from taskscore.orgs.models import Organization
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.rbac.callers import OPERATOR

pytestmark = pytest.mark.django_db


def _get(key: CreatedKey) -> Any:
    return Client().get("/api/v1/tasks", headers={"authorization": f"Bearer {key.token}"})


@override_settings(RATE_LIMIT_PER_CALLER_PER_MINUTE=3, RATE_LIMIT_PER_ORG_PER_MINUTE=100)
def test_a_key_over_its_limit_gets_429_with_retry_after(owner_key: CreatedKey) -> None:
    responses = [_get(owner_key) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]
    limited = responses[3]
    assert limited["content-type"] == "application/problem+json"
    assert int(limited["Retry-After"]) >= 1
    assert limited.json()["type"] == "/problems/rate-limited"


@override_settings(RATE_LIMIT_PER_CALLER_PER_MINUTE=100, RATE_LIMIT_PER_ORG_PER_MINUTE=4)
def test_the_org_limit_is_shared_by_its_keys_and_members(
    owner_key: CreatedKey, alice: Actor, mallory: Actor
) -> None:
    second = api_key_create(
        org=owner_key.api_key.org, name="second", role_key="member", caller=OPERATOR
    )
    statuses = [_get(owner_key).status_code for _ in range(2)]
    statuses += [_get(second).status_code for _ in range(2)]
    statuses.append(alice.client.get("/api/v2/orgs/acme/tasks").status_code)
    assert statuses == [200, 200, 200, 200, 429]
    # another org is not affected
    assert mallory.client.get("/api/v2/orgs/globex/tasks").status_code == 200


@override_settings(RATE_LIMITS_ENABLED=False)
def test_limits_can_be_turned_off(owner_key: CreatedKey) -> None:
    response = _get(owner_key)
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response


@override_settings(RATE_LIMIT_PER_CALLER_PER_MINUTE=0, RATE_LIMIT_PER_ORG_PER_MINUTE=0)
def test_without_an_override_the_plan_sets_the_limits(owner_key: CreatedKey) -> None:
    # given the key's org on Pro (API keys need it)
    plans_in_force_forget()
    pro = Plan.objects.get(code="pro")
    assert _get(owner_key)["RateLimit-Limit"] == str(pro.api_requests_per_caller_per_minute)
    # when the org moves to a higher plan, its limits follow (after the in-process minute)
    business = Plan.objects.get(code="business")
    billing = billing_account_get_or_create(org_id=owner_key.api_key.org_id)
    OrgBilling.objects.filter(pk=billing.pk).update(plan=business, status="active")
    plans_in_force_forget()
    assert _get(owner_key)["RateLimit-Limit"] == str(business.api_requests_per_caller_per_minute)
    # and Pro and Business differ, so the answer is the plan's
    assert pro.api_requests_per_caller_per_minute != business.api_requests_per_caller_per_minute


@override_settings(RATE_LIMIT_ACCOUNT_PER_MINUTE=3)
def test_requests_outside_any_org_are_limited_per_person(alice: Actor, bob: Actor) -> None:
    # given a person's account requests: their profile, creating an org
    statuses = [alice.client.get("/api/v2/me").status_code for _ in range(2)]
    statuses.append(
        alice.client.post(
            "/api/v2/orgs", {"name": "Side project"}, content_type="application/json"
        ).status_code
    )
    creating_another = alice.client.post(
        "/api/v2/orgs", {"name": "Another"}, content_type="application/json"
    )
    # then the fourth within the minute is refused, with the wait and nothing created
    assert statuses == [200, 200, 201]
    assert creating_another.status_code == 429
    assert creating_another.json()["type"] == "/problems/rate-limited"
    assert int(creating_another["Retry-After"]) >= 1
    assert not Organization.objects.filter(name="Another").exists()
    # and another person is not affected
    assert bob.client.get("/api/v2/me").status_code == 200
