"""Account pages as a person meets them: sign-up waiting for the mailed link (a taken address
looking the same), a wrong password, a password reset through the mailed link, an invitation link
accepted by the invited person, and a CSV import with a bad row."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from taskscore.accounts.services import user_create
from taskscore.orgs.models import Membership
from taskscore.orgs.principals import principal_for_user
from taskscore.orgs.services import invitation_create
from taskscore.scoring.services import org_open
from taskscore.tasks.models import Task

from .conftest import Shoot, read_outbox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

EMAIL = "erin@example.test"
PASSWORD = "a-long-e2e-password"
# How chromium logs allauth's 401 to a sign-up or log-in that waits on verifying the address.
PENDING_VERIFICATION_LOGGED = (
    "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
)


def log_in(page: Page, web_app: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def sign_up(page: Page, web_app: str, email: str) -> None:
    page.goto(f"{web_app}/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # The first request of a run may wait on the servers' first start.
    expect(page).to_have_url(re.compile(r"/verify-email$"), timeout=15_000)
    expect(page.get_by_text(f"We sent a link to {email}.")).to_be_visible()


def test_signing_up_waits_for_the_mailed_link_and_a_taken_address_looks_the_same(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str], outbox_dir: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    nora, olga = f"nora-{run}@example.test", f"olga-{run}@example.test"
    user_create(email=olga, password=PASSWORD, is_email_verified=True)

    # A new address: check your inbox, and nobody is logged in yet.
    sign_up(page, web_app, nora)
    shoot("signup-check-your-inbox")
    notice = page.locator("main").inner_text().replace(nora, "ADDRESS")
    page.goto(f"{web_app}/onboarding")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fonboarding$"))

    # An address that has an account: the same page; its owner gets a mail saying so.
    other = page.context.browser.new_page()  # type: ignore[union-attr]
    sign_up(other, web_app, olga)
    assert other.locator("main").inner_text().replace(olga, "ADDRESS") == notice
    other.close()
    to_olga = [m["subject"] for m in read_outbox(outbox_dir) if olga in m["to"]]  # type: ignore[operator]
    assert to_olga == ["[Taskscore] Account Already Exists"]

    # Logging in before verifying says the same, rather than a refusal.
    log_in(page, web_app, email=nora)
    expect(page).to_have_url(re.compile(r"/verify-email$"))
    expect(page.get_by_text(f"We sent a link to {nora}.")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="not correct")).to_have_count(0)
    shoot("login-before-verifying")

    # The mailed link, opened in this browser, verifies the address and logs the person in.
    page.get_by_role("link", name="local outbox").click()
    message = page.get_by_test_id("outbox-message").filter(has_text=nora).first
    message.locator("summary").click()
    message.get_by_test_id("outbox-link").filter(has_text="/account/verify-email/").click()
    page.get_by_role("button", name="Verify my email address").click()
    expect(page.get_by_text("Your email address is verified")).to_be_visible()
    shoot("verified-and-logged-in")
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/onboarding$"))
    # The browser logs allauth's answers to the sign-up and the log-in (401: nobody is logged in
    # before the address is verified) as failed requests; nothing else failed.
    assert console_errors == [PENDING_VERIFICATION_LOGGED] * 2


def test_a_wrong_password_is_explained_and_nothing_else_happens(
    web_app: str, page: Page, shoot: Shoot
) -> None:
    user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    log_in(page, web_app, password="not-the-password")
    expect(page.get_by_role("alert").filter(has_text="not correct")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
    shoot("login-wrong-password")


def test_a_page_of_the_app_sends_a_visitor_to_log_in_and_back(web_app: str, page: Page) -> None:
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_open(name="Acme", owner=owner)
    page.goto(f"{web_app}/orgs/acme/scoring")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Forgs%2Facme%2Fscoring$"))
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/scoring$"))


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str]
) -> None:
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_open(name="Acme", owner=owner)

    page.goto(f"{web_app}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    shoot("forgot-password")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text(f"If an account exists for {EMAIL}")).to_be_visible()

    page.goto(f"{web_app}/outbox")
    message = page.get_by_test_id("outbox-message").filter(has_text=EMAIL).first
    message.locator("summary").click()
    message.get_by_test_id("outbox-link").filter(has_text="/account/password/reset/").click()

    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    shoot("reset-password")
    page.get_by_label("New password", exact=True).fill("a-brand-new-password")
    page.get_by_label("Repeat the new password").fill("a-brand-new-password")
    page.get_by_role("button", name="Set new password").click()

    # The link proved the address: the person is in, and the new password works from now on.
    expect(page).to_have_url(re.compile(r"/orgs/acme/tasks$"))
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    assert console_errors == []
    fresh = page.context.browser.new_page()  # type: ignore[union-attr]
    log_in(fresh, web_app, password="a-brand-new-password")
    expect(fresh).to_have_url(re.compile(r"/orgs/acme/tasks$"))
    fresh.close()


def test_a_used_reset_link_says_so(web_app: str, page: Page) -> None:
    page.goto(f"{web_app}/account/password/reset/not-a-real-key")
    expect(page.get_by_text("This link does not work any more")).to_be_visible()
    expect(page.get_by_role("link", name="Send a new link")).to_be_visible()


def test_the_invitation_link_shows_the_org_role_and_inviter_and_accepts(
    web_app: str, page: Page, shoot: Shoot, outbox_dir: Path
) -> None:
    owner = user_create(email="olga@acme.test", password=PASSWORD, is_email_verified=True)
    org = org_open(name="Acme", owner=owner)
    created = invitation_create(
        org=org, email=EMAIL, role_key="member",
        caller=principal_for_user(owner.pk, org_slug=org.slug),
    )  # fmt: skip
    invitee = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_open(name="Erin's Lab", owner=invitee)

    # A visitor sees what the invitation offers, and the way to accept it.
    page.goto(created.accept_url.replace("http://127.0.0.1:3000", web_app))
    expect(page.get_by_test_id("invitation-org")).to_have_text("Acme")
    expect(page.get_by_test_id("invitation-role")).to_have_text("Member")
    expect(page.get_by_text("olga@acme.test invited you to join")).to_be_visible()
    shoot("invitation-visitor")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Back on the invitation, logged in as the invited person: accept.
    expect(page.get_by_role("button", name="Accept and join")).to_be_visible()
    shoot("invitation-invitee")
    page.get_by_role("button", name="Accept and join").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/tasks$"))
    assert Membership.objects.get(org=org, user__email=EMAIL).role.key == "member"

    # In two orgs now: the switcher moves between them, and a member sees a member's controls.
    expect(page.get_by_role("button", name="Re-score all")).to_have_count(0)
    switcher = page.get_by_label("Organization")
    expect(switcher).to_have_value("acme")
    switcher.select_option(label="Erin's Lab")
    expect(page).to_have_url(re.compile(r"/orgs/erins-lab/tasks$"))
    expect(page.get_by_role("button", name="Re-score all")).to_be_visible()
    shoot("org-switcher")


def test_a_csv_with_one_bad_row_imports_nothing_and_names_the_row(
    web_app: str, page: Page, shoot: Shoot, tmp_path: Path
) -> None:
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_open(name="Acme", owner=owner)
    log_in(page, web_app)
    expect(page).to_have_url(re.compile(r"/orgs/acme/tasks$"))
    page.get_by_role("link", name="Import CSV").click()
    shoot("import-empty")

    bad = tmp_path / "tasks.csv"
    bad.write_text("title,description,reach,effort\nDark mode,,400,3\nExports,,lots,2\nSSO,,10,8\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    expect(page.get_by_test_id("import-row")).to_have_count(3)
    expect(page.get_by_test_id("import-row-errors")).to_contain_text("Line 3: “reach” is “lots”")
    expect(page.get_by_role("button", name="Import 3 tasks")).to_be_disabled()
    shoot("import-bad-row")
    assert Task.objects.count() == 0

    good = tmp_path / "good.csv"
    good.write_text("title,description,reach,effort\nDark mode,,400,3\nExports,,20,2\n")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import 2 tasks").click()
    expect(page).to_have_url(re.compile(r"/orgs/acme/tasks$"))
    expect(page.get_by_test_id("task-row")).to_have_count(2)
    assert Task.objects.count() == 2
