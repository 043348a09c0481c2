"""An org's AI data rules and AI budget: AI criteria on or off, which fields go to the AI,
redaction before the call and the cache key, the plan's monthly AI calls (scoring, previews and
re-scores alike; "skipped: budget" rather than a silent 0; a 402 for a request it cannot cover),
and what each score records of it. The AI is the fake OpenAI-compatible server on loopback,
whose request log shows exactly what was sent."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Actor
from taskscore.audit.models import AuditEvent
from taskscore.billing.models import AIUsage, Plan
from taskscore.billing.selectors import (
    ai_allowance,
    billing_account_of,
    plan_free,
    plan_in_force,
    usage_period_start,
)
from taskscore.billing.services import (
    ai_calls_reserve,
    ai_calls_settle,
    billing_account_get_or_create,
)
from taskscore.integrations.ai.redact import redact
from taskscore.orgs.models import Organization
from taskscore.scoring.models import ScoringVersion, TaskScore
from taskscore.scoring.services import scoring_model_create, version_activate, version_publish
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import RetryLater, task_score_run
from taskscore.testing.factories import OrganizationFactory, TaskFactory
from taskscore.testing.fake_ai import FakeAIServer

pytestmark = pytest.mark.django_db

REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1,
         "attribute": "reach", "min": 0, "max": 100}  # fmt: skip
CLARITY = {"kind": "ai", "key": "clarity", "label": "Clarity", "weight": 1,
           "rubric": "Is the task clearly described?"}  # fmt: skip

DESCRIPTION = (
    "Finance asked for it: write to dana.lee@acme.example or call +1 415 555 0199. Staging "
    "key sk_live_51HxYzAbCdEfGhIjKlMnOpQr is in the vault; see "
    "https://wiki.acme.example/exports?token=abc123&user=dana for the spec."
)


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def _activate(org: Organization, criteria: list[dict[str, Any]]) -> ScoringVersion:
    model = scoring_model_create(org_id=org.pk, name=f"V{uuid.uuid4().hex[:6]}", criteria=criteria)
    version_publish(org_id=org.pk, model_id=model.pk, number=1)
    return version_activate(org_id=org.pk, model_id=model.pk, number=1)


def _scored(
    org: Organization, *, title: str = "", description: str = "", reach: float = 50
) -> Task:
    task = TaskFactory.create(
        org=org,
        title=title or f"Export CSV {uuid.uuid4().hex[:8]}",  # unique: no cached answer
        description=description,
        attributes={"reach": reach},
    )
    task_score_run(task_id=task.pk)
    task.refresh_from_db()
    return task


def _score(task: Task) -> TaskScore:
    return TaskScore.objects.get(task=task)


def _allow(calls: int | None) -> None:
    Plan.objects.filter(code="free").update(monthly_ai_calls=calls)


# ------------------------------------------------------------------------------ data rules


def test_the_settings_show_the_rules_the_redaction_and_the_usage(carol: Actor) -> None:
    response = carol.client.get("/api/v2/orgs/acme/ai")

    assert response.status_code == 200
    body = response.json()
    assert body["rules"] == {"enabled": True, "send_title": True, "send_description": True}
    assert set(body["redaction"]) >= {"email", "phone", "card", "secret", "query"}
    assert (body["usage"]["plan"], body["usage"]["calls"], body["usage"]["limit"]) == (
        "free",
        0,
        1000,
    )


def test_an_admin_changes_the_rules_and_it_is_audited(alice: Actor) -> None:
    response = _patch(alice.client, "/api/v2/orgs/acme/ai/rules", {"send_description": False})

    assert response.json() == {"enabled": True, "send_title": True, "send_description": False}
    event = AuditEvent.objects.get(action="org.ai_rules_changed")
    assert event.before is not None
    assert event.after is not None
    assert (event.before["send_description"], event.after["send_description"]) == (True, False)


def test_a_member_cannot_change_the_rules_and_bad_input_changes_nothing(
    alice: Actor, bob: Actor
) -> None:
    refused = _patch(bob.client, "/api/v2/orgs/acme/ai/rules", {"enabled": False})
    bad = _patch(alice.client, "/api/v2/orgs/acme/ai/rules", {"enabled": "sometimes"})

    assert (refused.status_code, refused.json()["permission"]) == (403, "scoring.manage")
    assert bad.status_code == 422
    assert Organization.objects.get(pk=alice.org.pk).ai_enabled is True
    assert not AuditEvent.objects.filter(action="org.ai_rules_changed").exists()


def test_ai_off_skips_the_ai_criteria_and_scores_the_rest(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    _activate(alice.org, [REACH, CLARITY])
    _patch(alice.client, "/api/v2/orgs/acme/ai/rules", {"enabled": False})

    task = _scored(alice.org, reach=40)

    assert task.status == TaskStatus.SCORED
    assert fake_ai.requests() == []
    breakdown = {item["key"]: item for item in _score(task).breakdown}
    assert breakdown["clarity"]["skipped"] == "ai_off"
    assert breakdown["clarity"]["contribution"] == 0.0
    assert task.score_value == pytest.approx(40.0)  # reach alone, not 40 × 1/2


def test_only_the_allowed_fields_are_sent(alice: Actor, fake_ai: FakeAIServer) -> None:
    _activate(alice.org, [CLARITY])
    _patch(alice.client, "/api/v2/orgs/acme/ai/rules", {"send_description": False})

    task = _scored(alice.org, description="Secret roadmap detail only people may read.")

    [request] = fake_ai.requests()
    assert task.title in request["user"]
    assert "roadmap" not in request["user"]
    assert _score(task).inputs["ai"]["fields_sent"] == ["title"]


def test_no_field_allowed_skips_the_ai(alice: Actor, fake_ai: FakeAIServer) -> None:
    _activate(alice.org, [REACH, CLARITY])
    _patch(
        alice.client,
        "/api/v2/orgs/acme/ai/rules",
        {"send_title": False, "send_description": False},
    )

    task = _scored(alice.org)

    assert fake_ai.requests() == []
    assert _score(task).inputs["ai"]["skipped"] == {"clarity": "no_fields"}


def test_personal_data_and_secrets_are_redacted_before_the_ai_reads_them(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    _activate(alice.org, [CLARITY])

    task = _scored(alice.org, description=DESCRIPTION)

    [request] = fake_ai.requests()
    for secret in ("dana.lee@acme.example", "415 555 0199", "sk_live_51HxYz", "token=abc123"):
        assert secret not in request["user"]
    assert "[email]" in request["user"]
    assert "[phone]" in request["user"]
    ai = _score(task).inputs["ai"]
    assert ai["redacted"] is True
    assert set(ai["redacted_kinds"]) == {"email", "phone", "secret", "query"}
    sent = redact(f"{task.title}\n\n{DESCRIPTION}").text
    assert ai["text_sha256"] == hashlib.sha256(sent.encode()).hexdigest()
    assert "dana" not in json.dumps(_score(task).inputs)  # never the redacted values


def test_the_cache_key_is_made_from_the_redacted_text(alice: Actor, fake_ai: FakeAIServer) -> None:
    # Two tasks that differ only in what is redacted read the same text: one AI call.
    _activate(alice.org, [CLARITY])
    title = f"Call the customer {uuid.uuid4().hex[:6]}"

    _scored(alice.org, title=title, description="Reach them at ann@example.com.")
    _scored(alice.org, title=title, description="Reach them at bob@example.org.")

    assert len(fake_ai.requests()) == 1


# ------------------------------------------------------------------------------ AI budget


def test_ai_calls_count_against_the_plan_and_a_cached_answer_is_free(alice: Actor) -> None:
    _activate(alice.org, [CLARITY])
    title = f"Same text {uuid.uuid4().hex[:6]}"

    _scored(alice.org, title=title)
    _scored(alice.org, title=title)  # answered by the cache
    _scored(alice.org)

    assert ai_allowance(org_id=alice.org.pk).calls == 2


def test_over_budget_the_attributes_are_scored_and_the_ai_is_skipped_for_budget(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    # Given a plan allowing 2 AI calls a month, and a version with one AI criterion
    _allow(2)
    _activate(alice.org, [REACH, CLARITY])

    # When three tasks are scored
    tasks = [_scored(alice.org, reach=30) for _ in range(3)]

    # Then the third is scored on its attributes, its AI criterion marked skipped: budget
    assert [t.status for t in tasks] == [TaskStatus.SCORED] * 3
    assert len(fake_ai.requests()) == 2
    breakdown = {item["key"]: item for item in _score(tasks[2]).breakdown}
    assert breakdown["clarity"]["skipped"] == "budget"
    assert breakdown["clarity"]["value"] is None
    assert tasks[2].score_value == pytest.approx(30.0)
    assert ai_allowance(org_id=alice.org.pk).calls == 2


def test_a_cached_answer_is_given_when_the_allowance_is_used_up(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    # Given a plan allowing 1 AI call a month, spent on a task's answer
    _allow(1)
    _activate(alice.org, [REACH, CLARITY])
    title = f"Same text {uuid.uuid4().hex[:6]}"
    first = _scored(alice.org, title=title)

    # When a task with the same text is scored, and then one with a new text
    again = _scored(alice.org, title=title)
    other = _scored(alice.org)

    # Then the cache's answer costs nothing and is given; the new text is skipped for budget
    assert len(fake_ai.requests()) == 1
    assert _score(again).ai_calls == 0
    clarity = {item["key"]: item for item in _score(again).breakdown}["clarity"]
    assert clarity["skipped"] is None
    assert again.score_value == first.score_value
    assert {i["key"]: i for i in _score(other).breakdown}["clarity"]["skipped"] == "budget"
    assert ai_allowance(org_id=alice.org.pk).calls == 1


def test_only_the_calls_made_touch_the_allowance(alice: Actor) -> None:
    # Given a version with one AI criterion
    _activate(alice.org, [CLARITY])
    title = f"Same text {uuid.uuid4().hex[:6]}"

    # When a task is scored (a call made), then one with the same text (the cache answers)
    with CaptureQueriesContext(connection) as miss:
        _scored(alice.org, title=title)
    with CaptureQueriesContext(connection) as hit:
        _scored(alice.org, title=title)

    # Then the call was reserved in one statement and nothing given back; the cached answer
    # neither reserved nor settled anything (the allowance's row is every job's lock)
    def usage(queries: CaptureQueriesContext) -> list[str]:
        return [q["sql"] for q in queries.captured_queries if "billing_aiusage" in q["sql"]]

    assert len(usage(miss)) == 1
    assert usage(miss)[0].lstrip().upper().startswith(("WITH", "INSERT"))
    assert usage(hit) == []
    assert ai_allowance(org_id=alice.org.pk).calls == 1


def test_a_version_of_ai_criteria_only_fails_the_task_saying_why(alice: Actor) -> None:
    _allow(0)
    _activate(alice.org, [CLARITY])

    task = _scored(alice.org)

    assert task.status == TaskStatus.FAILED
    assert "monthly AI calls are used up" in task.failure_reason
    assert not TaskScore.objects.filter(task=task).exists()


def test_a_sample_preview_the_budget_cannot_cover_is_a_402(alice: Actor) -> None:
    _allow(0)

    response = _post(
        alice.client,
        "/api/v2/orgs/acme/scoring/preview",
        {"criteria": [REACH, CLARITY], "task": {"title": "Sample"}},
    )

    assert response.status_code == 402
    problem = response.json()
    assert problem["type"].endswith("/problems/ai-budget-exceeded")
    assert (problem["limit"], problem["used"], problem["needed"]) == (0, 0, 1)


def test_a_preview_run_shows_its_cost_first_and_is_refused_beyond_the_budget(
    alice: Actor,
) -> None:
    for _ in range(3):
        TaskFactory.create(org=alice.org)
    _allow(5)
    body = {"criteria": [REACH, CLARITY, {**CLARITY, "key": "value"}], "limit": 10}

    estimate = _post(alice.client, "/api/v2/orgs/acme/scoring/previews/estimate", body).json()
    refused = _post(alice.client, "/api/v2/orgs/acme/scoring/previews", body)

    assert (estimate["tasks"], estimate["ai_calls"], estimate["covered"]) == (3, 6, False)
    assert estimate["usage"]["remaining"] == 5
    assert refused.status_code == 402
    assert refused.json()["needed"] == 6


def test_rescore_all_shows_its_cost_first_and_is_refused_beyond_the_budget(
    alice: Actor,
) -> None:
    _activate(alice.org, [REACH])
    tasks = [_scored(alice.org) for _ in range(4)]
    _activate(alice.org, [REACH, CLARITY])
    _allow(3)

    estimate = alice.client.get("/api/v2/orgs/acme/tasks/rescore/estimate").json()
    refused = _post(alice.client, "/api/v2/orgs/acme/tasks/rescore", {})

    assert (estimate["tasks"], estimate["ai_calls"], estimate["covered"]) == (4, 4, False)
    assert refused.status_code == 402
    assert {t.status for t in Task.objects.filter(pk__in=[t.pk for t in tasks])} == {
        TaskStatus.SCORED
    }

    _allow(4)
    assert _post(alice.client, "/api/v2/orgs/acme/tasks/rescore", {}).status_code == 202


def test_a_failed_call_gives_its_reservation_back(alice: Actor, fake_ai: FakeAIServer) -> None:
    _activate(alice.org, [CLARITY])
    fake_ai.script(["500"])

    task = TaskFactory.create(org=alice.org, title=f"Flaky {uuid.uuid4().hex[:6]}")
    with pytest.raises(RetryLater):  # released to try again later
        task_score_run(task_id=task.pk)

    assert ai_allowance(org_id=alice.org.pk).calls == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_pass_the_allowance() -> None:
    # Given an org allowed 10 AI calls a month
    org = OrganizationFactory.create(slug=f"race-{uuid.uuid4().hex[:6]}")
    _allow(10)
    barrier = threading.Barrier(8)
    granted: list[int] = []
    lock = threading.Lock()

    def reserve() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                reservation = ai_calls_reserve(org_id=org.pk, calls=1)
                if reservation is not None:
                    with lock:
                        granted.append(1)
        finally:
            connection.close()

    # When 8 threads try 3 reservations each, all at once
    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly 10 were granted and counted
    try:
        assert len(granted) == 10
        assert AIUsage.objects.get(org=org).calls == 10
    finally:
        _allow(1000)


_LIMITS = {"free": 3, "pro": 5, "business": 7}


@pytest.mark.parametrize("period", ["current", "over", "none"])
@pytest.mark.parametrize("granted", [None, "pro", "business"])
@pytest.mark.parametrize("subscribed", ["pro", "business"])
@pytest.mark.parametrize("status", [None, "active", "trialing", "past_due", "canceled", "unpaid"])
def test_a_reservation_counts_against_the_plan_in_force_and_its_period(
    org: Organization, status: str | None, subscribed: str, granted: str | None, period: str
) -> None:
    """The reserving statement decides the allowance and the period in SQL: it must agree with
    `plan_in_force` and `usage_period_start` over every status, plan and grant."""
    # given plans with allowances that tell them apart, and the org's billing in that state
    for code, calls in _LIMITS.items():
        Plan.objects.filter(code=code).update(monthly_ai_calls=calls)
    if status is not None:
        now = timezone.now()
        starts = {"current": now - timedelta(days=3), "over": now - timedelta(days=40)}
        billing = billing_account_get_or_create(org_id=org.pk)
        billing.status = status
        billing.plan = Plan.objects.get(code=subscribed)
        billing.granted_plan = Plan.objects.get(code=granted) if granted else None
        billing.current_period_start = starts.get(period)
        billing.current_period_end = (
            starts[period] + timedelta(days=30) if period in starts else None
        )
        billing.save()
    account = billing_account_of(org_id=org.pk)
    limit = plan_in_force(account, free=plan_free())[0].monthly_ai_calls
    assert limit is not None

    # then one call more than the allowance is refused, and the allowance itself is reserved
    # in the period Python names
    assert ai_calls_reserve(org_id=org.pk, calls=limit + 1) is None
    reservation = ai_calls_reserve(org_id=org.pk, calls=limit)
    assert reservation is not None
    assert reservation.period_start == usage_period_start(account)
    assert AIUsage.objects.get(org=org, period_start=reservation.period_start).calls == limit
    assert ai_calls_reserve(org_id=org.pk, calls=1) is None


def test_an_unlimited_plan_reserves_whatever_is_asked(org: Organization) -> None:
    _allow(None)
    for _ in range(3):
        assert ai_calls_reserve(org_id=org.pk, calls=10_000) is not None
    assert AIUsage.objects.get(org=org).calls == 30_000


def test_settling_gives_back_what_was_not_used_and_adds_the_cost(alice: Actor) -> None:
    reservation = ai_calls_reserve(org_id=alice.org.pk, calls=3)
    assert reservation is not None

    ai_calls_settle(reservation=reservation, used=1, cost_usd=Decimal("0.0042"))

    allowance = ai_allowance(org_id=alice.org.pk)
    assert allowance.calls == 1
    assert allowance.cost_usd == pytest.approx(0.0042)
