"""A reviewer's journey: on a task's page, override an AI criterion with a reason and see the
machine's and the person's values side by side (and the reviewed score in the list, which filters
on it), clear the override again and find it in the history; read how the score was made; then
the AI page (usage meter, rules, redaction) and the cost of re-scoring every task."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from taskscore.accounts.services import user_create
from taskscore.orgs.models import Organization
from taskscore.scoring.models import HumanRating, ScoreOverride, TaskScore
from taskscore.scoring.services import org_open
from taskscore.tasks.models import Task

from .conftest import Shoot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "beat"),
]

EMAIL = "rita@example.test"
PASSWORD = "a-long-review-password"
SCORED_TIMEOUT = 30_000
REASON = "The description names no definition of done."


def test_a_reviewer_overrides_an_ai_criterion_clears_it_and_reads_the_ai_page(
    web_app: str, page: Page, shoot: Shoot, console_errors: list[str]
) -> None:
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_open(name="Review Org", owner=owner)
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/orgs/review-org/tasks$"))

    # A task, scored by the worker (the fake AI rates its clarity).
    page.get_by_label("Title", exact=True).fill("Invoice export for finance")
    page.get_by_label("Description").fill("Finance wants invoices as a file, somehow.")
    page.get_by_label("Reach").fill("400")
    page.get_by_label("Impact").fill("6")
    page.get_by_label("Confidence").fill("80")
    page.get_by_label("Effort").fill("2")
    page.get_by_role("button", name="Submit task").click()
    row = page.get_by_test_id("task-row").filter(has_text="Invoice export for finance")
    expect(row).to_have_attribute("data-status", "scored", timeout=SCORED_TIMEOUT)
    task = Task.objects.get(title="Invoice export for finance")
    score = TaskScore.objects.get(task=task)
    machine_rating = next(item["value"] for item in score.breakdown if item["key"] == "clarity")

    # The task page says how the score was made, from the score's stored inputs.
    row.get_by_role("link").click()
    expect(page.get_by_test_id("task-heading")).to_have_text("Invoice export for finance")
    expect(page.get_by_test_id("score-inputs")).to_be_visible()
    expect(page.get_by_test_id("score-fields-sent")).to_have_text("The title and description")
    expect(page.get_by_test_id("score-recomputed")).to_contain_text(f"{score.value:.1f}")
    expect(page.get_by_test_id("score-recomputed")).to_contain_text("Same as the machine's score")
    expect(page.get_by_test_id("machine-score")).to_have_count(0)
    shoot("task-before-review")

    # Override the AI criterion: the dialog starts in the value field and checks what is typed.
    clarity = page.locator('[data-testid="breakdown-row"][data-criterion="clarity"]')
    clarity.get_by_role("button", name="Override Clarity").click()
    dialog = page.get_by_role("dialog")
    rating = dialog.get_by_label("Your rating")
    expect(rating).to_be_focused()
    expect(rating).to_have_accessible_description(re.compile(r"A rating from 0 to 10\."))
    dialog.get_by_role("button", name="Save override").click()
    expect(dialog.get_by_text("Enter a value.")).to_be_visible()
    expect(dialog.get_by_text("Say why the machine's value is wrong.")).to_be_visible()
    rating.fill("11")
    dialog.get_by_label("Reason").fill(REASON)
    dialog.get_by_role("button", name="Save override").click()
    expect(dialog.get_by_text("A rating is from 0 to 10.")).to_be_visible()
    expect(rating).to_be_focused()
    assert not ScoreOverride.objects.exists()
    rating.fill("2")
    shoot("override-dialog")
    dialog.get_by_role("button", name="Save override").click()
    expect(dialog).to_be_hidden()

    # The machine's and the person's values side by side; the reviewed score in the header.
    override = ScoreOverride.objects.get(task=task, cleared_at__isnull=True)
    assert (override.criterion, override.value, override.reason) == ("clarity", 2, REASON)
    reviewed = Task.objects.get(pk=task.pk).score_value
    assert reviewed is not None
    assert round(reviewed, 1) != round(score.value, 1)
    expect(clarity).to_have_attribute("data-overridden", "true")
    expect(clarity.get_by_test_id("breakdown-machine")).to_contain_text(
        f"Machine: Rating {machine_rating:g} of 10"
    )
    expect(clarity.get_by_test_id("breakdown-human")).to_contain_text("Person: 2 of 10")
    expect(page.get_by_test_id("task-score")).to_have_text(f"{reviewed:.1f}")
    expect(page.get_by_test_id("machine-score")).to_have_text(f"Machine: {score.value:.1f}")
    entry = page.get_by_test_id("override-entry")
    expect(entry).to_contain_text(REASON)
    expect(entry).to_contain_text(f"By {EMAIL}")
    shoot("task-overridden")

    # The list shows the reviewed value with a marker, and filters on review (kept in the URL).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    expect(row.get_by_test_id("task-score")).to_have_text(f"{reviewed:.1f}")
    expect(row.get_by_test_id("reviewed-marker")).to_be_visible()
    page.get_by_label("Review").select_option(label="Overridden")
    expect(page).to_have_url(re.compile(r"[?&]overridden=true"))
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    shoot("tasks-overridden")
    page.get_by_label("Review").select_option(label="Not overridden")
    expect(page).to_have_url(re.compile(r"[?&]overridden=false"))
    expect(page.get_by_text("No task matches")).to_be_visible()
    page.get_by_role("button", name="Clear the filters").click()
    expect(page.get_by_test_id("task-row")).to_have_count(1)

    # Clear the override, after a confirmation: the machine's value counts again.
    row.get_by_role("link").click()
    page.get_by_test_id("override-entry").get_by_role(
        "button", name="Clear the override of Clarity"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Clear override").click()
    expect(page.get_by_test_id("override-entry")).to_have_count(0)
    expect(page.get_by_test_id("machine-score")).to_have_count(0)
    expect(page.get_by_test_id("task-score")).to_have_text(f"{score.value:.1f}")
    expect(page.get_by_role("heading", name="Reviews")).to_be_focused()
    assert ScoreOverride.objects.get(pk=override.pk).cleared_at is not None
    page.get_by_role("button", name="Show the full history").click()
    history = page.get_by_test_id("override-history-entry")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Cleared")
    expect(history).to_contain_text(REASON)
    shoot("task-cleared")

    # The AI page: this month's calls against the Free plan's allowance, the rules, redaction.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="AI", exact=True).click()
    expect(page.get_by_role("heading", name="AI", level=1)).to_be_visible()
    meter = page.get_by_role("meter", name="AI calls this month")
    expect(meter).to_be_visible()
    expect(page.get_by_test_id("ai-usage-used")).to_have_text(
        re.compile(r"^[1-9]\d* of 1,000 AI calls? used$")
    )
    expect(page.get_by_test_id("ai-usage-left")).to_have_text(re.compile(r" left this month$"))
    expect(page.get_by_test_id("ai-redaction")).to_contain_text("Email addresses")
    send_description = page.get_by_role("switch", name="Send the description")
    expect(send_description).to_have_attribute("aria-checked", "true")
    shoot("ai-page")
    send_description.click()
    expect(send_description).to_have_attribute("aria-checked", "false")
    assert Organization.objects.get(slug="review-org").ai_send_description is False
    send_description.click()
    expect(send_description).to_have_attribute("aria-checked", "true")

    # The scoring overview carries a compact meter; re-scoring every task says its cost first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scoring").click()
    expect(page.get_by_test_id("ai-usage")).to_contain_text("left this month")

    # Calibration on the version's page: a CSV with a bad row imports nothing and names the row;
    # a good one imports, and the criterion counts the label.
    page.get_by_test_id("version-row").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Calibration")).to_be_visible()
    ratings = page.get_by_label("Or paste the ratings")
    ratings.fill(f"task_id,criterion,rating\n{task.pk},clarity,11\n")
    page.get_by_role("button", name="Import ratings").click()
    expect(page.get_by_test_id("labels-import-errors")).to_contain_text("Row 1 (line 2)")
    assert not HumanRating.objects.filter(source="import").exists()
    ratings.fill(f"task_id,criterion,rating\n{task.pk},clarity,3\n")
    page.get_by_role("button", name="Import ratings").click()
    expect(page.get_by_text("Imported 1 rating", exact=True)).to_be_visible()
    expect(
        page.locator('[data-testid="calibration-criterion"][data-criterion="clarity"]')
    ).to_contain_text("1 imported")
    shoot("calibration")
    assert HumanRating.objects.get(source="import").rating == 3
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    page.get_by_role("button", name="Re-score all").click()
    estimate = page.get_by_role("dialog").get_by_test_id("rescore-estimate")
    expect(estimate).to_contain_text("nothing to re-score")
    expect(page.get_by_role("dialog").get_by_role("button", name="Re-score all")).to_be_disabled()
    shoot("rescore-all-estimate")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # The one failed request is the refused import; the browser logs every 4xx it receives.
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
