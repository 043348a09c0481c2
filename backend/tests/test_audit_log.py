"""The audit log, through the API: who may read it, its pages, and what it records."""

from __future__ import annotations

import pytest

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.orgs.models import Organization
from taskscore.testing.factories import org_plan_grant
from tests.access_helpers import ACME, audit_events, json_of
from tests.authz_cases import (
    assert_problem,
    call,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _business(org: Organization) -> None:
    """Reading the audit log needs Business (what a lower plan meets: test_plan_features.py)."""
    org_plan_grant(org, "business")


# ---------------------------------------------------------------------------------- audit


def test_the_audit_log_needs_audit_read(alice: Actor, bob: Actor) -> None:
    assert (
        assert_problem(call(bob.client, "GET", f"{ACME}/audit-events"), 403)["permission"]
        == "audit.read"
    )
    assert call(alice.client, "GET", f"{ACME}/audit-events").status_code == 200


def test_the_audit_log_pages_newest_first_with_next_cursor(
    alice: Actor, mallory: Actor, org: Organization
) -> None:
    # given 5 events in acme: the plan's grant and 4 keys (and one in globex, not shown)
    for n in range(4):
        call(alice.client, "POST", f"{ACME}/api-keys", {"name": f"k{n}"})
    org_plan_grant(mallory.org, "pro")
    created = call(mallory.client, "POST", "/api/v2/orgs/globex/api-keys", {"name": "theirs"})
    assert created.status_code == 201
    # when alice reads it 2 at a time
    seen: list[int] = []
    cursors: list[str | None] = []
    url: str | None = f"{ACME}/audit-events?limit=2"
    while url is not None:
        page = json_of(call(alice.client, "GET", url))
        seen += [item["id"] for item in page["items"]]
        cursors.append(page["next_cursor"])
        url = (
            f"{ACME}/audit-events?limit=2&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else None
        )
    # then every event once, newest first, in 3 pages
    expected = list(
        AuditEvent.objects.filter(org=org)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    assert (seen, len(expected), len(cursors), cursors[-1]) == (expected, 5, 3, None)


def test_creating_an_org_is_audited_and_its_owner_acts_at_once(alice: Actor) -> None:
    # given alice tried initech before it existed (a "not a member" to cache)
    assert_problem(call(alice.client, "GET", "/api/v2/orgs/initech/tasks"), 404)
    # when she creates it
    response = call(alice.client, "POST", "/api/v2/orgs", {"name": "Initech"})
    # then she owns it at once
    assert (response.status_code, json_of(response)) == (
        201, {"slug": "initech", "name": "Initech", "role": "owner"}
    )  # fmt: skip
    assert call(alice.client, "GET", "/api/v2/orgs/initech/tasks").status_code == 200
    [event] = audit_events("org.created")
    assert (event.org.slug, event.actor_label, event.after) == (
        "initech", alice.email, {"email": alice.email, "role": "owner"}
    )  # fmt: skip
