"""Data rights (ADR 0013): an owner exports all of the org's data (a job writes a gzipped JSON
file into Postgres; it is downloaded while it lasts) and deletes the org (access ends at once;
a job cancels the Stripe subscription and deletes every row of the org in batches).

The deletion tests count the rows of every model that holds an org's rows, found from the app
registry (`datarights.registry.org_models`), so a model added later is counted too."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from redis import Redis

from conftest import Actor, test_process_env
from taskscore.accounts.models import User
from taskscore.audit.models import AuditEvent
from taskscore.audit.services import Actor as AuditActor
from taskscore.billing.gateway import stripe_client_get
from taskscore.billing.models import OrgBilling, StripeEvent
from taskscore.billing.services import billing_checkout_start, plans_seed
from taskscore.datarights.document import NOT_EXPORTED, SECRET_COLUMNS, SECTIONS
from taskscore.datarights.models import (
    DeletionStatus,
    OrgDeletion,
    OrgExport,
    OrgExportChunk,
)
from taskscore.datarights.registry import deletion_order, label, org_models
from taskscore.datarights.services import (
    RetryLater,
    data_rights_requeue_stuck,
    org_deletion_execute,
    org_deletion_request,
    org_export_create,
    org_export_execute,
    org_exports_purge,
)
from taskscore.orgs.models import ApiKey, Invitation, Organization
from taskscore.orgs.services import ai_rules_update, api_key_create, invitation_create
from taskscore.rbac.cache import key_principal, keys_of, member_principal
from taskscore.rbac.callers import FixedCaller
from taskscore.rbac.catalog import OWNER
from taskscore.rbac.services import role_create
from taskscore.scoring.services import preview_run_create
from taskscore.scoring.templates import RICE
from taskscore.tasks.jobs import task_score
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import (
    TaskInput,
    labels_import,
    score_override,
    task_score_run,
    task_submit,
)
from taskscore.testing.factories import MembershipFactory, UserFactory, org_plan_grant
from taskscore.testing.fake_ai import FakeAIServer
from taskscore.testing.processes import free_port, start_gunicorn, start_stripe_standin
from taskscore.testing.stripe_standin.driver import StandinBrowser
from tests.billing_helpers import WEBHOOK_SECRET, invoice_deliver, subscribe

ACME = "/api/v2/orgs/acme"


# ---------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Populated:
    token: str  # an owner API key of the org
    task_ids: list[str]


def caller_of(email: str) -> FixedCaller:
    user = User.objects.get(email=email)
    return FixedCaller(actor=AuditActor(label=email, user_id=user.pk), permissions=OWNER)


def is_scored(task_id: str) -> Callable[[], bool]:
    return lambda: Task.objects.get(pk=task_id).status == TaskStatus.SCORED


def populate(org: Organization, owner_email: str, *, tag: str) -> Populated:
    """One row of every kind an org holds, through the services (scores through the fake AI):
    a custom role and its holder, an invitation, an API key, two scored tasks, an override, a
    calibration label, changed AI rules, a preview run, and the audit events of all that."""
    caller = caller_of(owner_email)
    owner_id = caller.actor.user_id
    org_plan_grant(org, "business")  # keys, custom roles and the audit log
    role = role_create(
        org_id=org.pk, key="analyst", name=f"Analyst {tag}", permissions=["task.read"],
        caller=caller,
    )  # fmt: skip
    MembershipFactory.create(org=org, user=UserFactory.create(email=f"erin@{tag}.test"), role=role)
    invitation_create(org=org, email=f"ivan@{tag}.test", role_key="member", caller=caller)
    key = api_key_create(org=org, name=f"ci {tag}", role_key="owner", caller=caller)
    task_ids = []
    for n in (1, 2):
        task = task_submit(
            org_id=org.pk,
            data=TaskInput(
                title=f"{tag} task {n}",
                description=f"Make {tag}'s reports faster, part {n}.",
                attributes={"reach": 100.0 * n, "impact": 5.0, "confidence": 80.0, "effort": 3.0},
            ),
            user_id=owner_id,
        )
        task_score_run(task_id=task.pk)  # (or a worker, if one runs, did)
        wait(is_scored(str(task.pk)))
        task_ids.append(str(task.pk))
    score_override(
        org_id=org.pk, task_id=task_ids[0], actor=caller.actor, criterion=None, value=55.0,
        reason=f"Reviewed by {tag}",
    )  # fmt: skip
    labels_import(
        org_id=org.pk, csv_text=f"task_id,criterion,rating\n{task_ids[1]},clarity,7\n",
        actor=caller.actor,
    )  # fmt: skip
    ai_rules_update(org_id=org.pk, actor=caller.actor, send_description=False)
    preview_run_create(org_id=org.pk, criteria=RICE.criteria, limit=2, user_id=owner_id)
    return Populated(token=key.token, task_ids=task_ids)


def org_rows(org_id: int) -> dict[str, int]:
    """How many rows of each model belong to the org (the org's own row included)."""
    counts = {
        label(model): model._default_manager.filter(**{path: org_id}).count()
        for model, path in org_models().items()
    }
    return counts | {"orgs.Organization": Organization.objects.filter(pk=org_id).count()}


def ai_cache_keys(org_id: int) -> list[bytes]:
    redis = Redis.from_url(settings.REDIS_URL)
    return list(redis.scan_iter(match=f"{settings.AI_CACHE_KEY_PREFIX}:org:{org_id}:*"))


def post(client: Client, url: str, body: Any = None, *, token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    data = "" if body is None else json.dumps(body)
    return client.post(url, data, content_type="application/json", headers=headers)


def wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def document_of(response: Any) -> tuple[bytes, dict[str, Any]]:
    raw = b"".join(response.streaming_content)
    return raw, json.loads(gzip.decompress(raw))


# ---------------------------------------------------------------------------------- the registry


def test_every_model_holding_an_orgs_rows_is_exported_or_said_why_not() -> None:
    exported = {label(section.model) for section in SECTIONS}
    assert exported.isdisjoint(NOT_EXPORTED)
    assert exported | set(NOT_EXPORTED) == {label(model) for model in org_models()}
    assert len(exported) == len(SECTIONS)  # one section per model


def test_no_column_that_authenticates_is_exported() -> None:
    authenticating = re.compile(r"hash|secret|password")
    for section in SECTIONS:
        for field in section.model._meta.concrete_fields:
            if authenticating.search(field.name):
                assert field.name in SECRET_COLUMNS.get(section.model, ()), (section.name, field)


def test_rows_are_deleted_after_everything_of_the_org_that_refers_to_them() -> None:
    order = [label(model) for model in deletion_order()]
    assert set(order) == {label(model) for model in org_models()}
    for before, after in [
        ("scoring.TaskScore", "scoring.ScoringVersion"),  # PROTECT
        ("scoring.TaskScore", "tasks.Task"),
        ("orgs.Membership", "rbac.Role"),  # PROTECT
        ("orgs.ApiKey", "rbac.Role"),
        ("tasks.Task", "orgs.ApiKey"),  # created_by_api_key
        ("datarights.OrgExportChunk", "datarights.OrgExport"),
    ]:
        assert order.index(before) < order.index(after), (before, after)


# ---------------------------------------------------------------------------------- exports


def test_the_export_holds_every_kind_of_row_of_the_org_and_nothing_of_another(
    alice: Actor, mallory: Actor
) -> None:
    # given two orgs with a row of every kind, billing included (a Checkout, a subscription and
    # an invoice delivered by Stripe's webhooks)
    acme = populate(alice.org, alice.email, tag="acme")
    populate(mallory.org, mallory.email, tag="globex")
    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        for actor in (alice, mallory):
            billing_checkout_start(org_id=actor.org.pk, plan_code="pro", actor=AuditActor("t"))
            subscribe(actor.org, plan="pro", status="active")
            invoice_deliver(
                actor.org, invoice_id=f"in_{actor.org.slug}", status="paid",
                event_type="invoice.paid",
            )  # fmt: skip

    # when alice asks for an export and its job runs
    response = post(alice.client, f"{ACME}/exports")
    assert response.status_code == 202, response.content
    queued = response.json()
    assert (queued["status"], queued["download_url"]) == ("queued", None)
    assert org_export_execute(export_id=queued["id"]) is True

    # then it is done, every row written, and downloadable
    export = alice.client.get(f"{ACME}/exports/{queued['id']}").json()
    assert export["status"] == "done"
    assert export["done"] == export["total"] > 20
    assert export["download_url"] == f"{ACME}/exports/{queued['id']}/download"
    download = alice.client.get(export["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/gzip"
    assert re.fullmatch(
        r'attachment; filename="taskscore-acme-\d{8}-\d{6}\.json\.gz"',
        download["Content-Disposition"],
    )
    raw, doc = document_of(download)
    assert len(raw) == export["size_bytes"] == int(download["Content-Length"])
    assert hashlib.sha256(raw).hexdigest() == export["sha256"]

    # and it holds every kind of row of acme
    assert doc["format"] == "taskscore.org-export"
    assert doc["organization"]["slug"] == "acme"
    assert doc["organization"]["ai_send_description"] is False  # the AI rules
    for section in SECTIONS:
        assert doc[section.name], f"no {section.name}"
    members = {(m["email"], m["role"]) for m in doc["members"]}
    assert members == {("alice@acme.test", "owner"), ("erin@acme.test", "analyst")}
    assert {t["id"] for t in doc["tasks"]} == set(acme.task_ids)
    assert {s["task_id"] for s in doc["task_scores"]} == set(acme.task_ids)
    assert doc["tasks"][0]["created_by_email"] == "alice@acme.test"
    assert {i["email"] for i in doc["invitations"]} == {"ivan@acme.test"}
    assert doc["invoices"][0]["stripe_invoice_id"] == "in_acme"
    assert doc["billing"][0]["status"] == "active"
    assert doc["score_overrides"][0]["reason"] == "Reviewed by acme"
    assert doc["calibration_labels"][0]["rating"] == 7
    assert "org.export_requested" in {e["action"] for e in doc["audit_log"]}
    # and nothing of another org
    text = gzip.decompress(raw).decode()
    assert "globex" not in text
    for name, rows in doc.items():
        if isinstance(rows, list):
            for row in rows:
                assert row.get("org_id", alice.org.pk) in (alice.org.pk, None), (name, row)
    # and no secret: neither the key's token nor any hash that checks a key or an invitation
    assert acme.token not in text
    assert "secret_hash" not in text
    assert "token_hash" not in text
    for secret in [
        *ApiKey.objects.values_list("secret_hash", flat=True),
        *Invitation.objects.values_list("token_hash", flat=True),
    ]:
        assert secret not in text
    assert {k["prefix"] for k in doc["api_keys"]} == set(
        ApiKey.objects.filter(org=alice.org).values_list("prefix", flat=True)
    )
    # and the download is in the audit log
    downloaded = AuditEvent.objects.get(action="org.export_downloaded")
    assert (downloaded.org_id, downloaded.actor_label) == (alice.org.pk, alice.email)


def test_the_export_list_shows_progress_and_the_download(alice: Actor, owner_key: Any) -> None:
    # given an export asked for with an owner's API key, and its job done
    response = post(Client(), f"{ACME}/exports", token=owner_key.token)
    assert response.status_code == 202, response.content
    assert org_export_execute(export_id=response.json()["id"]) is True
    # when the owner lists the exports
    page = alice.client.get(f"{ACME}/exports").json()
    # then it is there, done, with who asked
    (item,) = page["items"]
    assert item["status"] == "done"
    assert item["created_by"] == 'API key "ci"'
    assert item["download_url"] is not None
    assert page["next_cursor"] is None
    # and the key may download it too
    download = Client().get(
        item["download_url"], headers={"authorization": f"Bearer {owner_key.token}"}
    )
    assert download.status_code == 200
    assert document_of(download)[1]["organization"]["slug"] == "acme"


def test_only_an_owner_may_export_or_delete(alice: Actor, admin: Actor) -> None:
    export = org_export_create(org_id=alice.org.pk, caller=caller_of(alice.email))
    org_export_execute(export_id=export.pk)
    for method, url, body in [
        ("GET", f"{ACME}/exports", None),
        ("POST", f"{ACME}/exports", None),
        ("GET", f"{ACME}/exports/{export.pk}", None),
        ("GET", f"{ACME}/exports/{export.pk}/download", None),
        ("POST", f"{ACME}/deletion", {"confirm": "acme"}),
    ]:
        response = admin.client.generic(
            method, url, json.dumps(body) if body else "", content_type="application/json"
        )
        assert response.status_code == 403, (url, response.content)
        assert response.json()["permission"] == "org.owner"
    assert OrgExport.objects.count() == 1
    assert not OrgDeletion.objects.exists()
    assert not AuditEvent.objects.filter(action="org.export_downloaded").exists()


def test_another_orgs_export_is_not_found(alice: Actor, mallory: Actor, other_org_key: Any) -> None:
    export = org_export_create(org_id=alice.org.pk, caller=caller_of(alice.email))
    org_export_execute(export_id=export.pk)
    mallory_key = {"authorization": f"Bearer {other_org_key.token}"}
    for url in [
        f"{ACME}/exports/{export.pk}",
        f"{ACME}/exports/{export.pk}/download",
        f"/api/v2/orgs/globex/exports/{export.pk}",
        f"/api/v2/orgs/globex/exports/{export.pk}/download",
        f"{ACME}/exports/not-an-id/download",
    ]:
        assert mallory.client.get(url).status_code == 404, url
        assert Client().get(url, headers=mallory_key).status_code == 404, url
    assert not AuditEvent.objects.filter(action="org.export_downloaded").exists()


def test_an_export_past_its_expiry_is_gone_and_purged(alice: Actor) -> None:
    # given a done export whose day has passed
    export = org_export_create(org_id=alice.org.pk, caller=caller_of(alice.email))
    org_export_execute(export_id=export.pk)
    assert OrgExportChunk.objects.filter(export=export).exists()
    OrgExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # then downloading it is a 410, before the purge has run
    download = alice.client.get(f"{ACME}/exports/{export.pk}/download")
    assert download.status_code == 410
    assert download.json()["type"] == "/problems/export-expired"
    item = alice.client.get(f"{ACME}/exports/{export.pk}").json()
    assert (item["status"], item["download_url"]) == ("expired", None)
    # when the purge runs, its file is deleted and the row says so
    assert org_exports_purge() == 1
    assert not OrgExportChunk.objects.filter(export=export).exists()
    assert alice.client.get(f"{ACME}/exports/{export.pk}/download").status_code == 410
    # and a week later the row goes too
    OrgExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(days=8))
    org_exports_purge()
    assert not OrgExport.objects.filter(pk=export.pk).exists()
    assert alice.client.get(f"{ACME}/exports/{export.pk}/download").status_code == 404


@override_settings(ORG_EXPORTS_PER_DAY=2)
def test_exports_are_one_at_a_time_and_limited_per_day(alice: Actor) -> None:
    first = post(alice.client, f"{ACME}/exports")
    assert first.status_code == 202
    # one at a time
    busy = post(alice.client, f"{ACME}/exports")
    assert (busy.status_code, busy.json()["type"]) == (409, "/problems/conflict")
    org_export_execute(export_id=first.json()["id"])
    second = post(alice.client, f"{ACME}/exports")
    assert second.status_code == 202
    org_export_execute(export_id=second.json()["id"])
    # and ORG_EXPORTS_PER_DAY a day
    limited = post(alice.client, f"{ACME}/exports")
    assert (limited.status_code, limited.json()["type"]) == (429, "/problems/rate-limited")
    assert 86_000 < int(limited["Retry-After"]) <= 86_401
    assert OrgExport.objects.count() == 2


def test_an_export_job_writes_once(alice: Actor) -> None:
    export = org_export_create(org_id=alice.org.pk, caller=caller_of(alice.email))
    assert org_export_execute(export_id=export.pk) is True
    chunks = list(OrgExportChunk.objects.filter(export=export).values_list("pk", flat=True))
    # a duplicate message finds it done
    assert org_export_execute(export_id=export.pk) is False
    assert list(OrgExportChunk.objects.filter(export=export).values_list("pk", flat=True)) == chunks


# ---------------------------------------------------------------------------------- deletion


def test_deleting_needs_the_slug_typed_by_an_owner_logged_in(alice: Actor, owner_key: Any) -> None:
    before = org_rows(alice.org.pk)
    # a wrong confirmation: 422 on the field
    response = post(alice.client, f"{ACME}/deletion", {"confirm": "Acme"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "confirm"
    # an owner API key: 403, only a person may
    response = post(Client(), f"{ACME}/deletion", {"confirm": "acme"}, token=owner_key.token)
    assert response.status_code == 403
    # and nothing changed
    assert org_rows(alice.org.pk) == before
    assert not OrgDeletion.objects.exists()
    assert alice.client.get(f"{ACME}/tasks").status_code == 200


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[str]:
    """The offline Stripe stand-in, its webhooks delivered to the app under gunicorn; this
    process's Stripe client points at it (as under `make run`)."""
    api_port, standin_port = free_port(), free_port()
    standin_url = f"http://127.0.0.1:{standin_port}"
    secret = "whsec_rights_test"
    env = test_process_env() | {"STRIPE_API_BASE": standin_url, "STRIPE_WEBHOOK_SECRET": secret}
    api = start_gunicorn(env, port=api_port, log_dir=tmp_path / "gunicorn")
    stripe_standin = start_stripe_standin(
        port=standin_port, log_dir=tmp_path, webhook_secret=secret,
        webhook_url=f"http://127.0.0.1:{api_port}/api/webhooks/stripe",
    )  # fmt: skip
    try:
        with override_settings(STRIPE_API_BASE=standin_url, STRIPE_WEBHOOK_SECRET=secret):
            plans_seed()
            yield standin_url
    finally:
        stripe_standin.stop()
        api.stop()


def _subscribe_at_standin(org: Organization) -> str:
    """A Pro subscription (its trial) through the stand-in's Checkout; its id once applied."""
    url = billing_checkout_start(org_id=org.pk, plan_code="pro", actor=AuditActor("t"))
    assert StandinBrowser().checkout(url).status == 303

    def applied() -> bool:
        return OrgBilling.objects.filter(org=org, status="trialing").exists()

    wait(applied)
    return OrgBilling.objects.get(org=org).stripe_subscription_id


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_deletion_removes_every_row_of_the_org_cancels_stripe_and_spares_another_org(
    alice: Actor, mallory: Actor, standin: str
) -> None:
    # given two orgs with rows of every kind, a subscription each at Stripe, an export, and
    # answers in the AI result cache
    acme = populate(alice.org, alice.email, tag="acme")
    populate(mallory.org, mallory.email, tag="globex")
    acme_sub, globex_sub = _subscribe_at_standin(alice.org), _subscribe_at_standin(mallory.org)
    export = org_export_create(org_id=alice.org.pk, caller=caller_of(alice.email))
    assert org_export_execute(export_id=export.pk)
    acme_id, globex_id = alice.org.pk, mallory.org.pk
    before, globex_before = org_rows(acme_id), org_rows(globex_id)
    # (a trial has no invoice yet; usage is metered on Business only)
    assert {name for name, n in before.items() if n == 0} <= {
        "billing.Invoice",
        "billing.MeterOutbox",
    }
    assert ai_cache_keys(acme_id)
    assert ai_cache_keys(globex_id)
    globex_cache = ai_cache_keys(globex_id)

    # and their grants cached by the permission cache (alice's, the key's)
    assert alice.client.get(f"{ACME}/tasks").status_code == 200
    bearer = {"authorization": f"Bearer {acme.token}"}
    assert Client().get(f"{ACME}/tasks", headers=bearer).status_code == 200
    prefix = ApiKey.objects.get(org=alice.org, name="ci acme").prefix
    entries = [
        keys_of(member_principal(caller_of(alice.email).actor.user_id or 0, "acme"))[0],
        keys_of(key_principal(prefix))[0],
    ]
    redis = Redis.from_url(settings.RBAC_REDIS_URL)
    assert redis.exists(*entries) == 2

    # when alice deletes acme
    response = post(alice.client, f"{ACME}/deletion", {"confirm": "acme"})
    assert response.status_code == 202, response.content
    assert response.json()["org"] == "acme"
    assert redis.exists(*entries) == 0  # the cached grants are gone

    # then at once nobody gets in: her session, the org's API key, its other members
    assert alice.client.get(f"{ACME}/tasks").status_code == 404
    me = alice.client.get("/api/v2/me").json()
    assert "acme" not in {o["slug"] for o in me["orgs"]}
    assert Client().get(f"{ACME}/tasks", headers=bearer).status_code == 401
    # and the rest waits for the job, which first cannot reach Stripe: nothing more goes
    deletion = OrgDeletion.objects.get(org_id=acme_id)
    unreachable = f"http://127.0.0.1:{free_port()}"
    offline = override_settings(STRIPE_API_BASE=unreachable, STRIPE_MAX_NETWORK_RETRIES=0)
    with offline, pytest.raises(RetryLater):
        org_deletion_execute(deletion_id=deletion.pk)
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.QUEUED
    assert "Stripe" in deletion.last_error
    assert deletion.enqueued_at is not None
    assert deletion.enqueued_at > deletion.requested_at
    waiting = org_rows(acme_id)
    assert waiting["tasks.Task"] == before["tasks.Task"]
    assert waiting["orgs.Organization"] == 1
    assert waiting["orgs.Membership"] == 0  # access ended with the request
    assert stripe_client_get().subscription_retrieve(acme_sub)["status"] == "trialing"

    # when the job runs again with Stripe answering
    assert org_deletion_execute(deletion_id=deletion.pk) is True

    # then every row of acme is gone, and nothing of globex
    assert {name: n for name, n in org_rows(acme_id).items() if n} == {}
    assert org_rows(globex_id) == globex_before
    assert ai_cache_keys(acme_id) == []
    assert sorted(ai_cache_keys(globex_id)) == sorted(globex_cache)
    # and acme's subscription is canceled at Stripe, globex's is not
    client = stripe_client_get()
    assert client.subscription_retrieve(acme_sub)["status"] == "canceled"
    assert client.subscription_retrieve(globex_sub)["status"] == "trialing"
    # and the operators' record outlives the org: who, when, what
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.DONE
    assert (deletion.org_slug, deletion.requested_by_label) == ("acme", "alice@acme.test")
    assert deletion.stripe_subscriptions_canceled == [acme_sub]
    assert deletion.stripe_customer_id.startswith("cus_")
    assert not StripeEvent.objects.filter(
        payload__data__object__id=deletion.stripe_customer_id
    ).exists()
    assert deletion.ai_cache_entries_deleted > 0
    assert deletion.finished_at is not None
    for name, n in before.items():
        if name != "orgs.Organization":
            assert deletion.counts.get(name, 0) >= n, name

    # and Stripe's news of the cancellation, arriving after, changes nothing of acme
    def cancellation_delivered() -> bool:
        deliveries = requests.get(f"{standin}/_standin/deliveries", timeout=5).json()["data"]
        return any(
            d["type"] == "customer.subscription.deleted" and d["status"] == "delivered"
            for d in deliveries
        )

    wait(cancellation_delivered)
    assert {name: n for name, n in org_rows(acme_id).items() if n} == {}
    # and another run of the job has nothing to do
    assert org_deletion_execute(deletion_id=deletion.pk) is False


def test_a_scoring_job_for_a_deleted_orgs_task_stores_nothing(alice: Actor) -> None:
    # given a task whose scoring job is still in the queue when its org is deleted
    task = task_submit(
        org_id=alice.org.pk, data=TaskInput(title="Queued", description="", attributes={}),
        user_id=caller_of(alice.email).actor.user_id,
    )  # fmt: skip
    deletion = org_deletion_request(
        org_id=alice.org.pk, caller=caller_of(alice.email), confirm="acme"
    )
    assert org_deletion_execute(deletion_id=deletion.pk) is True
    # when the job runs
    result = task_score.apply(args=(str(task.pk),))
    # then it finishes without error and writes nothing
    assert result.successful()
    assert result.get() is False
    assert {name: n for name, n in org_rows(alice.org.pk).items() if n} == {}
    assert not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_scoring_job_waiting_on_the_ai_when_its_org_is_deleted_stores_nothing(
    alice: Actor, fake_ai: FakeAIServer
) -> None:
    # given a task being scored, its AI call in flight
    task = task_submit(
        org_id=alice.org.pk,
        data=TaskInput(title="In flight", description="", attributes={"reach": 10.0}),
        user_id=caller_of(alice.email).actor.user_id,
    )
    fake_ai.configure(latency=(0.5, 0.5))

    def score() -> bool:
        try:
            return task_score_run(task_id=task.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        scoring = pool.submit(score)
        wait(lambda: fake_ai.stats().calls >= 1)  # the AI call is reserved and made
        # when the org is deleted meanwhile
        deletion = org_deletion_request(
            org_id=alice.org.pk, caller=caller_of(alice.email), confirm="acme"
        )
        assert org_deletion_execute(deletion_id=deletion.pk) is True
        # then the job ends without error, whichever finished first
        assert scoring.result(timeout=30) is True
    # and no row of the org is left
    assert {name: n for name, n in org_rows(alice.org.pk).items() if n} == {}


def test_the_sweeper_enqueues_a_deletion_whose_job_was_lost(alice: Actor) -> None:
    deletion = org_deletion_request(
        org_id=alice.org.pk, caller=caller_of(alice.email), confirm="acme"
    )
    OrgDeletion.objects.filter(pk=deletion.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.TASK_REQUEUE_AFTER_SECONDS + 5)
    )
    assert data_rights_requeue_stuck() == 1
    assert data_rights_requeue_stuck() == 0  # enqueued again just now
