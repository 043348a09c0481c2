"""A new person's whole first journey, as they meet it in the browser: sign up, verify the email
through the mailed link, create an org, submit a task and watch it get scored, read its
breakdown, change the scoring model, preview it on the existing tasks, publish, activate,
re-score, and see both versions on the task page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from taskscore.scoring.models import ScoringVersion, TaskScore
from taskscore.tasks.models import Task

from .conftest import Shoot, read_outbox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "beat"),
]

EMAIL = "nora@example.test"
PASSWORD = "a-long-journey-password"
SCORED_TIMEOUT = 30_000


def sign_up_and_verify(page: Page, web_app: str, shoot: Shoot, *, email: str = EMAIL) -> None:
    page.goto(f"{web_app}/signup")
    expect(page.get_by_role("heading", name="Create your Taskscore account")).to_be_visible()
    shoot("signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(re.compile(r"/verify-email$"))
    expect(page.get_by_text(f"We sent a link to {email}")).to_be_visible()
    shoot("verify-email-notice")

    # The mail is in the local outbox, which the notice links to.
    page.get_by_role("link", name="local outbox").click()
    message = page.get_by_test_id("outbox-message").filter(has_text=email).first
    expect(message).to_be_visible()
    message.locator("summary").click()
    shoot("outbox")
    message.get_by_test_id("outbox-link").filter(has_text="/account/verify-email/").click()

    expect(page).to_have_url(re.compile(r"/account/verify-email/[^/]+$"))
    expect(page.get_by_text(f"Confirm that {email} is your email address.")).to_be_visible()
    shoot("verify-email-link")
    page.get_by_role("button", name="Verify my email address").click()
    expect(page.get_by_text("Your email address is verified")).to_be_visible()
    page.get_by_role("link", name="Continue").click()


def test_a_new_person_signs_up_scores_tasks_and_changes_the_model(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str], outbox_dir: Path
) -> None:
    # Sign up and verify the address through the link in the mail.
    sign_up_and_verify(page, web_app, shoot)
    assert any("/account/verify-email/" in str(m["body"]) for m in read_outbox(outbox_dir))

    # Onboarding: create an org.
    expect(page).to_have_url(re.compile(r"/onboarding$"))
    shoot("onboarding")
    page.get_by_label("Organization name").fill("Journey Org")
    page.get_by_role("button", name="Create organization").click()
    expect(page).to_have_url(re.compile(r"/orgs/journey-org/tasks$"))
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    shoot("tasks-empty")

    # Submit a task built from the active model's criteria; it gets its score without a reload.
    page.get_by_label("Title", exact=True).fill("Export reports as CSV for finance")
    page.get_by_label("Description").fill(
        "Goal: finance downloads the monthly report as CSV. Done when the export button works."
    )
    page.get_by_label("Reach").fill("400")
    page.get_by_label("Impact").fill("6")
    page.get_by_label("Confidence").fill("80")
    page.get_by_label("Effort").fill("2")
    page.get_by_role("button", name="Submit task").click()
    row = page.get_by_test_id("task-row").filter(has_text="Export reports as CSV for finance")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "scored", timeout=SCORED_TIMEOUT)
    first = Task.objects.get(title="Export reports as CSV for finance")
    first_score = TaskScore.objects.get(task=first)
    expect(row.get_by_test_id("task-score")).to_have_text(f"{first_score.value:.1f}")

    # A double click on submit makes one task.
    page.get_by_label("Title", exact=True).fill("Dark mode")
    page.get_by_label("Reach").fill("900")
    page.get_by_role("button", name="Submit task").dblclick()
    dark = page.get_by_test_id("task-row").filter(has_text="Dark mode")
    expect(dark).to_have_attribute("data-status", "scored", timeout=SCORED_TIMEOUT)
    assert Task.objects.filter(title="Dark mode").count() == 1
    shoot("tasks-ranked")

    # Search and filter narrow the list (and the URL keeps them).
    page.get_by_label("Search titles").fill("dark")
    expect(page).to_have_url(re.compile(r"[?&]q=dark"))
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    page.get_by_label("Search titles").fill("")
    expect(page.get_by_test_id("task-row")).to_have_count(2)

    # The task page: the breakdown as a chart, the AI rationale, provider, model, tokens, cost.
    row.get_by_role("link").click()
    expect(page.get_by_test_id("task-heading")).to_have_text("Export reports as CSV for finance")
    breakdown = page.get_by_test_id("score-breakdown")
    expect(breakdown.get_by_test_id("breakdown-row")).to_have_count(len(first_score.breakdown))
    expect(breakdown.get_by_test_id("ai-rationale")).to_be_visible()
    facts = page.get_by_test_id("ai-facts")
    expect(facts).to_contain_text("openai")
    expect(facts).to_contain_text("fake-model")
    expect(page.get_by_test_id("score-history-row")).to_have_count(1)
    expect(page.get_by_role("button", name="Re-score")).to_be_disabled()
    shoot("task-detail")

    # The scoring model: edit a copy of the active version as a new draft.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scoring").click()
    expect(page.get_by_test_id("active-version")).to_contain_text("version 1")
    shoot("scoring")
    page.get_by_role("link", name="Open to edit a copy").click()
    page.get_by_role("button", name="Edit a copy").click()
    effort = page.get_by_test_id("criterion-editor").nth(3)  # reach, impact, confidence, effort
    effort.get_by_label("Weight").fill("6")
    expect(effort.get_by_test_id("weight-share")).to_contain_text("43% of the score")
    page.get_by_label("Notes").fill("Effort counts more")
    shoot("scoring-edit")
    page.get_by_role("button", name="Save as a new draft").click()
    expect(page).to_have_url(re.compile(r"/scoring/models/\d+/versions/2$"))
    expect(page.get_by_test_id("version-state")).to_have_attribute("data-state", "draft")

    # Preview the draft on the existing tasks: old and new score and rank; nothing stored.
    # It says what it costs in AI calls before it starts.
    scores_before = TaskScore.objects.count()
    page.get_by_role("button", name="Preview on the latest tasks").click()
    expect(page.get_by_test_id("preview-estimate")).to_contain_text(
        re.compile(r"Preview 2 tasks: up to 2 AI calls; [\d,]+ left this month\.")
    )
    shoot("scoring-preview-estimate")
    page.get_by_role("button", name="Start the preview").click()
    results = page.get_by_test_id("preview-results")
    expect(results).to_be_visible(timeout=SCORED_TIMEOUT)
    expect(results.get_by_test_id("preview-row")).to_have_count(2)
    expect(results).to_contain_text("Nothing was stored.")
    assert TaskScore.objects.count() == scores_before
    shoot("scoring-preview")

    # Publish and activate it.
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.get_by_test_id("version-state")).to_have_attribute("data-state", "published")
    page.get_by_role("button", name="Activate version 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Activate").click()
    expect(page.get_by_test_id("version-state")).to_have_attribute("data-state", "active")
    assert ScoringVersion.objects.get(is_active=True, org__slug="journey-org").number == 2

    # Re-scoring every task with it says what it costs first; cancelled here.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    page.get_by_role("button", name="Re-score all").click()
    expect(page.get_by_role("dialog").get_by_test_id("rescore-estimate")).to_contain_text(
        re.compile(r"Re-score 2 tasks: up to 2 AI calls; [\d,]+ left this month\.")
    )
    shoot("rescore-all-estimate")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Compare the two versions (no task is scored by both yet).
    page.get_by_role("link", name="Scoring").first.click()
    page.get_by_role("link", name="Compare versions").click()
    shoot("scoring-compare")

    # Re-score the first task: its page shows both versions.
    page.goto(f"{web_app}/orgs/journey-org/tasks/{first.id}")
    page.get_by_role("button", name="Re-score").click()
    page.get_by_role("dialog").get_by_role("button", name="Re-score").click()
    history = page.get_by_test_id("score-history-row")
    expect(history).to_have_count(2, timeout=SCORED_TIMEOUT)
    expect(history.first).to_have_attribute("data-version", "2")
    expect(history.last).to_have_attribute("data-version", "1")
    assert TaskScore.objects.filter(task=first).count() == 2
    shoot("task-rescored")

    # The team pages: the owner alone, no key yet, and (on the Free plan) the audit log's upgrade.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
    expect(page.get_by_test_id("member-row").filter(has_text=EMAIL)).to_contain_text("Owner")
    shoot("members")
    nav.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    shoot("api-keys")
    nav.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.get_by_test_id("upgrade-link")).to_have_attribute(
        "href", "/orgs/journey-org/billing"
    )
    shoot("audit-log")
    # The billing page: the Free plan, this period's two tasks, the plans; and the account page.
    nav.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()
    expect(page.get_by_test_id("billing-plan")).to_have_text("Free")
    expect(page.get_by_role("meter", name="Tasks")).to_have_attribute("aria-valuenow", "2")
    expect(page.get_by_test_id("plan-card")).to_have_count(3)
    shoot("billing")
    nav.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account", level=1)).to_be_visible()
    shoot("account")

    # The browser logs as failed requests the audit log's refusal (402: a Free org) and the
    # sign-up's answer (401: nobody is logged in before the address is verified).
    assert [e for e in console_errors if not re.search("status of (402|401)", e)] == []
    assert sum("status of 401" in e for e in console_errors) == 1
