from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from taskscore.accounts.services import user_create
from taskscore.orgs.services import org_create
from taskscore.scoring.models import TaskScore
from taskscore.tasks.models import Task

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

EMAIL = "erin@example.test"
PASSWORD = "a-long-e2e-password"


def test_a_user_logs_in_submits_a_task_and_sees_its_score_appear(web_app: str, page: Page) -> None:
    # given a user who owns an org
    owner = user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    org_create(name="E2E Org", owner=owner)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    # when she logs in through the web app
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))

    # and submits a task with the form's attributes
    page.get_by_label("Title").fill("Faster exports")
    page.get_by_role("button", name="Submit task").click()

    # then the task appears, and its score appears without a reload
    row = page.get_by_test_id("task-row").filter(has_text="Faster exports")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "scored", timeout=20_000)
    task = Task.objects.get(title="Faster exports")
    score = TaskScore.objects.get(task=task)
    expect(row.get_by_test_id("task-score")).to_have_text(f"{score.value:.1f}")
    assert console_errors == []


def test_wrong_password_shows_a_readable_error(web_app: str, page: Page) -> None:
    user_create(email=EMAIL, password=PASSWORD, is_email_verified=True)
    page.goto(f"{web_app}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="not correct")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
