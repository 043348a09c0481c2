"""The whole first journey by keyboard alone: every step is reached with Tab (or Shift+Tab) and
done with Enter, Space, arrow keys or typing; the mouse is never used. Addresses are typed, as a
person types them in the address bar."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task

from .conftest import tab_to

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker", "beat"),
]

EMAIL = "kim@example.test"
PASSWORD = "a-long-keyboard-password"
SCORED_TIMEOUT = 30_000


def type_into(page: Page, label: str, text: str, *, exact: bool = False) -> None:
    tab_to(page, page.get_by_label(label, exact=exact))
    page.keyboard.type(text)


def activate(page: Page, role: str, name: str, *, key: str = "Enter") -> None:
    tab_to(page, page.get_by_role(role, name=name).first)  # type: ignore[arg-type]
    page.keyboard.press(key)


def test_the_whole_journey_by_keyboard(web_app: str, page: Page, console_errors: list[str]) -> None:
    # Sign up.
    page.goto(f"{web_app}/signup")
    type_into(page, "Email", EMAIL)
    type_into(page, "Password", PASSWORD)
    activate(page, "button", "Create account")
    expect(page).to_have_url(re.compile(r"/verify-email$"))

    # Open the verification link from the outbox.
    activate(page, "link", "local outbox")
    expect(page).to_have_url(re.compile(r"/outbox$"))
    message = page.get_by_test_id("outbox-message").filter(has_text=EMAIL).first
    tab_to(page, message.locator("summary"))
    page.keyboard.press("Enter")
    tab_to(page, message.get_by_test_id("outbox-link").first)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/account/verify-email/"))
    activate(page, "button", "Verify my email address")
    activate(page, "link", "Continue")

    # Create an org.
    expect(page).to_have_url(re.compile(r"/onboarding$"))
    type_into(page, "Organization name", "Keys Org")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/orgs/keys-org/tasks$"))

    # Submit a task and see it scored.
    type_into(page, "Title", "Keyboard shortcuts", exact=True)
    type_into(
        page,
        "Description",
        "Goal: power users never touch the mouse. Done when every action has a key.",
    )
    type_into(page, "Reach", "300")
    type_into(page, "Effort", "3")
    activate(page, "button", "Submit task")
    row = page.get_by_test_id("task-row").filter(has_text="Keyboard shortcuts")
    expect(row).to_have_attribute("data-status", "scored", timeout=SCORED_TIMEOUT)

    # Open it: the breakdown is there.
    tab_to(page, row.get_by_role("link"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("task-heading")).to_have_text("Keyboard shortcuts")
    expect(page.get_by_test_id("score-breakdown")).to_be_visible()
    task = Task.objects.get(title="Keyboard shortcuts")

    # Change the model: a copy of the active version with a heavier effort, saved as a draft.
    tab_to(
        page,
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Scoring"),
        backwards=True,
    )
    page.keyboard.press("Enter")
    activate(page, "link", "Open to edit a copy")
    activate(page, "button", "Edit a copy")
    effort = page.get_by_test_id("criterion-editor").nth(3)
    tab_to(page, effort.get_by_label("Weight"))
    page.keyboard.press("Control+a")
    page.keyboard.type("6")
    activate(page, "button", "Save as a new draft")
    expect(page).to_have_url(re.compile(r"/versions/2$"))

    # Preview it on the existing tasks, publish and activate it.
    # Its cost comes first; the focus moves to the button that starts it.
    activate(page, "button", "Preview on the latest tasks")
    start = page.get_by_role("button", name="Start the preview")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("preview-results")).to_be_visible(timeout=SCORED_TIMEOUT)
    tab_to(page, page.get_by_role("button", name="Publish version 2"), backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("version-state")).to_have_attribute("data-state", "published")
    tab_to(page, page.get_by_role("button", name="Activate version 2"), backwards=True)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    tab_to(page, dialog.get_by_role("button", name="Activate"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("version-state")).to_have_attribute("data-state", "active")

    # Re-score the task from its page: both versions are in its history.
    page.goto(f"{web_app}/orgs/keys-org/tasks/{task.id}")
    activate(page, "button", "Re-score")
    dialog = page.get_by_role("dialog")
    tab_to(page, dialog.get_by_role("button", name="Re-score"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("score-history-row")).to_have_count(2, timeout=SCORED_TIMEOUT)
    assert TaskScore.objects.filter(task=task).count() == 2

    # Escape closes a dialog and leaves the page usable.
    page.goto(f"{web_app}/orgs/keys-org/tasks")
    activate(page, "button", "Re-score all")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Only the sign-up's answer (401: nobody is logged in before the address is verified), which
    # the browser logs as a failed request.
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
