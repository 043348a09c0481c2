"""An owner's data rights in the browser: the org's settings page, an export made by the worker
(its progress, then its download, a gzipped JSON file with the org's tasks), and the deletion of
the org by keyboard, typing its slug: the owner lands on onboarding, the worker cancels the
subscription at the offline Stripe stand-in and deletes every row of the org, and its API key
stops working at once."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.test import override_settings
from playwright.sync_api import Page, expect

from conftest import test_process_env
from taskscore.accounts.services import user_create
from taskscore.audit.services import Actor
from taskscore.billing.gateway import stripe_client_get
from taskscore.billing.models import OrgBilling
from taskscore.billing.services import billing_checkout_start
from taskscore.datarights.models import DeletionStatus, OrgDeletion
from taskscore.orgs.models import Organization
from taskscore.orgs.services import api_key_create
from taskscore.rbac.callers import OPERATOR
from taskscore.scoring.services import org_open
from taskscore.testing.factories import TaskFactory
from taskscore.testing.processes import Process, start_worker
from taskscore.testing.stripe_standin.driver import StandinBrowser
from tests.test_data_rights import org_rows, wait

from .conftest import STANDIN_WEBHOOK_SECRET, Shoot, tab_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER = "olga@rights.test"
PASSWORD = "a-long-rights-password"


@pytest.fixture(scope="module")
def stripe_worker(
    django_db_setup: None, stripe_standin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    """A Celery worker whose Stripe is the stand-in (as under `make run`): it writes the export
    and carries out the deletion, the subscription's cancellation included."""
    env = test_process_env() | {
        "STRIPE_API_BASE": stripe_standin,
        "STRIPE_WEBHOOK_SECRET": STANDIN_WEBHOOK_SECRET,
    }
    worker = start_worker(env, log_dir=tmp_path_factory.mktemp("rights-worker"))
    yield worker
    worker.stop()


def test_an_owner_exports_the_orgs_data_then_deletes_the_org(
    web_app: str,
    stripe_standin: str,
    stripe_worker: Process,
    page: Page,
    shoot: Shoot,
    console_errors: list[str],
) -> None:
    # given an owner's org with tasks, an API key and a Pro subscription (its trial) at Stripe
    owner = user_create(email=OWNER, password=PASSWORD, is_email_verified=True)
    org = org_open(name="Rights Org", owner=owner)
    TaskFactory.create(org=org, title="Export me first", status="scored")
    TaskFactory.create(org=org, title="And me", status="scored")
    with override_settings(STRIPE_API_BASE=stripe_standin):
        checkout = billing_checkout_start(org_id=org.pk, plan_code="pro", actor=Actor("setup"))
        assert StandinBrowser().checkout(checkout).status == 303
    wait(lambda: OrgBilling.objects.filter(org=org, status="trialing").exists())
    subscription = OrgBilling.objects.get(org=org).stripe_subscription_id
    key = api_key_create(org=org, name="ci", role_key="owner", caller=OPERATOR).token

    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/orgs/rights-org/tasks$"))

    # The settings page, from the main navigation: the org, no export yet
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/orgs/rights-org/settings$"))
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.locator("dd code", has_text="rights-org")).to_be_visible()
    expect(page.get_by_text("No exports yet")).to_be_visible()
    shoot("settings")

    # An export: started, made by the worker, then ready to download
    page.get_by_role("button", name="Export all data").click()
    item = page.get_by_test_id("export-item").first
    expect(item).to_be_visible()
    expect(item).to_have_attribute("data-status", "done", timeout=60_000)
    expect(item).to_contain_text("Ready")
    expect(page.get_by_role("button", name="Export all data")).to_be_enabled()
    shoot("export-ready")
    with page.expect_download() as downloading:
        item.get_by_role("link", name="Download").click()
    download = downloading.value
    assert re.fullmatch(r"taskscore-rights-org-\d{8}-\d{6}\.json\.gz", download.suggested_filename)
    document = json.loads(gzip.decompress(Path(download.path()).read_bytes()))
    assert document["organization"]["slug"] == "rights-org"
    assert {t["title"] for t in document["tasks"]} == {"Export me first", "And me"}
    assert [m["email"] for m in document["members"]] == [OWNER]

    # The deletion, by keyboard: the dialog asks for the slug, and only that
    delete = page.get_by_role("button", name="Delete organization…")
    tab_to(page, delete)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete Rights Org?")
    expect(dialog).to_be_visible()
    confirm = dialog.get_by_label("Type rights-org to confirm")
    expect(confirm).to_be_focused()
    submit = dialog.get_by_role("button", name="Delete Rights Org")
    page.keyboard.type("Rights Org")
    expect(submit).to_be_disabled()
    confirm.fill("")
    page.keyboard.type("rights-org")
    expect(submit).to_be_enabled()
    shoot("delete-dialog")
    page.keyboard.press("Enter")

    # then the owner, in no other org, lands on onboarding
    expect(page).to_have_url(re.compile(r"/onboarding$"), timeout=20_000)
    expect(page.get_by_test_id("toast").first).to_contain_text("Rights Org is being deleted.")
    shoot("after-deletion")
    # and the org's API key is refused at once
    bearer = {"Authorization": f"Bearer {key}"}
    refused = requests.get(f"{web_app}/api/v2/orgs/rights-org/tasks", headers=bearer, timeout=10)
    assert refused.status_code == 401
    # and the worker cancels the subscription and deletes every row of the org
    wait(
        lambda: OrgDeletion.objects.filter(org_id=org.pk, status=DeletionStatus.DONE).exists(),
        timeout=60,
    )
    assert not Organization.objects.filter(pk=org.pk).exists()
    assert {name: n for name, n in org_rows(org.pk).items() if n} == {}
    with override_settings(STRIPE_API_BASE=stripe_standin):
        assert stripe_client_get().subscription_retrieve(subscription)["status"] == "canceled"
    assert console_errors == []
