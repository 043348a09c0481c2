"""An owner's team journey in the browser: invite a member (the link from the mail outbox), who
signs up, verifies and accepts, and sees only what the role allows; a viewer API key whose token
is shown once, reads tasks, is refused a submit, is revoked and then refused; a change of role
while the member's page is open, explained; a custom role created and assigned; the audit log
showing each step, filtered. And a Free org's use of a paid feature, met with the upgrade."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import Browser, Page, Response, expect

from taskscore.accounts.services import user_create
from taskscore.billing.models import OrgBilling, Plan, SubscriptionStatus
from taskscore.orgs.models import ApiKey, Membership, Organization
from taskscore.scoring.services import org_open
from taskscore.testing.factories import TaskFactory

from .conftest import ARTIFACTS_DIR, DESKTOP, PHONE, Shoot, read_outbox, tab_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OWNER = "olivia@team.test"
MEMBER = "max@team.test"
PASSWORD = "a-long-team-password"
# The browser logs every refused request as a console error ("Failed to load resource: … status of
# 409"): those are checked against the refused responses, which must be the ones provoked.
REFUSED_RESOURCE = re.compile(r"^Failed to load resource: the server responded with a status of 4")


def record_refusals(page: Page) -> list[tuple[int, str, str]]:
    """The 4xx answers `page` receives, as (status, method, path)."""
    refusals: list[tuple[int, str, str]] = []

    def on_response(response: Response) -> None:
        if 400 <= response.status < 500:
            path = re.sub(r"^https?://[^/]+", "", response.url)
            refusals.append((response.status, response.request.method, path))

    page.on("response", on_response)
    return refusals


def put_on_plan(org: Organization, code: str) -> None:
    """The org on a paid plan, as an applied subscription leaves it (Stripe plays no part here)."""
    now = timezone.now()
    OrgBilling.objects.update_or_create(
        org=org,
        defaults={
            "plan": Plan.objects.get(code=code),
            "status": SubscriptionStatus.ACTIVE,
            "current_period_start": now - timedelta(days=1),
            "current_period_end": now + timedelta(days=29),
        },
    )


def log_in(page: Page, web_app: str, email: str) -> None:
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/orgs/[^/]+/tasks$"))


def newest_link(outbox_dir: Path, to: str, contains: str) -> str:
    messages = [m for m in read_outbox(outbox_dir) if to in m["to"]]  # type: ignore[operator]
    messages.sort(key=lambda m: str(m["sent_at"]))
    links = [str(link) for m in messages for link in m["links"] if contains in str(link)]  # type: ignore[attr-defined]
    assert links, f"no mail to {to} with {contains}"
    return links[-1]


def dismiss_toasts(page: Page) -> None:
    """Closes the confirmations in the corner, so that a screenshot shows the page under them."""
    toasts = page.get_by_test_id("toast")
    while toasts.count() > 0:
        toasts.first.get_by_role("button", name="Dismiss").click()


def shooter(page: Page, folder_name: str) -> Shoot:
    """`shoot` for a second browser page (the member's), into the test's own folder."""
    folder = ARTIFACTS_DIR / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(50, 1000))

    def save(name: str) -> None:
        number = next(counter)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_timeout(150)
            page.screenshot(path=str(folder / f"{number:02d}-{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    return save


def test_an_owner_runs_the_team_keys_and_audit_log(
    web_app: str,
    page: Page,
    browser: Browser,
    shoot: Shoot,
    console_errors: list[str],
    outbox_dir: Path,
) -> None:
    owner = user_create(email=OWNER, password=PASSWORD, is_email_verified=True)
    org = org_open(name="Team Org", owner=owner)
    put_on_plan(org, "business")  # API keys, custom roles and the audit log
    TaskFactory.create(org=org, title="Seeded task")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    owner_refusals = record_refusals(page)
    log_in(page, web_app, OWNER)

    # Members: the owner alone, with the last activity.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    me = page.get_by_test_id("member-row").filter(has_text=OWNER)
    expect(me).to_contain_text("You")
    expect(me).to_contain_text("last active")
    dismiss_toasts(page)
    shoot("members-alone")

    # Invite the member.
    page.get_by_role("button", name="Invite someone").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(MEMBER)
    dialog.get_by_label("Role").select_option(label="Member")
    shoot("members-invite")
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("invitation-row").filter(has_text=MEMBER)).to_be_visible()

    # Someone invited by mistake, and revoked again, by keyboard alone.
    tab_to(page, page.get_by_role("button", name="Invite someone"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_label("Email")).to_be_focused()
    page.keyboard.type("typo@team.test")
    page.keyboard.press("Tab")
    expect(page.get_by_role("dialog").get_by_label("Role")).to_be_focused()
    page.keyboard.type("Viewer")
    tab_to(page, page.get_by_role("dialog").get_by_role("button", name="Send invitation"))
    page.keyboard.press("Enter")
    typo = page.get_by_test_id("invitation-row").filter(has_text="typo@team.test")
    expect(typo).to_contain_text("Viewer")
    tab_to(page, page.get_by_role("button", name="Revoke the invitation to typo@team.test"))
    page.keyboard.press("Enter")
    revoke = page.get_by_role("dialog").get_by_role("button", name="Revoke invitation")
    tab_to(page, revoke)
    page.keyboard.press("Enter")
    expect(typo).to_have_count(0)
    # Sent again: the earlier link stops working, the new one is mailed.
    first_link = newest_link(outbox_dir, MEMBER, "/invitations/")
    page.get_by_role("button", name=f"Resend the invitation to {MEMBER}").click()
    expect(page.get_by_test_id("toast").filter(has_text=f"Sent again to {MEMBER}")).to_be_visible()
    expect(page.get_by_test_id("invitation-row")).to_have_count(1)
    invitation_link = newest_link(outbox_dir, MEMBER, "/invitations/")
    assert invitation_link != first_link
    assert invitation_link.startswith(web_app)
    dismiss_toasts(page)
    shoot("members-invited")

    # The member opens the link, signs up, verifies the address and accepts.
    member_context = browser.new_context(viewport=DESKTOP)
    member_context.set_default_timeout(15_000)
    member_page = member_context.new_page()
    member_errors: list[str] = []
    member_page.on("console", lambda m: member_errors.append(m.text) if m.type == "error" else None)
    member_refusals = record_refusals(member_page)
    shoot_member = shooter(member_page, "test_an_owner_runs_the_team_keys_and_audit_log")
    member_page.goto(first_link)
    expect(member_page.get_by_text("This invitation is not valid")).to_be_visible()
    member_page.goto(invitation_link)
    expect(member_page.get_by_test_id("invitation-role")).to_have_text("Member")
    member_page.get_by_role("link", name="Create an account").click()
    expect(member_page.get_by_label("Email")).to_have_value(MEMBER)
    member_page.get_by_label("Password").fill(PASSWORD)
    member_page.get_by_role("button", name="Create account").click()
    expect(member_page).to_have_url(re.compile(r"/verify-email"))
    member_page.goto(newest_link(outbox_dir, MEMBER, "/account/verify-email/"))
    member_page.get_by_role("button", name="Verify my email address").click()
    expect(member_page.get_by_text("Your email address is verified")).to_be_visible()
    member_page.goto(invitation_link)
    member_page.get_by_role("button", name="Accept and join").click()
    expect(member_page).to_have_url(re.compile(r"/orgs/team-org/tasks$"))
    assert Membership.objects.get(org=org, user__email=MEMBER).role.key == "member"

    # A member sees the members (read-only), and neither API keys nor the audit log.
    member_nav = member_page.get_by_role("navigation", name="Main")
    expect(member_nav.get_by_role("link", name="API keys")).to_have_count(0)
    expect(member_nav.get_by_role("link", name="Audit log")).to_have_count(0)
    member_nav.get_by_role("link", name="Members").click()
    expect(member_page.get_by_test_id("member-row")).to_have_count(2)
    expect(member_page.get_by_role("button", name="Invite someone")).to_have_count(0)
    expect(member_page.get_by_role("button", name=re.compile("^Change the role"))).to_have_count(0)
    expect(member_page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    dismiss_toasts(member_page)
    shoot_member("member-sees-members")
    member_page.goto(f"{web_app}/orgs/team-org/api-keys")
    expect(member_page.get_by_text("Your role does not let you see API keys.")).to_be_visible()
    dismiss_toasts(member_page)
    shoot_member("member-api-keys-refused")

    # The owner creates a viewer key: the token is shown once, with a copy button.
    nav.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    snippet = page.get_by_test_id("curl-snippet")
    expect(snippet).to_contain_text(f"{web_app}/api/v2/orgs/team-org/tasks")
    dismiss_toasts(page)
    shoot("api-keys-empty")
    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("CI reader")
    dialog.get_by_label("Role").select_option(label="Viewer")
    dialog.get_by_label("Expires").select_option(label="In 7 days")
    expect(dialog.get_by_text("It stops working on")).to_be_visible()
    dialog.get_by_role("button", name="Create key").click()
    expect(dialog.get_by_text("You will not see this key again")).to_be_visible()
    token = dialog.get_by_test_id("new-token-value").input_value()
    assert re.fullmatch(r"ts_[A-Za-z0-9]+_[A-Za-z0-9_-]+", token), token
    dialog.get_by_role("button", name="Copy the key").click()
    expect(dialog.get_by_test_id("copy-status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    shoot("api-key-token")
    dialog.get_by_role("button", name="I have copied it").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert token not in page.content()
    key = ApiKey.objects.get(org=org, name="CI reader")
    row = page.get_by_test_id("api-key-row").filter(has_text="CI reader")
    expect(row).to_contain_text(f"ts_{key.prefix}…")
    expect(row).to_contain_text("Viewer")
    expect(row.get_by_test_id("api-key-facts")).to_contain_text(f"Created by {OWNER}")
    expect(row.get_by_test_id("api-key-facts")).to_contain_text("never used")
    expect(row.get_by_test_id("api-key-facts")).to_contain_text("expires")
    assert key.expires_at is not None
    assert abs(key.expires_at - key.created_at - timedelta(days=7)) < timedelta(seconds=5)

    # The key, at the address the example names: it reads tasks and may not submit one.
    tasks_url = re.search(r'"(http[^"]+/tasks)\?', snippet.inner_text())
    assert tasks_url is not None
    bearer = {"Authorization": f"Bearer {token}"}
    listed = requests.get(tasks_url.group(1), headers=bearer, timeout=10)
    assert listed.status_code == 200, listed.text
    assert [t["title"] for t in listed.json()["items"]] == ["Seeded task"]
    refused = requests.post(
        tasks_url.group(1), headers=bearer, json={"title": "From the key"}, timeout=10
    )
    assert (refused.status_code, refused.json()["permission"]) == (403, "task.create")
    page.reload()
    expect(row.get_by_test_id("api-key-facts")).to_contain_text("last used")
    dismiss_toasts(page)
    shoot("api-keys-used")

    # Revoked (after a confirmation), the key is refused.
    page.get_by_role("button", name="Revoke CI reader").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(row).to_have_attribute("data-state", "revoked")
    gone = requests.get(tasks_url.group(1), headers=bearer, timeout=10)
    assert gone.status_code == 401
    dismiss_toasts(page)
    shoot("api-keys-revoked")

    # The member's role changes while their page is open: the next refusal is explained and
    # the page drops what the role no longer allows.
    member_nav.get_by_role("link", name="Tasks").click()
    expect(member_page.get_by_role("button", name="Submit task")).to_be_visible()
    nav.get_by_role("link", name="Members").click()
    page.get_by_role("button", name=f"Change the role of {MEMBER}").click()
    page.get_by_role("dialog").get_by_label("New role").select_option(label="Viewer")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    member_row = page.get_by_test_id("member-row").filter(has_text=MEMBER)
    expect(member_row.get_by_test_id("member-role")).to_have_text("Viewer")
    member_page.get_by_label("Title", exact=True).fill("Submitted as a viewer")
    member_page.get_by_role("button", name="Submit task").click()
    expect(member_page.get_by_test_id("role-change-notice")).to_have_text(
        "What you just tried was refused: your role no longer lets you submit tasks. "
        "Your role in Team Org is now Viewer, and this page now shows only what it allows."
    )
    expect(member_page.get_by_role("button", name="Submit task")).to_have_count(0)
    dismiss_toasts(member_page)
    shoot_member("member-role-changed")

    # A custom role, created with permissions grouped by area, and given to the member.
    page.get_by_role("navigation", name="Team").get_by_role("link", name="Roles").click()
    expect(page.get_by_test_id("builtin-permission-row")).to_have_count(13)
    expect(page.get_by_text("No custom roles yet")).to_be_visible()
    dismiss_toasts(page)
    shoot("roles")
    page.get_by_role("button", name="New custom role").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Triage")
    expect(dialog.get_by_label("Key", exact=True)).to_have_value("triage")
    for permission in ("See tasks, their scores", "Submit tasks", "Re-score tasks"):
        dialog.get_by_label(re.compile(f"^{permission}")).check()
    shoot("roles-new")
    dialog.get_by_role("button", name="Create role").click()
    expect(page.get_by_test_id("custom-role").filter(has_text="Triage")).to_be_visible()
    dismiss_toasts(page)
    shoot("roles-custom")
    page.get_by_role("navigation", name="Team").get_by_role("link", name="Members").click()
    page.get_by_role("button", name=f"Change the role of {MEMBER}").click()
    page.get_by_role("dialog").get_by_label("New role").select_option(label="Triage (custom)")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    expect(member_row.get_by_test_id("member-role")).to_have_text("Triage")
    assert Membership.objects.get(org=org, user__email=MEMBER).role.key == "triage"

    # The last owner cannot be demoted: the refusal says why, in words.
    page.get_by_role("button", name=f"Change the role of {OWNER}").click()
    page.get_by_role("dialog").get_by_label("New role").select_option(label="Admin")
    page.get_by_role("dialog").get_by_role("button", name="Change role").click()
    rule = page.get_by_role("dialog").get_by_text("An organization always keeps an owner")
    expect(rule).to_be_visible()
    shoot("members-last-owner")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # The audit log shows every step, in words, and filters by action and person.
    nav.get_by_role("link", name="Audit log").click()
    events = page.get_by_test_id("audit-event")
    for action, count in (
        ("invitation.created", 3),
        ("invitation.revoked", 1),
        ("invitation.accepted", 1),
        ("api_key.created", 1),
        ("api_key.revoked", 1),
        ("member.role_changed", 2),
        ("role.created", 1),
    ):
        expect(page.locator(f'[data-testid="audit-event"][data-action="{action}"]')).to_have_count(
            count
        )
    expect(events.filter(has_text="created the API key “CI reader”")).to_contain_text(
        f"{OWNER} created the API key “CI reader” (ts_{key.prefix}…) with the role Viewer."
    )
    expect(events.filter(has_text="accepted the invitation")).to_contain_text(
        f"{MEMBER} accepted the invitation and joined as Member."
    )
    expect(events.filter(has_text="from Viewer to Triage")).to_contain_text(
        f"changed the role of {MEMBER} from Viewer to Triage"
    )
    dismiss_toasts(page)
    shoot("audit")
    page.get_by_label("Action").select_option(label="API key created")
    expect(page).to_have_url(re.compile(r"[?&]action=api_key\.created"))
    expect(events).to_have_count(1)
    page.get_by_label("Action").select_option(label="Any action")
    page.get_by_label("Who").fill(MEMBER.split("@")[0])
    expect(page).to_have_url(re.compile(r"[?&]actor=max"))
    expect(events).to_have_count(1)
    expect(events.first).to_have_attribute("data-action", "invitation.accepted")
    dismiss_toasts(page)
    shoot("audit-filtered")
    page.get_by_role("button", name="Clear the filters").first.click()
    expect(events).to_have_count(11)  # and the org.created of the start

    member_context.close()
    # Nothing failed but what the journey provoked: the stale invitation link, the sign-up's
    # answer (nobody is logged in before the address is verified), the member's submit after
    # losing the permission, demoting the last owner.
    first_token = first_link.rsplit("/", 1)[1]
    assert member_refusals == [
        (404, "GET", f"/api/v2/invitations/{first_token}"),
        (401, "POST", "/_allauth/browser/v1/auth/signup"),
        (403, "POST", "/api/v2/orgs/team-org/tasks"),
    ]
    owner_id = Membership.objects.get(org=org, user__email=OWNER).pk
    assert owner_refusals == [(409, "PATCH", f"/api/v2/orgs/team-org/members/{owner_id}")]
    assert [e for e in console_errors if not REFUSED_RESOURCE.search(e)] == []
    assert [e for e in member_errors if not REFUSED_RESOURCE.search(e)] == []
    assert len(console_errors) + len(member_errors) == 4


def test_a_free_org_is_offered_the_upgrade_for_paid_features(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str]
) -> None:
    owner = user_create(email=OWNER, password=PASSWORD, is_email_verified=True)
    org_open(name="Free Org", owner=owner)  # no subscription: the Free plan
    log_in(page, web_app, OWNER)

    # The audit log needs Business: the page says so and links to the billing page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    upgrade = page.get_by_test_id("upgrade-link")
    expect(upgrade).to_be_visible()
    expect(upgrade).to_have_attribute("href", "/orgs/free-org/billing")
    expect(page.get_by_text("The audit log needs the Business plan")).to_be_visible()
    dismiss_toasts(page)
    shoot("audit-needs-business")

    # Creating an API key needs Pro: the dialog says so, with the same way to upgrade.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("CI")
    dialog.get_by_role("button", name="Create key").click()
    expect(dialog.get_by_text("API keys need the Pro plan")).to_be_visible()
    upgrade = dialog.get_by_test_id("upgrade-link")
    expect(upgrade).to_have_attribute("href", "/orgs/free-org/billing")
    shoot("api-key-needs-pro")

    assert [e for e in console_errors if "status of 402" not in e] == []
