"""The security review's findings, one test each (see docs/decisions/0012-security-hardening.md).
Each was a failing test first; the finding's number is in the test's docstring."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from redis import Redis

from conftest import Actor
from taskscore.accounts.models import User
from taskscore.api.common.json_guard import MAX_DEPTH
from taskscore.api.v1.schemas import OFFSET_MAX
from taskscore.audit.models import AuditEvent
from taskscore.billing.selectors import ai_allowance
from taskscore.integrations.ai.cache import cache_key
from taskscore.orgs.keys import key_generate, key_parse
from taskscore.orgs.models import Invitation, Membership, Organization
from taskscore.orgs.principals import principal_for_token
from taskscore.orgs.selectors import ai_rules_of
from taskscore.orgs.services import CreatedKey
from taskscore.orgs.services import api_key_revoke as keys_revoke
from taskscore.rbac.callers import OPERATOR
from taskscore.scoring.ai import ai_prepare, ai_provider
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import AICriterion
from taskscore.scoring.models import ScoringModel, TaskScore
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory, org_plan_grant
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.processes import BACKEND_DIR, free_port

pytestmark = pytest.mark.django_db

REACH = {"kind": "attribute", "key": "reach", "label": "Reach", "weight": 1,
         "attribute": "reach", "min": 0, "max": 100}  # fmt: skip
ALLAUTH = "/_allauth/browser/v1/auth"


def _deep(levels: int) -> str:
    return '{"email": ' + "[" * levels + "]" * levels + ', "password": "x"}'


@pytest.mark.parametrize(
    "path", [f"{ALLAUTH}/login", f"{ALLAUTH}/signup", f"{ALLAUTH}/password/request"]
)
def test_a_deeply_nested_body_is_a_400_not_a_500_on_the_account_endpoints(path: str) -> None:
    """Finding 10: 100,000 nested arrays raised a RecursionError in allauth (a 500)."""
    response = Client().post(path, _deep(100_000), content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == f"The body is nested more than {MAX_DEPTH} levels deep."
    assert not User.objects.exists()


def test_nesting_up_to_the_limit_passes_the_gate_and_one_more_level_does_not(
    alice: Actor,
) -> None:
    """Finding 10: the limit is exact (a body at the limit reaches the endpoint's own checks)."""
    url = "/api/v2/orgs/acme/tasks"
    at_limit = json.dumps({"title": "x", "attributes": _nested(MAX_DEPTH - 1)})
    beyond = json.dumps({"title": "x", "attributes": _nested(MAX_DEPTH)})

    reached = alice.client.post(url, at_limit, content_type="application/json")
    refused = alice.client.post(url, beyond, content_type="application/json")

    assert reached.status_code == 422  # the endpoint's validation: attributes are numbers
    assert refused.status_code == 400
    assert not Task.objects.exists()


def _nested(lists: int) -> object:
    """`lists` arrays one inside the other; inside the task's object, one level more."""
    value: object = 1
    for _ in range(lists):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("bound", "literal"),
    [("min", "-Infinity"), ("max", "Infinity"), ("max", "NaN"), ("max", "1e400")],
)
def test_an_infinite_criterion_bound_is_a_400_and_stores_nothing(
    alice: Actor, bound: str, literal: str
) -> None:
    """Finding 10: ±Infinity (and numbers that overflow to it) reached Postgres: a 500."""
    criterion = {**REACH, bound: "BOUND"}
    body = json.dumps({"name": "Infinite", "criteria": [criterion]}).replace('"BOUND"', literal)

    response = alice.client.post(
        "/api/v2/orgs/acme/scoring/models", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] in (
        f"{literal} is not a JSON number.",
        f"The number {literal} is too large.",
    )
    assert not ScoringModel.objects.filter(name="Infinite").exists()


def test_a_criterion_bound_beyond_the_documented_range_is_a_422_naming_it(alice: Actor) -> None:
    """Finding 12: the bound the API enforces is the one its document states."""
    body = {"name": "Huge", "criteria": [{**REACH, "max": 1e13}]}

    response = alice.client.post(
        "/api/v2/orgs/acme/scoring/models", json.dumps(body), content_type="application/json"
    )
    document = Client().get("/api/v2/openapi.json").json()
    criterion = document["components"]["schemas"]["AttributeCriterion"]["properties"]

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "criteria.0.max"
    assert (criterion["max"]["minimum"], criterion["max"]["maximum"]) == (-1e12, 1e12)
    assert not ScoringModel.objects.filter(name="Huge").exists()


def test_v1_refuses_an_offset_beyond_its_documented_bound(owner_key: CreatedKey) -> None:
    """Finding 12: `?offset=155017088798994169856` was a 500 (past Postgres' bigint)."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {owner_key.token}")

    huge = client.get("/api/v1/tasks?offset=155017088798994169856")
    at_bound = client.get(f"/api/v1/tasks?offset={OFFSET_MAX}")
    document = Client().get("/api/v1/openapi.json").json()
    parameters = document["paths"]["/api/v1/tasks"]["get"]["parameters"]
    offset = next(p for p in parameters if p["name"] == "offset")

    assert huge.status_code == 422
    assert huge.json()["errors"][0]["field"] == "offset"
    assert (at_bound.status_code, at_bound.json()["items"]) == (200, [])
    assert offset["schema"]["maximum"] == OFFSET_MAX


def test_a_cache_hit_never_crosses_organizations(
    org: Organization, other_org: Organization, fake_ai: FakeAIServer
) -> None:
    """Finding 8: the AI result cache was shared, so org B saw `ai_calls=0` for a text that org A
    had scored. Now each org pays for (and sees) its own first answer; within an org the cache
    still answers the second time."""
    title = f"Export invoices as CSV {uuid.uuid4().hex[:8]}"
    attributes = {"reach": 10, "impact": 5, "confidence": 50, "effort": 2}
    fake_ai.reset()

    scores = []
    for owner in (org, other_org, org):
        task = TaskFactory.create(org=owner, title=title, description="", attributes=attributes)
        task_score_run(task_id=task.pk)
        scores.append(TaskScore.objects.get(task=task))

    assert [s.ai_calls for s in scores] == [1, 1, 0]
    assert len(fake_ai.requests()) == 2
    assert scores[0].value == scores[1].value == scores[2].value


def test_a_sample_preview_does_not_wait_for_a_slow_ai(alice: Actor, fake_ai: FakeAIServer) -> None:
    """Finding 5: the sample preview made its AI calls inside the web request (up to 5 × 30 s
    against gunicorn's 30 s timeout). It now answers after AI_SAMPLE_PREVIEW_SECONDS with the
    AI criterion skipped as slow (never a 0), charges the call that goes on, and the answer
    that comes later is cached: the same preview then shows it for no further call."""
    fake_ai.reset()
    fake_ai.configure(latency=(0.6, 0.6))
    body: dict[str, Any] = {
        "criteria": [REACH, CLARITY],
        "task": {"title": f"Slow sample {uuid.uuid4().hex[:8]}", "attributes": {"reach": 50}},
    }
    try:
        with override_settings(AI_SAMPLE_PREVIEW_SECONDS=0.2):
            first = _preview(alice, body)
            charged = ai_allowance(org_id=alice.org.pk).calls
            _wait_for(lambda: _cached(alice.org, body))
            second = _preview(alice, body)
    finally:
        fake_ai.configure(latency=(0.0, 0.0))

    clarity = [next(i for i in r["breakdown"] if i["key"] == "clarity") for r in (first, second)]
    assert clarity[0]["skipped"] == "slow"
    assert first["value"] == pytest.approx(50.0)  # reach alone: the skipped criterion is left out
    assert charged == 1
    assert clarity[1]["skipped"] is None
    assert clarity[1]["value"] is not None
    assert ai_allowance(org_id=alice.org.pk).calls == 1  # the second answer came from the cache
    assert fake_ai.stats().calls == 1


CLARITY = {"kind": "ai", "key": "clarity", "label": "Clarity", "weight": 1,
           "rubric": "Is the task clearly described?"}  # fmt: skip


def _preview(actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    response = actor.client.post(
        "/api/v2/orgs/acme/scoring/preview", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def _cached(org: Organization, body: dict[str, Any]) -> bool:
    """Whether the AI's answer for the sample's clarity is in the org's result cache."""
    criteria = criteria_parse(body["criteria"])
    run = ai_prepare(rules=ai_rules_of(org), criteria=criteria, title=body["task"]["title"],
                     description="")  # fmt: skip
    rubric = next(c for c in criteria if isinstance(c, AICriterion)).as_rubric()
    key = cache_key(ai_provider(), rubric=rubric, task_text=run.text, scope=run.cache_scope,
                    key_prefix=settings.AI_CACHE_KEY_PREFIX)  # fmt: skip
    return bool(Redis.from_url(settings.REDIS_URL).exists(key))


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "program",
    [
        ["manage.py", "check"],
        ["-c", "import config.wsgi"],
        ["-c", "from config.celery import app; app.loader.import_default_modules()"],
    ],
)
def test_serving_processes_default_to_production_and_refuse_to_start_without_a_secret(
    program: list[str],
) -> None:
    """Finding 4: wsgi.py, celery.py and manage.py defaulted to the local settings (DEBUG, a
    published SECRET_KEY). With no settings chosen they now load production, which will not
    start without DJANGO_SECRET_KEY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["MAIL_OUTBOX_DIR"] = ""

    done = subprocess.run(
        [sys.executable, *program], cwd=BACKEND_DIR, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode != 0
    assert "Set the environment variable DJANGO_SECRET_KEY." in done.stderr


def test_production_settings_pass_the_deploy_checks_at_warning_level() -> None:
    """Finding 4: `manage.py check --deploy --fail-level WARNING` on production settings (also
    run by `make lint`): HSTS, the HTTPS redirect, secure cookies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        MAIL_OUTBOX_DIR="",
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert (done.returncode, done.stderr) == (0, "")
    assert "System check identified no issues" in done.stdout


def _redis_footprint() -> tuple[int, int]:
    """(keys, bytes) of the permission cache and the rate limiter of this test run."""
    client = Redis.from_url(settings.REDIS_URL)
    keys = [
        *client.scan_iter(f"{settings.RBAC_CACHE_PREFIX}:*", count=1000),
        *client.scan_iter(f"{settings.RATE_LIMIT_PREFIX}:*", count=1000),
    ]
    return len(keys), sum(client.memory_usage(key) or 0 for key in keys)


@pytest.mark.slow
def test_ten_thousand_malformed_and_unknown_keys_leave_redis_within_a_fixed_bound(
    org: Organization, owner_key: CreatedKey, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 1: any prefix length was accepted, each unknown prefix left a "no grant" entry
    for 600 s, and failed authentication was never limited: a flood of `Bearer ts_<8 KB>_x`
    grew Redis without bound. Now keys parse strictly (a malformed token costs no lookup), and
    failed authentications are limited per client address (after the budget, 429 and no lookup),
    so one address adds a bounded number of entries; revocation still works after the flood."""
    caplog.set_level(logging.ERROR, logger="django.request")  # 10,000 refusals, not logged here
    budget = 30
    before = _redis_footprint()
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    client = Client()
    with override_settings(RATE_LIMIT_FAILED_AUTH_PER_MINUTE=budget):
        for n in range(10_000):
            token = f"ts_{'a' * 8192}_x" if n % 2 else f"ts_{secrets.token_hex(6)}_{'A' * 43}"
            response = client.get("/api/v2/orgs/acme/tasks", HTTP_AUTHORIZATION=f"Bearer {token}")
            statuses[response.status_code] += 1
        after = _redis_footprint()
    minutes = (time.monotonic() - started) / 60

    # the budget and its refill while the flood ran are all that got past the limit
    assert set(statuses) == {401, 429}
    assert statuses[401] <= budget * (1 + minutes) + 1
    # each of those left at most one "no grant" entry; plus the address's bucket
    assert after[0] - before[0] <= statuses[401] + 1
    assert after[1] - before[1] < 64 * 1024

    owner = Client(HTTP_AUTHORIZATION=f"Bearer {owner_key.token}")
    assert owner.get("/api/v2/orgs/acme/tasks").status_code == 200
    keys_revoke(org_id=org.pk, key_id=owner_key.api_key.pk, caller=OPERATOR)
    assert owner.get("/api/v2/orgs/acme/tasks").status_code == 401


def test_a_client_past_its_failed_authentication_budget_gets_429_without_a_key_lookup(
    org: Organization,
) -> None:
    """Finding 1: once an address has used its failed authentications, a well-formed unknown
    key is refused before the lookup reaches Postgres; another address is unaffected."""
    unknown = f"ts_{secrets.token_hex(6)}_{'A' * 40}"
    attacker = Client(HTTP_AUTHORIZATION=f"Bearer {unknown}", REMOTE_ADDR="203.0.113.7")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {unknown}", REMOTE_ADDR="203.0.113.8")
    with override_settings(RATE_LIMIT_FAILED_AUTH_PER_MINUTE=3):
        first = [attacker.get("/api/v2/orgs/acme/tasks").status_code for _ in range(3)]
        with CaptureQueriesContext(connection) as queries:
            refused = attacker.get(f"/api/v2/orgs/acme/tasks?{uuid.uuid4().hex}")
        elsewhere = other.get("/api/v2/orgs/acme/tasks").status_code

    assert first == [401, 401, 401]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert not [q for q in queries.captured_queries if "orgs_apikey" in q["sql"]]
    assert elsewhere == 401


@pytest.mark.parametrize(
    "token",
    [
        f"ts_{'a' * 8192}_x",
        "ts_ABCDEF012345_" + "A" * 40,  # upper-case prefix
        "ts_0123456789a_" + "A" * 40,  # 11 digits
        "ts_0123456789ab_" + "A" * 19,  # secret too short
        "ts_0123456789ab_" + "A" * 40 + "_",
        "tx_0123456789ab_" + "A" * 40,
    ],
)
def test_a_token_not_shaped_like_a_key_is_refused_without_a_lookup(token: str) -> None:
    """Finding 1: only what key_generate makes is parsed as a key."""
    with CaptureQueriesContext(connection) as queries:
        assert principal_for_token(token) is None

    assert queries.captured_queries == []


def test_every_generated_key_parses() -> None:
    for _ in range(1000):
        token, parsed = key_generate()
        assert key_parse(token) == parsed


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_text_a_request_body_carries_is_documented_without_nul(version: str) -> None:
    """Finding 12: 9 operations' documents allowed U+0000, which the API refuses (Postgres
    cannot store it): schema-valid input answered 422. Every string a request body reaches now
    carries the rule, as its pattern or beside it."""
    document = Client().get(f"/api/{version}/openapi.json").json()
    components = document["components"]["schemas"]
    texts: list[dict[str, Any]] = []

    def walk(node: Any, seen: set[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, seen)
        elif isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref not in seen:
                seen.add(ref)
                walk(components[ref.rsplit("/", 1)[1]], seen)
            if node.get("type") == "string" and "enum" not in node and "const" not in node:
                texts.append(node)
            for key, value in node.items():
                if key != "allOf":
                    walk(value, seen)

    for path_item in document["paths"].values():
        for operation in path_item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk(media["schema"], set())

    assert texts
    for text in texts:
        patterns = [text.get("pattern"), *(p.get("pattern") for p in text.get("allOf", []))]
        assert "^[^\x00]*$" in patterns, text


@pytest.mark.parametrize(
    "moment",
    ["0.5", "1764579600", "2026-12-01", "2944-04-14T13:26:51.5+22:46", "2026-12-01T09:00:00"],
)
def test_an_audit_filter_takes_only_a_real_moment_with_its_offset(
    alice: Actor, moment: str
) -> None:
    """Finding 12 (found by schemathesis): `until=0.5` was read as a Unix time (schema-violating
    input accepted) and an offset of +22:46 reached Postgres, which refuses it (a 500)."""
    org_plan_grant(alice.org, "business")

    response = alice.client.get("/api/v2/orgs/acme/audit-events", {"until": moment})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "until"


def test_a_demoted_or_removed_member_s_keys_never_do_more_than_they_may(
    alice: Actor, admin: Actor
) -> None:
    """Finding 6: removing or demoting a member left the API keys they had created working, with
    roles they no longer held. The rule: a key never does more than its creator may. Demoted,
    their keys whose role goes beyond their new role are revoked (the others keep working);
    removed, all of them; in the same transaction, audited with the reason."""
    org_plan_grant(alice.org, "pro")
    tokens = {}
    for role in ("admin", "viewer"):
        created = admin.client.post(
            "/api/v2/orgs/acme/api-keys", {"name": f"{role} key", "role": role},
            content_type="application/json",
        )  # fmt: skip
        assert created.status_code == 201, created.content
        tokens[role] = created.json()["token"]
    member_id = Membership.objects.get(org=alice.org, user__email=admin.email).pk

    def works(role: str) -> bool:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[role]}")
        return client.get("/api/v2/orgs/acme/tasks").status_code == 200

    demoted = alice.client.patch(
        f"/api/v2/orgs/acme/members/{member_id}", {"role": "member"},
        content_type="application/json",
    )  # fmt: skip
    after_demotion = (works("admin"), works("viewer"))
    removed = alice.client.delete(f"/api/v2/orgs/acme/members/{member_id}")

    assert (demoted.status_code, removed.status_code) == (200, 204)
    assert after_demotion == (False, True)
    assert (works("admin"), works("viewer")) == (False, False)
    reasons = [
        ((event.before or {}).get("role"), (event.after or {}).get("reason"))
        for event in AuditEvent.objects.filter(action="api_key.revoked").order_by("pk")
    ]
    assert reasons == [("admin", "creator_demoted"), ("viewer", "creator_removed")]


@pytest.mark.parametrize("name", ["Acme\nBcc: victim@example.test", "Ac\rme", "A\u2028B", "A\x07"])
def test_a_name_that_is_not_one_line_of_text_is_refused(alice: Actor, name: str) -> None:
    """Finding 9: org and role names travel into invitation mails (subject and body); a newline
    in an org's name raised after the invitation was committed (a 500). Names are one line."""
    org_plan_grant(alice.org, "business")  # custom roles
    org = alice.client.post("/api/v2/orgs", {"name": name}, content_type="application/json")
    role = alice.client.post(
        "/api/v2/orgs/acme/roles",
        {"key": "triage", "name": name, "permissions": ["task.read"]},
        content_type="application/json",
    )

    assert (org.status_code, org.json()["errors"][0]["field"]) == (422, "name")
    assert (role.status_code, role.json()["errors"][0]["field"]) == (422, "name")
    assert not Organization.objects.exclude(slug="acme").exists()


def test_invitations_are_limited_per_org_per_hour(alice: Actor) -> None:
    """Finding 9: invitation mail carries text the inviter chooses to any address; an org sends
    at most INVITATIONS_PER_ORG_PER_HOUR of them an hour (429 with Retry-After, nothing saved)."""
    with override_settings(INVITATIONS_PER_ORG_PER_HOUR=2):
        answers = [
            alice.client.post(
                "/api/v2/orgs/acme/invitations", {"email": f"p{n}@example.test", "role": "member"},
                content_type="application/json",
            )
            for n in range(3)
        ]  # fmt: skip

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 3601
    assert not Invitation.objects.filter(email="p2@example.test").exists()


def test_a_mail_that_cannot_be_sent_loses_no_invitation(
    alice: Actor,
    django_capture_on_commit_callbacks: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Finding 9: no mail failure loses a write (or turns a saved invitation into a 500): with
    the mail server refusing connections, the invitation stands and its link is in the answer."""
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
            EMAIL_TIMEOUT=2,
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = alice.client.post(
            "/api/v2/orgs/acme/invitations", {"email": "new@example.test", "role": "member"},
            content_type="application/json",
        )  # fmt: skip

    assert response.status_code == 201
    assert "/invitations/" in response.json()["accept_url"]
    assert Invitation.objects.filter(email="new@example.test", revoked_at__isnull=True).exists()
    assert "its mail could not be sent" in caplog.text
