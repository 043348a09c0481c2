"""Two-factor authentication as a person meets it: an owner sets up an authenticator app on the
account page (the QR code drawn on the page, the password confirmed when allauth asks), keeps the
recovery codes, requires two-factor of the org's owners and admins, logs out, and logs in again
with the app's code and then with a recovery code; an admin without it is shown how to set it up.

The "app" is this test: it reads the key the page shows and computes the codes from it."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import Page, expect

from taskscore.accounts.services import user_create
from taskscore.orgs.models import Membership, Organization
from taskscore.rbac.services import role_builtin
from taskscore.scoring.services import org_open

from .conftest import Shoot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

PASSWORD = "a-long-e2e-password"


def app_code(secret: str, *, step: int = 0) -> str:
    """What an authenticator app shows for `secret` now (`step` 1: the next code, already valid)."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + step
    return str(format_hotp_value(hotp_value(secret, counter)))


def log_in(page: Page, web_app: str, email: str) -> None:
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").first.click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_an_owner_sets_up_two_factor_requires_it_and_logs_in_with_a_code(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str]
) -> None:
    run = uuid.uuid4().hex[:8]
    olga = f"olga-{run}@example.test"
    dave = f"dave-{run}@example.test"
    owner = user_create(email=olga, password=PASSWORD, is_email_verified=True)
    org = org_open(name=f"Acme {run}", owner=owner)
    admin = user_create(email=dave, password=PASSWORD, is_email_verified=True)
    Membership.objects.create(user=admin, org=org, role=role_builtin("admin"))

    # The owner sets up an authenticator app on the account page.
    log_in(page, web_app, olga)
    expect(page).to_have_url(re.compile(rf"/orgs/{org.slug}/tasks$"), timeout=15_000)
    page.goto(f"{web_app}/account")
    section = page.locator("#two-factor")
    expect(section.get_by_text("Off", exact=True)).to_be_visible()
    section.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_test_id("totp-qr-code")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    shoot("two-factor-scan")
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    # allauth asks to confirm who it is before the change; the dialog asks for the password.
    dialog = page.get_by_role("dialog", name="Confirm it is you")
    expect(dialog).to_be_visible()
    shoot("two-factor-confirm-password")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Confirm").click()
    codes = page.get_by_test_id("recovery-code")
    expect(codes).to_have_count(10)
    recovery_codes = codes.all_inner_texts()
    shoot("two-factor-recovery-codes")
    page.get_by_role("button", name="I have saved them").click()
    expect(section.get_by_text("On", exact=True)).to_be_visible()
    expect(page.get_by_test_id("recovery-codes-left")).to_have_text("10 of 10 recovery codes left.")

    # She requires two-factor of the org's owners and admins (Members, Security).
    page.goto(f"{web_app}/orgs/{org.slug}/members/security")
    switch = page.get_by_role(
        "switch", name="Require two-factor authentication for owners and admins"
    )
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert Organization.objects.get(pk=org.pk).mfa_required_for_admins is True
    shoot("org-security-required")

    # Logged out, the password alone does not log her in: the code step follows.
    log_out(page)
    log_in(page, web_app, olga)
    code = page.get_by_label("Code")
    expect(code).to_be_focused()
    shoot("login-two-factor-step")
    code.fill("000000" if app_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    code.fill(app_code(secret, step=1))  # the app's next code (the current one was just used)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/orgs/{org.slug}/tasks$"))

    # And a recovery code works instead of the app, once.
    log_out(page)
    log_in(page, web_app, olga)
    page.get_by_label("Code").fill(recovery_codes[0])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/orgs/{org.slug}/tasks$"))
    page.goto(f"{web_app}/account")
    expect(page.get_by_test_id("recovery-codes-left")).to_have_text("9 of 10 recovery codes left.")
    log_out(page)

    # The admin, who has no authenticator app, is shown how to set one up instead of the org.
    log_in(page, web_app, dave)
    gate = page.get_by_test_id("mfa-required")
    expect(gate).to_contain_text(f"Acme {run} requires two-factor authentication")
    shoot("admin-two-factor-required")
    gate.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page).to_have_url(re.compile(r"/account#two-factor$"))
    expect(
        page.locator("#two-factor").get_by_role("button", name="Set up an authenticator app")
    ).to_be_visible()

    # The browser logs every answer that is not a 2xx; these are the journey's own: allauth's 404
    # "no app yet" with the new key, its 401 "confirm it is you", the wrong code's 400, and the
    # admin's 403 `mfa-required`. Anything else is a fault.
    expected = re.compile(r"status of (400|401|403|404) ")
    assert [e for e in console_errors if not expected.search(e)] == []
