"""The security review's findings, one test each (see docs/decisions/0012-security-hardening.md).
Each was a failing test first; the finding's number is in the test's docstring."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis import Redis

from config.settings import base as base_settings
from conftest import Actor, ApiService
from taskscore.accounts.models import User
from taskscore.accounts.services import user_create
from taskscore.api.common.json_guard import MAX_DEPTH
from taskscore.api.common.security_headers import DATA_POLICY, PAGE_POLICY, PERMISSIONS_POLICY
from taskscore.api.v1.schemas import OFFSET_MAX
from taskscore.audit.models import AuditEvent
from taskscore.billing.models import (
    CheckoutSession,
    Invoice,
    OrgBilling,
    StripeEvent,
    Subscription,
)
from taskscore.billing.selectors import ai_allowance
from taskscore.core import request_context
from taskscore.core.errors import ApiKeyExpired
from taskscore.core.logs import ContextFilter, JsonFormatter, RedactSecrets
from taskscore.integrations.ai.cache import cache_key
from taskscore.orgs.keys import key_generate, key_parse
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.orgs.principals import principal_for_token
from taskscore.orgs.selectors import ai_rules_of
from taskscore.orgs.services import CreatedKey, api_key_create
from taskscore.orgs.services import api_key_revoke as keys_revoke
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.services import role_builtin
from taskscore.scoring.ai import ai_prepare, ai_provider
from taskscore.scoring.criteria import criteria_parse
from taskscore.scoring.engine import AICriterion
from taskscore.scoring.models import ScoringModel, TaskScore
from taskscore.tasks.models import Task
from taskscore.tasks.services import task_score_run
from taskscore.testing.factories import TaskFactory, org_plan_grant
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.fake_stripe import (
    FakeStripeServer,
    event_payload,
    invoice_object,
    subscription_object,
)
from taskscore.testing.log_scan import run_dir, scan_files, secret_register, secrets_registered
from taskscore.testing.processes import BACKEND_DIR, Process, free_port
from tests.access_helpers import join
from tests.billing_helpers import WEBHOOK_SECRET, deliver, price_of

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
    assert "These secrets have no default: set DJANGO_SECRET_KEY" in done.stderr


def test_production_settings_pass_the_deploy_checks_at_warning_level() -> None:
    """Finding 4: `manage.py check --deploy --fail-level WARNING` on production settings (also
    run by `make lint`): HSTS, the HTTPS redirect, secure cookies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        STRIPE_SECRET_KEY=secrets.token_urlsafe(32),
        STRIPE_WEBHOOK_SECRET=secrets.token_urlsafe(32),
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


# ------------------------------------------------------------------------------------ Finding 2
# A published webhook secret: production verified webhooks with `whsec_localstripe` when
# STRIPE_SECRET_KEY was unset, and an event for an org without a customer linked the org from its
# `metadata.org_id` / `client_reference_id`.

PRODUCTION_SECRETS = ("DJANGO_SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")


def _production_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the production settings in a fresh interpreter with only `env` (and PATH)."""
    code = (
        "import json, config.settings.production as s; print(json.dumps("
        "[s.SECRET_KEY, s.STRIPE_API_KEY, s.STRIPE_WEBHOOK_SECRET, s.STRIPE_API_BASE]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND_DIR,
        env={"PATH": "/usr/bin:/bin", "MAIL_OUTBOX_DIR": "", **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _production_secrets() -> dict[str, str]:
    return {name: secrets.token_urlsafe(32) for name in PRODUCTION_SECRETS}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        *((name, None) for name in PRODUCTION_SECRETS),
        *((name, "") for name in PRODUCTION_SECRETS),
        ("STRIPE_WEBHOOK_SECRET", settings.OFFLINE_STRIPE_WEBHOOK_SECRET),
        ("STRIPE_SECRET_KEY", settings.OFFLINE_STRIPE_API_KEY),
    ],
)
def test_production_settings_refuse_to_start_without_each_secret(
    name: str, value: str | None
) -> None:
    """Finding 2: production settings fell back to the offline stand-in's published webhook
    secret and key (anyone could sign an event that changes an org's plan). Each secret unset,
    empty or set to a published value stops them, naming it."""
    env = _production_secrets()
    if value is None:
        del env[name]
    else:
        env[name] = value

    done = _production_settings(**env)

    assert done.returncode == 1
    assert f"ImproperlyConfigured: These secrets have no default: set {name} in the " in (
        done.stderr
    )


def test_production_settings_name_every_missing_secret_at_once() -> None:
    """Finding 2: one error lists every secret to set."""
    done = _production_settings()

    assert done.returncode == 1
    assert f"set {', '.join(PRODUCTION_SECRETS)} in the environment" in done.stderr


def test_production_settings_start_with_their_secrets_and_talk_to_stripe_itself(
    tmp_path: Any,
) -> None:
    """Finding 2: with every secret set (the webhook secret from a file, as a container secret
    would be) they start, and the Stripe client's address is Stripe's own, not the stand-in's."""
    env = _production_secrets()
    secret_file = tmp_path / "stripe-webhook-secret"
    secret_file.write_text(env.pop("STRIPE_WEBHOOK_SECRET") + "\n")

    done = _production_settings(**env, STRIPE_WEBHOOK_SECRET_FILE=str(secret_file))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        env["DJANGO_SECRET_KEY"], env["STRIPE_SECRET_KEY"], secret_file.read_text().strip(), ""
    ]  # fmt: skip


@pytest.fixture
def _webhook_secret() -> Iterator[None]:
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        yield


def _checkout_by_the_app(actor: Actor) -> CheckoutSession:
    """Checkout of Pro started through the API: the app creates the org's customer (linking it)
    and the session, which it records for the org."""
    response = actor.client.post(
        f"/api/v2/orgs/{actor.org.slug}/billing/checkout", {"plan": "pro"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    return CheckoutSession.objects.get(org=actor.org)


def _checkout_completed(session_id: str, *, customer: str, names_org: int) -> dict[str, Any]:
    obj = {
        "id": session_id, "object": "checkout.session", "mode": "subscription",
        "customer": customer, "subscription": f"sub_of_{session_id}",
        "client_reference_id": str(names_org), "metadata": {"org_id": str(names_org)},
    }  # fmt: skip
    return event_payload(
        event_id=f"evt_{uuid.uuid4().hex}", type="checkout.session.completed",
        created=int(time.time()), obj=obj,
    )  # fmt: skip


def _subscription_active(customer: str, *, names_org: int) -> dict[str, Any]:
    now = int(time.time())
    obj = subscription_object(
        subscription_id=f"sub_{uuid.uuid4().hex[:12]}", customer=customer, price=price_of("pro"),
        status="active", created=now, period_start=now, period_end=now + 30 * 86400,
        metadata={"org_id": str(names_org)},
    )  # fmt: skip
    return event_payload(
        event_id=f"evt_{uuid.uuid4().hex}", type="customer.subscription.updated", created=now,
        obj=obj,
    )  # fmt: skip


def _invoice_paid(customer: str, *, names_org: int) -> dict[str, Any]:
    now = int(time.time())
    obj = invoice_object(
        invoice_id=f"in_{uuid.uuid4().hex[:12]}", customer=customer, subscription="sub_forged",
        status="paid", created=now,
    )  # fmt: skip
    obj["metadata"] = {"org_id": str(names_org)}
    return event_payload(
        event_id=f"evt_{uuid.uuid4().hex}", type="invoice.paid", created=now, obj=obj
    )


def _billing_everywhere() -> dict[str, Any]:
    """Every org's billing: customers, plans, subscriptions, invoices, Checkout sessions, audit."""
    return {
        "billing": sorted(
            OrgBilling.objects.values_list(
                "org_id", "stripe_customer_id", "plan__code", "status", "stripe_subscription_id"
            )
        ),
        "subscriptions": list(Subscription.objects.values_list("stripe_subscription_id")),
        "invoices": list(Invoice.objects.values_list("stripe_invoice_id")),
        "sessions": sorted(
            CheckoutSession.objects.values_list(
                "stripe_session_id", "org_id", "completed_at", "stripe_subscription_id"
            )
        ),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.usefixtures("_webhook_secret")
@pytest.mark.parametrize(
    "forgery",
    [
        "subscription-of-an-unknown-customer",
        "invoice-of-an-unknown-customer",
        "checkout-this-app-never-created",
        "checkout-created-for-another-org",
    ],
)
def test_a_signed_event_naming_an_org_in_its_metadata_links_nothing(
    alice: Actor, mallory: Actor, forgery: str
) -> None:
    """Finding 2: an event for a customer no org has linked the org its `metadata.org_id` /
    `client_reference_id` named. Now an org is linked only to the customer this app created for
    it (before its Checkout), and a completed Checkout counts only for a session this app
    recorded, with that org's customer: anything else changes nothing and is stored `ignored`
    (a 200, so Stripe does not retry it forever)."""
    # given acme (alice) without a Stripe customer, and globex (mallory) whose Checkout the app
    # started: its customer linked and its session recorded
    acme = alice.org.pk
    globex_session = _checkout_by_the_app(mallory)
    before = _billing_everywhere()
    # when a genuinely signed event arrives for a customer of no org, naming acme
    event, reason = {
        "subscription-of-an-unknown-customer": (
            _subscription_active("cus_forged", names_org=acme),
            "unknown customer cus_forged",
        ),
        "invoice-of-an-unknown-customer": (
            _invoice_paid("cus_forged", names_org=acme),
            "unknown customer cus_forged",
        ),
        "checkout-this-app-never-created": (
            _checkout_completed("cs_test_forged", customer="cus_forged", names_org=acme),
            "unknown checkout session cs_test_forged",
        ),
        "checkout-created-for-another-org": (
            _checkout_completed(
                globex_session.stripe_session_id, customer="cus_forged", names_org=acme
            ),
            f"checkout session {globex_session.stripe_session_id} is not of customer cus_forged",
        ),
    }[forgery]

    answer = deliver(event).json()

    # then it is acknowledged as ignored, with why, and nothing anywhere changed
    assert answer == {"id": event["id"], "status": "ignored", "reason": reason}
    assert _billing_everywhere() == before
    assert not OrgBilling.objects.filter(org_id=acme).exclude(stripe_customer_id=None).exists()
    stored = StripeEvent.objects.get(event_id=event["id"])
    assert (stored.status, stored.org_id, stored.attempts) == ("ignored", None, 1)
    # and Stripe's redelivery is acknowledged without being applied again
    assert deliver(event).json() == answer
    assert StripeEvent.objects.get(event_id=event["id"]).attempts == 1


@pytest.mark.usefixtures("_webhook_secret")
def test_a_checkout_the_app_created_still_completes_for_its_own_org(
    alice: Actor, mallory: Actor
) -> None:
    """Finding 2: the one way an org gets a subscription: its Checkout, started by the app (which
    linked its customer and recorded the session), completes, and the subscription's events
    follow for that customer. Metadata naming another org changes nothing of that."""
    # given acme's Checkout of Pro, started through the API
    session = _checkout_by_the_app(alice)
    customer = OrgBilling.objects.get(org=alice.org).stripe_customer_id
    assert customer is not None
    globex = mallory.org.pk
    # when Stripe reports it completed, then the subscription active (both naming globex)
    completed = deliver(_checkout_completed(session.stripe_session_id, customer=customer,
                                            names_org=globex)).json()  # fmt: skip
    activated = deliver(_subscription_active(customer, names_org=globex)).json()

    # then both apply to acme: its session is completed (its trial used), it is on Pro
    assert (completed["status"], activated["status"]) == ("applied", "applied")
    session.refresh_from_db()
    assert session.completed_at is not None
    assert session.stripe_subscription_id == f"sub_of_{session.stripe_session_id}"
    billing = OrgBilling.objects.select_related("plan").get(org=alice.org)
    assert (billing.stripe_customer_id, billing.plan.code, billing.status) == (
        customer, "pro", "active"
    )  # fmt: skip
    assert set(StripeEvent.objects.values_list("org_id", flat=True)) == {alice.org.pk}
    # and globex, which the metadata named, has no customer and no subscription
    assert not OrgBilling.objects.filter(org_id=globex).exclude(stripe_customer_id=None).exists()
    assert not Subscription.objects.filter(org_id=globex).exists()


# ------------------------------------------------------------------------------------ Finding 7
# Unverified email: invitation acceptance compared the invited address with one never verified,
# and sign-up told whether an address had an account.

BROWSER_API = "/_allauth/browser/v1"  # allauth headless, as the web app calls it
PENDING_VERIFICATION = {
    "status": 401,
    "data": {
        "flows": [{"id": "login"}, {"id": "signup"}, {"id": "verify_email", "is_pending": True}]
    },
    "meta": {"is_authenticated": False},
}


def _allauth(client: Client, method: str, path: str, body: dict[str, str] | None = None) -> Any:
    return getattr(client, method.lower())(
        f"{BROWSER_API}{path}", json.dumps(body or {}), content_type="application/json"
    )


def _address(name: str) -> str:
    """A fresh address: allauth throttles mail per address (one verification mail every three
    minutes), across the tests of a run."""
    return f"{name}-{uuid.uuid4().hex[:8]}@example.test"


def _mailed_key(to: str, page: str) -> str:
    """The key in the newest mail to `to` that links to `page` (`/account/verify-email/`, ...)."""
    for message in reversed(mail.outbox):
        if to in message.to and (found := re.search(rf"{page}([^\s/]+)", str(message.body))):
            return unquote(found.group(1))
    raise AssertionError(f"no mail to {to} links to {page}")


OLD_PASSWORD = "the-old-long-password"
NEW_PASSWORD = "the-new-long-password"


def _logged_in(email: str, password: str) -> Client:
    """A browser session logged in through allauth, as the web app logs in."""
    client = Client()
    response = _allauth(client, "POST", "/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return client


def _invitation_to(alice: Actor, email: str) -> tuple[str, int]:
    response = alice.client.post(
        "/api/v2/orgs/acme/invitations", {"email": email, "role": "member"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()["accept_url"].rsplit("/", 1)[1], response.json()["id"]


def test_an_address_that_is_not_verified_cannot_accept_the_invitation_sent_to_it(
    alice: Actor,
) -> None:
    """Finding 7: only an address the person has verified proves the invitation is theirs. Eve
    (verified as eve@) adds the invited address as her new email but cannot open its mail: by
    link, by id and in her list, the invitation stays out of her reach; once the address is
    verified through its link, she accepts."""
    newbie = _address("newbie")
    token, invitation_id = _invitation_to(alice, newbie)
    user_create(email="eve@example.test", password=OLD_PASSWORD, is_email_verified=True)
    eve = _logged_in("eve@example.test", OLD_PASSWORD)
    assert _allauth(eve, "POST", "/account/email", {"email": newbie}).status_code == 200

    by_link = eve.post(
        "/api/v2/invitations/accept", {"token": token}, content_type="application/json"
    )
    by_id = eve.post(f"/api/v2/me/invitations/{invitation_id}/accept")
    listed = eve.get("/api/v2/me/invitations")

    assert (by_link.status_code, by_link.json()["type"]) == (403, "/problems/email-unverified")
    assert f"{newbie}, which you have not verified" in by_link.json()["detail"]
    assert by_id.status_code == 404
    assert listed.json() == []
    assert not Membership.objects.filter(org=alice.org, user__email="eve@example.test").exists()
    assert Invitation.objects.get(pk=invitation_id).accepted_at is None
    # Verified through the link mailed to it, the address is hers (and her email now).
    key = _mailed_key(newbie, "/account/verify-email/")
    assert _allauth(eve, "POST", "/auth/email/verify", {"key": key}).status_code == 200
    accepted = eve.post(
        "/api/v2/invitations/accept", {"token": token}, content_type="application/json"
    )
    assert accepted.status_code == 201, accepted.content
    assert Membership.objects.get(org=alice.org, user__email=newbie).role.key == "member"


def test_an_account_email_that_allauth_never_verified_does_not_prove_an_invitation(
    alice: Actor,
) -> None:
    """Finding 7: the account's `email` field alone is no proof (set by an operator or a bug
    without allauth's verified record): an invitation to it is refused, nothing changes."""
    token, invitation_id = _invitation_to(alice, "newbie@example.test")
    user = user_create(email="eve@example.test", password=None, is_email_verified=True)
    User.objects.filter(pk=user.pk).update(email="newbie@example.test")
    eve = Client()
    eve.force_login(user)

    response = eve.post(
        "/api/v2/invitations/accept", {"token": token}, content_type="application/json"
    )

    assert (response.status_code, response.json()["type"]) == (403, "/problems/permission-denied")
    assert Invitation.objects.get(pk=invitation_id).accepted_at is None
    assert not Membership.objects.filter(user=user).exists()


def test_sign_up_with_a_taken_address_answers_exactly_like_a_new_one() -> None:
    """Finding 7: sign-up told whether an address had an account. With strict enumeration
    prevention both answer the same (a pending verification, nobody logged in); the new address
    gets its verification link, the owner of the taken one a "someone tried to sign up" mail, and
    the existing account is untouched."""
    olga, nora = _address("olga"), _address("nora")
    owner = user_create(email=olga, password=OLD_PASSWORD, is_email_verified=True)
    new, taken = Client(), Client()

    answers = [
        _allauth(client, "POST", "/auth/signup", {"email": email, "password": NEW_PASSWORD})
        for client, email in ((new, nora), (taken, olga))
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(401, PENDING_VERIFICATION)] * 2
    assert [new.get("/api/v2/me").status_code, taken.get("/api/v2/me").status_code] == [401, 401]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([nora], "[Taskscore] Please Confirm Your Email Address"),
        ([olga], "[Taskscore] Account Already Exists"),
    ]
    assert "/account/verify-email/" not in str(mail.outbox[1].body)
    assert User.objects.filter(email=olga).count() == 1
    owner.refresh_from_db()
    assert owner.check_password(OLD_PASSWORD)


def test_a_password_reset_for_an_unknown_address_answers_like_one_for_a_known_address() -> None:
    """Finding 7: the reset request answers the same whether the address has an account; only
    the mail differs (a reset link, or "no account here, sign up")."""
    olga, nobody = _address("olga"), _address("nobody")
    user_create(email=olga, password=OLD_PASSWORD, is_email_verified=True)

    answers = [
        _allauth(Client(), "POST", "/auth/password/request", {"email": email})
        for email in (olga, nobody)
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"status": 200})] * 2
    by_address = {m.to[0]: str(m.body) for m in mail.outbox}
    assert "/account/password/reset/" in by_address[olga]
    assert "/account/password/reset/" not in by_address[nobody]
    assert "/signup" in by_address[nobody]


def test_nobody_is_logged_in_before_verifying_and_the_link_logs_them_in() -> None:
    """Finding 7: verification is mandatory. After sign-up the person is not logged in (the API
    answers 401, no org can be made); logging in again only says a verification is pending; the
    mailed link, opened in the browser that signed up, verifies the address and logs them in."""
    browser = Client()
    signup = {"email": _address("nora"), "password": NEW_PASSWORD}
    assert _allauth(browser, "POST", "/auth/signup", signup).json() == PENDING_VERIFICATION

    me = browser.get("/api/v2/me")
    org = browser.post("/api/v2/orgs", {"name": "Nora's"}, content_type="application/json")
    login = _allauth(Client(), "POST", "/auth/login", signup)

    assert (me.status_code, org.status_code) == (401, 401)
    assert (login.status_code, login.json()) == (401, PENDING_VERIFICATION)
    verify = _allauth(browser, "POST", "/auth/email/verify", {
        "key": _mailed_key(signup["email"], "/account/verify-email/"),
    })  # fmt: skip
    assert (verify.status_code, verify.json()["meta"]["is_authenticated"]) == (200, True)
    assert browser.get("/api/v2/me").json()["email_verified"] is True
    created = browser.post("/api/v2/orgs", {"name": "Nora's"}, content_type="application/json")
    assert created.status_code == 201
    # Verified, the password logs in anywhere.
    assert _allauth(Client(), "POST", "/auth/login", signup).status_code == 200


# -------------------------------------------------------------------------------------- argon2


@pytest.mark.parametrize("module", ["config.settings.production", "config.settings.local"])
def test_served_settings_hash_passwords_with_argon2_first(module: str) -> None:
    """argon2: production and `make run` hash with Argon2id (tests keep MD5 for speed)."""
    code = f"import {module} as s; print(s.PASSWORD_HASHERS[0])"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND_DIR,
        env={"PATH": "/usr/bin:/bin", "MAIL_OUTBOX_DIR": "", **_production_secrets()},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert (done.returncode, done.stdout.strip()) == (
        0, "django.contrib.auth.hashers.Argon2PasswordHasher"
    ), done.stderr  # fmt: skip


@override_settings(PASSWORD_HASHERS=base_settings.PASSWORD_HASHERS)
def test_a_password_is_stored_as_argon2id_and_an_older_hash_is_upgraded_at_log_in() -> None:
    """argon2: a sign-up stores an Argon2id hash; a password hashed before (PBKDF2) still logs
    in, and is stored as Argon2id from then on."""
    nora, olga = _address("nora"), _address("olga")
    _allauth(Client(), "POST", "/auth/signup", {"email": nora, "password": NEW_PASSWORD})
    with override_settings(PASSWORD_HASHERS=base_settings.PASSWORD_HASHERS[1:]):
        older = user_create(email=olga, password=OLD_PASSWORD, is_email_verified=True)
    assert older.password.startswith("pbkdf2_sha256$")

    _logged_in(olga, OLD_PASSWORD)

    assert User.objects.get(email=nora).password.startswith("argon2$argon2id$")
    older.refresh_from_db()
    assert older.password.startswith("argon2$argon2id$")


# ------------------------------------------------------------------------------------ sessions


def test_a_password_change_ends_every_other_session() -> None:
    """sessions: a changed password logs out the person's other sessions (a stolen session
    dies with the old password); the session that changed it stays in."""
    olga = _address("olga")
    user_create(email=olga, password=OLD_PASSWORD, is_email_verified=True)
    laptop, phone = (_logged_in(olga, OLD_PASSWORD) for _ in range(2))
    assert phone.get("/api/v2/me").status_code == 200

    changed = _allauth(laptop, "POST", "/account/password/change", {
        "current_password": OLD_PASSWORD, "new_password": NEW_PASSWORD,
    })  # fmt: skip

    assert changed.status_code == 200
    assert phone.get("/api/v2/me").status_code == 401
    assert phone.get(f"{BROWSER_API}/auth/session").status_code == 401
    assert laptop.get("/api/v2/me").status_code == 200
    _logged_in(olga, NEW_PASSWORD)


def test_a_password_reset_ends_every_session_from_before_it() -> None:
    """sessions: a reset through the mailed link logs out every session that was open (the
    person may be resetting because one was stolen); the browser that reset it is logged in."""
    olga = _address("olga")
    user_create(email=olga, password=OLD_PASSWORD, is_email_verified=True)
    stolen = _logged_in(olga, OLD_PASSWORD)
    browser = Client()
    _allauth(browser, "POST", "/auth/password/request", {"email": olga})
    key = _mailed_key(olga, "/account/password/reset/")

    reset = _allauth(
        browser, "POST", "/auth/password/reset", {"key": key, "password": NEW_PASSWORD}
    )

    assert reset.status_code == 200
    assert stolen.get("/api/v2/me").status_code == 401
    assert browser.get("/api/v2/me").status_code == 200


# ------------------------------------------------------------------------------------ Finding 3
# Every browser request reaches Django from the web app's server, which sets X-Forwarded-For to
# the client's address (frontend/server.mjs); Django counts that one entry (TRUSTED_PROXY_HOPS 1).
# Here requests arrive as the web app sends them; tests/e2e/test_security_edge.py sends them
# through the real web app (a client's own X-Forwarded-For ignored, two client addresses told
# apart, the log-in page's message).

LOGIN_PASSWORD = "a-long-login-password"


def _log_in_from(client_address: str, email: str, password: str, **meta: Any) -> Any:
    """A log-in as Django receives it from the web app for a client at `client_address`."""
    return Client().post(
        f"{ALLAUTH}/login", json.dumps({"email": email, "password": password}),
        content_type="application/json",
        REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address, **meta,
    )  # fmt: skip


def _error_codes(response: Any) -> list[str]:
    return [error.get("code") for error in response.json().get("errors", [])]


def test_ten_wrong_passwords_from_one_address_do_not_lock_out_another_client() -> None:
    """Finding 3: allauth's per-address limits saw one address (the web app's), so ten wrong
    passwords in a minute from anyone locked everyone out. Each client's address counts now:
    the address that sent them (one guess at each of ten accounts) is refused, even with a
    right password; another address logs in."""
    victims = [_address("victim") for _ in range(10)]
    own, neighbours = _address("own"), _address("neighbour")
    for email in (*victims, own, neighbours):
        user_create(email=email, password=LOGIN_PASSWORD, is_email_verified=True)
    attacker, neighbour = "198.51.100.31", "198.51.100.32"

    wrong = [_log_in_from(attacker, victim, "not-the-password") for victim in victims]
    refused = _log_in_from(attacker, own, LOGIN_PASSWORD)
    admitted = _log_in_from(neighbour, neighbours, LOGIN_PASSWORD)

    assert [_error_codes(r) for r in wrong] == [["email_password_mismatch"]] * 10
    assert (refused.status_code, _error_codes(refused)) == (400, ["too_many_login_attempts"])
    assert admitted.status_code == 200


def test_failed_logins_for_one_account_are_limited_whatever_the_address_or_host() -> None:
    """Finding 3, per account: after five wrong passwords for one account in five minutes, from
    five addresses (and five `Host` headers, which allauth's own count was keyed on), even the
    right password is refused; those addresses are not locked out of other accounts."""
    victim, other = _address("victim"), _address("other")
    for email in (victim, other):
        user_create(email=email, password=LOGIN_PASSWORD, is_email_verified=True)

    wrong = [
        _log_in_from(f"198.51.100.{40 + n}", victim, "not-the-password",
                     HTTP_HOST=f"localhost:{8000 + n}")
        for n in range(5)
    ]  # fmt: skip
    refused = _log_in_from("198.51.100.50", victim, LOGIN_PASSWORD)
    admitted = _log_in_from("198.51.100.40", other, LOGIN_PASSWORD)

    assert [_error_codes(r) for r in wrong] == [["email_password_mismatch"]] * 5
    assert (refused.status_code, _error_codes(refused)) == (400, ["too_many_login_attempts"])
    assert admitted.status_code == 200


# ---------------------------------------------------------------------------- Finding 4: headers


def _api_200(alice: Actor) -> Any:
    return alice.client.get("/api/v2/me")


def _api_404(alice: Actor) -> Any:
    return Client().get("/api/v2/no-such-endpoint")


def _api_405(alice: Actor) -> Any:
    return alice.client.delete("/api/v2/me")


def _problem_422(alice: Actor) -> Any:
    return alice.client.post("/api/v2/orgs/acme/tasks", "{}", content_type="application/json")


def _api_429(alice: Actor) -> Any:
    client = Client(HTTP_AUTHORIZATION=f"Bearer ts_{'0' * 12}_{'A' * 40}", REMOTE_ADDR="192.0.2.9")
    with override_settings(RATE_LIMIT_FAILED_AUTH_PER_MINUTE=1):
        client.get("/api/v2/orgs/acme/tasks")
        return client.get("/api/v2/orgs/acme/tasks")


def _api_500(alice: Actor) -> Any:
    with override_settings(STRIPE_WEBHOOK_SECRET=""):
        return Client().post("/api/webhooks/stripe", "{}", content_type="application/json")


def _readyz_503(alice: Actor) -> Any:
    with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):  # port 9 is closed on loopback
        return Client().get("/readyz")


def _allauth_401(alice: Actor) -> Any:
    return Client().get(f"{ALLAUTH}/session")


def _static_file(alice: Actor) -> Any:
    return Client().get("/static/ninja/swagger-ui.css")


def _api_docs(alice: Actor) -> Any:
    return Client().get("/api/v2/docs")


def _django_404_page(alice: Actor) -> Any:
    return Client().get("/no-such-page")


ANSWERS: dict[str, tuple[Callable[[Actor], Any], int, str]] = {
    "API 200": (_api_200, 200, DATA_POLICY),
    "API 404": (_api_404, 404, DATA_POLICY),
    "API 405": (_api_405, 405, DATA_POLICY),
    "problem JSON 422": (_problem_422, 422, DATA_POLICY),
    "API 429": (_api_429, 429, DATA_POLICY),
    "API 500": (_api_500, 500, DATA_POLICY),
    "/readyz 503": (_readyz_503, 503, DATA_POLICY),
    "allauth 401": (_allauth_401, 401, DATA_POLICY),
    "static file": (_static_file, 200, DATA_POLICY),
    "API docs page": (_api_docs, 200, PAGE_POLICY),
    "Django's 404 page": (_django_404_page, 404, PAGE_POLICY),
}


@pytest.mark.parametrize("kind", ANSWERS)
def test_every_kind_of_answer_carries_the_security_headers(alice: Actor, kind: str) -> None:
    """Finding 4: Content-Security-Policy (nothing loads in a JSON answer; a page's scripts and
    styles from this origin only; no framing), Permissions-Policy, no MIME sniffing and no
    Referer leaving the site, on every answer Django gives, errors and static files included.
    The web app's pages: tests/e2e/test_security_edge.py."""
    make, status, policy = ANSWERS[kind]

    response = make(alice)

    assert response.status_code == status
    assert response["Content-Security-Policy"] == policy
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_readyz_with_its_dependencies_down_names_them_without_their_errors() -> None:
    """Finding 4: `/readyz` answered each failure's text (hosts, ports, the driver's words) to
    anyone. With Postgres, Redis and the broker all down (closed ports, a separate process), it
    names them and says nothing more; the errors are in the log."""
    closed = f"127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://postgres@{closed}/taskscore",
        DATABASE_POOL_MAX_SIZE="0",
        REDIS_URL=f"redis://{closed}/0",
        CELERY_BROKER_URL=f"redis://{closed}/0",
    )
    program = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='127.0.0.1').get('/readyz'); "
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )

    done = subprocess.run(
        [sys.executable, "-c", program], cwd=BACKEND_DIR, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip

    answer = json.loads(done.stdout.strip().splitlines()[-1])
    answer["body"].pop("request_id", None)  # the log's id for this request, whatever it is
    assert answer == {
        "status": 503,
        "body": {
            "type": "/problems/not-ready",
            "title": "Not ready",
            "status": 503,
            "detail": "Unreachable: postgres, redis, permission_cache, ai_cache, broker.",
            "checks": {
                "postgres": "error",
                "redis": "error",
                "permission_cache": "error",
                "ai_cache": "error",
                "broker": "error",
            },
        },
    }
    for name in ("postgres", "redis", "broker"):
        assert f"readiness: {name} does not answer" in done.stderr
    assert closed.split(":")[1] in done.stderr  # the reason, for the operator


@pytest.mark.parametrize(
    ("stripe_status", "status", "detail"),
    [
        (503, 503, "Stripe did not answer; try again shortly."),
        (400, 502, "Stripe refused the request; it has been logged."),
    ],
)
def test_a_stripe_failure_is_answered_in_our_words_and_its_text_logged(
    alice: Actor,
    fake_stripe: FakeStripeServer,
    caplog: pytest.LogCaptureFixture,
    stripe_status: int,
    status: int,
    detail: str,
) -> None:
    """Finding 4: a 5xx answer carried Stripe's own error text (ids, parameters, hosts); now the
    answer says what happened in our words, and Stripe's text goes to the log."""
    fake_stripe.fail_next(stripe_status, count=1 + settings.STRIPE_MAX_NETWORK_RETRIES)

    response = alice.client.post(
        "/api/v2/orgs/acme/billing/checkout", json.dumps({"plan": "pro"}),
        content_type="application/json",
    )  # fmt: skip

    assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert "fake" not in response.content.decode()  # the stand-in's error message
    assert "fake" in caplog.text


# ------------------------------------------------------------------------------ API keys: expiry
# A key may be made to expire (1 to 366 days, or never). Past its expiry it authenticates as
# nothing: 401 saying it expired (only to the holder of its secret), refused from the permission
# cache without SQL, and never trusted past the moment even while its grant is cached.


def test_a_key_made_to_expire_says_when_and_works_until_then(
    alice: Actor, org: Organization
) -> None:
    org_plan_grant(org, "pro")
    # when alice creates a key that expires in 7 days
    before = timezone.now()
    response = alice.client.post(
        "/api/v2/orgs/acme/api-keys", {"name": "ci", "role": "viewer", "expires_in_days": 7},
        content_type="application/json",
    )  # fmt: skip
    after = timezone.now()
    # then the answer says when, and the key works
    assert response.status_code == 201, response.content
    created = response.json()
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert before + timedelta(days=7) <= expires_at <= after + timedelta(days=7)
    assert created["status"] == "active"
    used = Client().get("/api/v2/orgs/acme/tasks", headers=_bearer(created["token"]))
    assert used.status_code == 200
    # and the list shows its expiry and its last use
    [listed] = alice.client.get("/api/v2/orgs/acme/api-keys").json()["items"]
    assert (listed["status"], listed["expires_at"]) == ("active", created["expires_at"])
    assert listed["last_used_at"] is not None
    [event] = AuditEvent.objects.filter(action="api_key.created")
    assert event.after is not None
    assert abs(datetime.fromisoformat(event.after["expires_at"]) - expires_at) < timedelta(
        milliseconds=1
    )  # the API's moments are to the millisecond


@pytest.mark.django_db(transaction=True)  # committed, so the key's grant is cached
def test_an_expired_key_is_a_401_saying_so_and_is_refused_from_the_cache_without_sql(
    alice: Actor, org: Organization
) -> None:
    # given a key made 8 days ago to last 7
    org_plan_grant(org, "pro")
    created = api_key_create(
        org=org, name="old", role_key="owner", caller=OPERATOR, expires_in_days=7
    )
    secret_register("API key token", created.token)
    ApiKey.objects.filter(pk=created.api_key.pk).update(
        created_at=timezone.now() - timedelta(days=8), expires_at=timezone.now() - timedelta(days=1)
    )
    url = "/api/v2/orgs/acme/tasks"
    # when it is used
    first = Client().get(url, headers=_bearer(created.token))
    # then 401, saying it expired and no more
    problem = first.json()
    assert (first.status_code, problem["type"]) == (401, "/problems/not-authenticated")
    assert problem["detail"] == "This API key has expired; create a new one."
    assert first["WWW-Authenticate"].startswith("Bearer")
    # and again: answered from the permission cache, no SQL
    with CaptureQueriesContext(connection) as queries:
        again = Client().get(url, headers=_bearer(created.token))
    assert (again.status_code, again.json()["detail"], len(queries)) == (401, problem["detail"], 0)
    # and a wrong secret with its prefix learns nothing of the expiry
    wrong = f"ts_{created.api_key.prefix}_{'x' * 43}"
    assert Client().get(url, headers=_bearer(wrong)).json()["detail"] != problem["detail"]
    # and the list says it expired
    [listed] = alice.client.get("/api/v2/orgs/acme/api-keys").json()["items"]
    assert listed["status"] == "expired"


@pytest.mark.django_db(transaction=True)  # committed, so the key's grant is cached
def test_a_cached_grant_is_not_trusted_past_the_key_s_expiry(org: Organization) -> None:
    # given a key that expires in a day, its grant cached by a first use
    created = api_key_create(
        org=org, name="ci", role_key="viewer", caller=OPERATOR, expires_in_days=1
    )
    secret_register("API key token", created.token)
    assert principal_for_token(created.token) is not None
    expires_at = ApiKey.objects.get(pk=created.api_key.pk).expires_at
    assert expires_at is not None
    moment = expires_at.timestamp()
    with CaptureQueriesContext(connection) as queries:
        # then the cached grant serves it up to its expiry, and not from that moment
        assert principal_for_token(created.token, now=moment - 1) is not None
        with pytest.raises(ApiKeyExpired):
            principal_for_token(created.token, now=moment)
    assert len(queries) == 0  # both from the cache


@pytest.mark.parametrize("days", [0, -1, 367, "7", True, 7.5])
def test_an_expiry_outside_1_to_366_days_is_a_422_and_creates_nothing(
    alice: Actor, org: Organization, days: Any
) -> None:
    org_plan_grant(org, "pro")
    response = alice.client.post(
        "/api/v2/orgs/acme/api-keys", {"name": "ci", "expires_in_days": days},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["expires_in_days"]
    assert ApiKey.objects.count() == 0


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------------------ Logs
# Every process logs one JSON object per line with the request id (X-Request-ID, carried into the
# jobs a request enqueues), and secrets are never logged: a filter redacts them, and the logs of
# the whole test run are scanned for every secret the run used (conftest.py, testing/log_scan.py).


@pytest.mark.parametrize(
    ("sent", "is_kept"),
    [
        ("req-7f3a9c", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("bad id", False),
        ("x\r\nSet-Cookie: y", False),
        ('"}{"level":"ERROR', False),
        ("", False),
    ],
)
def test_every_answer_carries_the_request_id_it_was_given_if_well_formed(
    sent: str, is_kept: bool
) -> None:
    answers = [
        Client().get("/api/v2/orgs/acme/tasks", headers={"X-Request-ID": sent}),  # a 401 problem
        Client().get("/healthz", headers={"X-Request-ID": sent}),
        Client().get(f"{ALLAUTH}/session", headers={"X-Request-ID": sent}),
    ]
    ids = {answer["X-Request-ID"] for answer in answers}
    if is_kept:
        assert ids == {sent}
    else:
        assert len(ids) == 3
        assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    # and the problem JSON quotes it
    assert answers[0].json()["request_id"] == answers[0]["X-Request-ID"]


def _json_lines(handler_stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in handler_stream.getvalue().splitlines()]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the production handler (settings.LOGGING's: JSON, context, redaction) writes for the
    logger `taskscore.test`."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("taskscore.test")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_a_log_line_is_one_json_object_with_the_context_s_ids(log_output: io.StringIO) -> None:
    logger = logging.getLogger("taskscore.test")
    token = request_context.begin(request_id="req-1")
    try:
        request_context.bind(org_id=7, task_id="t-1")
        logger.info("scored %s", "t-1", extra={"duration_ms": 12.5, "request": object()})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    finally:
        request_context.end(token)
    logger.warning("outside any request")
    first, failed, outside = _json_lines(log_output)
    assert {k: v for k, v in first.items() if k != "time"} == {
        "level": "INFO", "logger": "taskscore.test", "message": "scored t-1",
        "request_id": "req-1", "org_id": 7, "task_id": "t-1", "duration_ms": 12.5,
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert failed["exception"].endswith("ValueError: boom")
    assert "request_id" not in outside


def test_secrets_are_redacted_from_every_log_line(log_output: io.StringIO) -> None:
    """Headers a logger may see (Django's request repr, an error's text) lose their values."""
    key, _ = key_generate()
    session_id, csrf = secrets.token_hex(16), secrets.token_hex(32)
    signature = f"t=1700000000,v1={secrets.token_hex(32)}"
    meta = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_COOKIE": f"sessionid={session_id}",
            "HTTP_X_CSRFTOKEN": csrf, "HTTP_STRIPE_SIGNATURE": signature}  # fmt: skip
    logger = logging.getLogger("taskscore.test")
    logger.error("Internal Server Error: /api/v2/orgs/acme/tasks META=%r", meta)
    logger.info('sent {"password": "hunter2-and-more", "email": "a@b.test"} with %s', key)
    try:
        raise RuntimeError(f"Authorization: Bearer {key}\nCookie: csrftoken={csrf}")
    except RuntimeError:
        logger.exception("Stripe-Signature: %s", signature)
    text = log_output.getvalue()
    lines = _json_lines(log_output)  # still JSON
    for secret in (key.split("_")[2], session_id, csrf, signature, "hunter2-and-more"):
        assert secret not in text
    assert f"ts_{key_parse(key).prefix}_[redacted]" in lines[1]["message"]  # type: ignore[union-attr]
    assert "a@b.test" in lines[1]["message"]


def test_the_log_scan_finds_a_planted_secret_naming_the_file_and_the_line(tmp_path: Path) -> None:
    """The check over the run's logs can fail: each kind of secret planted in a log is found,
    named by file and line, and not printed."""
    key, _ = key_generate()
    session_id = secrets.token_hex(16)
    clean = tmp_path / "gunicorn.log"
    clean.write_text('{"message": "GET /api/v2/orgs/acme/tasks 200"}\n' * 3)
    dirty = tmp_path / "worker.log"
    dirty.write_text(
        '{"message": "fine"}\n'
        f'{{"message": "calling with {key}"}}\n'  # line 2: a registered key
        f"GET /x?next=%2F%3Fs%3D{session_id}\n"  # line 3: a session id, URL-encoded
        '{"message": "login with correct-horse-battery-staple"}\n'  # line 4: a password
        f"Stripe-Signature t=1,v1={secrets.token_hex(32)}\n"  # line 5: a shape, unregistered
        '{"message": "Authorization: [redacted]", "key": "ts_0123456789ab_[redacted]"}\n'
    )
    registered = {key: "API key token", session_id: "cookie",
                  "correct-horse-battery-staple": "password"}  # fmt: skip

    findings = scan_files([clean, dirty], registered)

    assert [(f.path.name, f.line, f.kind) for f in findings] == [
        ("worker.log", 2, "registered API key token"),
        ("worker.log", 2, "API key token"),
        ("worker.log", 3, "registered cookie"),
        ("worker.log", 4, "registered password"),
        ("worker.log", 5, "Stripe signature"),
    ]
    report = "\n".join(str(f) for f in findings)
    assert f"{dirty}:2: registered API key token" in report
    for secret in registered:
        assert secret not in report


def test_the_secrets_this_run_uses_are_registered_for_the_scan(alice: Actor) -> None:
    """The scan is only as good as its list: a log-in's password and session, a key's token and
    a webhook's signature that cross HTTP are on it."""
    directory = run_dir()
    assert directory is not None, "the run directory is made by conftest.py"
    org_plan_grant(alice.org, "pro")
    password = f"pw-{secrets.token_hex(8)}"
    user_create(email="logs@acme.test", password=password, is_email_verified=True)
    browser = Client()
    browser.post(
        f"{ALLAUTH}/login", {"email": "logs@acme.test", "password": password},
        content_type="application/json",
    )  # fmt: skip
    created = alice.client.post(
        "/api/v2/orgs/acme/api-keys", {"name": "ci"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    registered = secrets_registered(directory)
    assert password in registered
    assert alice.client.cookies[settings.SESSION_COOKIE_NAME].value in registered
    assert created.json()["token"] in registered


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_request_and_the_job_it_enqueued_log_json_lines_with_one_request_id(
    api_service: ApiService, celery_worker: Process, owner_key: CreatedKey
) -> None:
    rid = f"itest-{uuid.uuid4().hex}"
    # (the server is shared with earlier tests, whose mail the console backend printed)
    before = len(api_service.process.log())
    # when a task is submitted through gunicorn with a request id
    response = requests.post(
        f"{api_service.url}/api/v2/orgs/acme/tasks",
        json={"title": f"Logs {rid}", "attributes": {"reach": 100}},
        headers={**_bearer(owner_key.token), "X-Request-ID": rid},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == rid
    task_id = response.json()["id"]
    # then gunicorn logs JSON lines only, its access line with the id and the org
    _wait_for(lambda: rid in api_service.process.log())
    web = [json.loads(line) for line in api_service.process.log()[before:].splitlines() if line]
    [access] = [line for line in web if line.get("request_id") == rid]
    assert (access["logger"], access["status"], access["org_id"]) == (
        "taskscore.request", 201, owner_key.api_key.org_id
    )  # fmt: skip
    # and the worker's lines for the job it enqueued carry the same id: the AI call's too
    _wait_for(lambda: Task.objects.get(pk=task_id).status == "scored", seconds=30)

    def job_lines() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in celery_worker.log().splitlines()
                 if line.startswith("{") and rid in line]  # fmt: skip
        return [line for line in lines if line.get("request_id") == rid]

    _wait_for(lambda: any("succeeded" in line["message"] for line in job_lines()))
    lines = job_lines()
    [ai_line] = [line for line in lines if line["logger"] == "taskscore.scoring.ai"]
    assert (ai_line["task_id"], ai_line["org_id"], ai_line["job"]) == (
        task_id, owner_key.api_key.org_id, "taskscore.tasks.jobs.task_score"
    )  # fmt: skip
    assert ai_line["message"] == "AI assessment made"


# ------------------------------------------------------------------------------------------- MFA
# Two-factor authentication (allauth.mfa: an authenticator app's codes and recovery codes) and an
# org's requirement of it for owners and admins. The log-in with a code, recovery codes used once,
# reauthentication, the setting (owner only, in person, audited) and the web app's gate are tested
# in tests/test_mfa.py and tests/e2e/test_two_factor_journey.py; this is the requirement's core.


def test_an_org_that_requires_two_factor_refuses_an_admin_without_it_but_not_its_keys(
    alice: Actor, owner_key: CreatedKey
) -> None:
    """MFA: an admin of an org that requires two-factor gets 403 `mfa-required` until they set
    it up; a member and the org's API keys are not affected."""
    dave = join("dave@acme.test", alice.org, role_builtin("admin"))
    bob = join("bob@acme.test", alice.org, role_builtin("member"))
    TOTP.activate(User.objects.get(email=alice.email), generate_totp_secret())
    response = alice.client.patch(
        "/api/v2/orgs/acme/security",
        {"mfa_required_for_admins": True},
        content_type="application/json",
    )
    assert response.status_code == 200

    refused = dave.client.get("/api/v2/orgs/acme/tasks")
    assert (refused.status_code, refused.json()["type"]) == (403, "/problems/mfa-required")
    assert bob.client.get("/api/v2/orgs/acme/tasks").status_code == 200
    by_key = Client().get("/api/v2/orgs/acme/tasks", headers=_bearer(owner_key.token))
    assert by_key.status_code == 200
    TOTP.activate(User.objects.get(email=dave.email), generate_totp_secret())
    assert dave.client.get("/api/v2/orgs/acme/tasks").status_code == 200


# ------------------------------------------------------------------------ Finding 12: the contract


def _attribute(key: str, **bounds: float) -> dict[str, Any]:
    return {
        "kind": "attribute",
        "key": key,
        "label": key,
        "weight": 1,
        "attribute": "reach",
    } | bounds


def _ai(key: str) -> dict[str, Any]:
    return {"kind": "ai", "key": key, "label": key, "weight": 1, "rubric": "Is it clear?"}


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        pytest.param(
            [_attribute("a", min=5, max=5)], "criteria.0.attribute", id="max-not-above-min"
        ),
        pytest.param([_attribute("a", min=2)], "criteria.0.attribute", id="min-above-default-max"),
        pytest.param([_attribute("a"), _attribute("a")], "criteria.1.key", id="keys-repeated"),
        pytest.param([_ai(f"q{n}") for n in range(6)], "criteria", id="six-ai-criteria"),
    ],
)
def test_the_rules_between_criteria_are_in_the_document_and_enforced(
    alice: Actor, criteria: list[dict[str, Any]], field: str
) -> None:
    """Finding 12: the API refused criteria whose max was not above their min, repeated keys and
    more than 5 AI criteria, which the document did not say (schema-valid input answered 422).
    It says them now: `x-greater-than` and `x-unique-by` (extensions the contract test teaches
    the generator) and JSON Schema's `maxContains`."""
    document = Client().get("/api/v2/openapi.json").json()
    schemas = document["components"]["schemas"]
    listed = schemas["PreviewRunIn"]["properties"]["criteria"]

    response = alice.client.post(
        "/api/v2/orgs/acme/scoring/previews/estimate",
        {"criteria": criteria},
        content_type="application/json",
    )

    assert schemas["AttributeCriterion"]["x-greater-than"] == {"max": "min"}
    assert (listed["x-unique-by"], listed["maxContains"]) == ("key", 5)
    assert listed["contains"]["properties"]["kind"] == {"const": "ai"}
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_the_document_links_what_an_answer_names_to_the_operations_that_take_it() -> None:
    """Finding 12: schemathesis' state machine chains operations along the document's links (a
    created task → reading it; a page → the next page). They are generated from the code, so
    the committed document has them and the drift check covers them."""
    document = Client().get("/api/v2/openapi.json").json()
    created = document["paths"]["/api/v2/orgs/{org}/tasks"]["post"]["responses"]["201"]["links"]
    listed = document["paths"]["/api/v2/orgs/{org}/tasks"]["get"]["responses"]["200"]["links"]

    assert created["TaskGet"] == {
        "operationId": "task_get",
        "parameters": {"path.org": "$request.path.org", "path.task_id": "$response.body#/id"},
    }
    assert listed["TaskList"]["parameters"]["query.cursor"] == "$response.body#/next_cursor"
    committed = json.loads((Path(settings.BASE_DIR) / "openapi" / "v2.json").read_text())
    assert committed["paths"]["/api/v2/orgs/{org}/tasks"]["post"]["responses"]["201"]["links"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v2/orgs/acme/roles", {"key": "owner", "name": "O", "permissions": []}, "key"),
        ("/api/v2/orgs/acme/roles", {"key": "ab", "name": " ", "permissions": []}, "name"),
        ("/api/v2/orgs/acme/roles", {"key": "ab", "name": "A", "permissions": ["x.y"]}, None),
        ("/api/v2/orgs/acme/invitations", {"email": "000", "role": "member"}, "email"),
        ("/api/v2/orgs/acme/billing/checkout", {"plan": "free"}, "plan"),
    ],
)
def test_a_rule_the_api_enforces_on_a_field_is_in_the_document(
    alice: Actor, path: str, body: dict[str, Any], field: str | None
) -> None:
    """Finding 12 (found by schemathesis' positive_data_acceptance): each of these answered 422
    to a body its document called valid. Each rule is now in the document as a pattern, an enum
    or a `not`, and the API refuses what breaks it (422 naming the field)."""
    org_plan_grant(alice.org, "business")
    document = Client().get("/api/v2/openapi.json").json()
    operation = document["paths"][path.replace("/acme/", "/{org}/")]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]

    response = alice.client.post(path, body, content_type="application/json")

    assert response.status_code == 422
    if field is None:  # permissions: the catalogue's enum
        assert "$ref" in schema["properties"]["permissions"]["items"]
    else:
        stated = schema["properties"][field]
        assert "pattern" in stated or "not" in stated, stated
        assert field in [e["field"] for e in response.json()["errors"]]


# ------------------------------------------------------------------------------------------ CSRF
def test_every_write_a_browser_session_may_make_needs_the_csrf_token(alice: Actor) -> None:
    """CSRF on session writes: each of v2's POST, PUT, PATCH and DELETE operations that a
    browser session may call, sent with the owner's session and CSRF cookie but without the
    X-CSRFToken header (what another site's form or fetch can do), is a 403 problem before
    anything runs, and nothing is written."""
    document = Client().get("/api/v2/openapi.json").json()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(email=alice.email))
    browser.get("/api/v2/auth/csrf")  # the cookie is there; the header will not be
    assert browser.cookies["csrftoken"].value
    values = {"org": "acme", "key": "custom-role", "number": "1", "token": "t" * 40}
    writes: list[tuple[str, str]] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"post", "put", "patch", "delete"} and {"BrowserSessionAuth": []} in (
                operation.get("security") or []
            ):
                writes.append((method, re.sub(
                    r"\{(\w+)\}", lambda m: values.get(m[1], str(uuid.uuid4()) if m[1].endswith(
                        "_id") else "1"), path,
                )))  # fmt: skip
    assert len(writes) >= 30
    before = (Task.objects.count(), AuditEvent.objects.count(), ApiKey.objects.count())
    for method, path in writes:
        response = browser.generic(method.upper(), path, "{}", content_type="application/json")
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["type"] == "/problems/http-403", (method, path)
    assert (Task.objects.count(), AuditEvent.objects.count(), ApiKey.objects.count()) == before


# ------------------------------------------------------------------------------- key hashing
def test_no_column_of_the_keys_table_holds_a_key_or_its_secret(org: Organization) -> None:
    """Key hashing: the database keeps a key's public prefix and a hash of its secret; no column
    of the row (dumped as Postgres sees it) holds the token or the secret part, and the token
    authenticates through the hash."""
    created = api_key_create(org=org, name="ci", role_key="member", caller=OPERATOR)
    _, _, secret = created.token.partition("_")[2].partition("_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM orgs_apikey k")
        [(row,)] = cursor.fetchall()
    assert secret
    assert secret not in row
    assert created.token not in row
    principal = principal_for_token(created.token)
    assert principal is not None
    assert principal.api_key_id == created.api_key.pk
