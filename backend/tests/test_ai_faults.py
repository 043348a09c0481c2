"""Every AI fault the fake OpenAI-compatible server can produce, through the real worker: a task
ends `scored` exactly once, or `failed` with the reason when the fault is permanent or persists
past the retry budget (TASK_MAX_ATTEMPTS = 4 in test settings)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from taskscore.integrations.ai.prompt import user_prompt
from taskscore.orgs.services import CreatedKey
from taskscore.scoring.ai import task_text
from taskscore.scoring.models import TaskScore
from taskscore.tasks.jobs import task_score
from taskscore.tasks.models import TaskStatus
from taskscore.tasks.services import TaskInput, task_submit
from taskscore.testing.fake_ai import FakeAIServer
from tests.helpers import submit_task, wait_terminal

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def _title() -> str:
    return f"Task {uuid.uuid4()}"  # a fresh prompt: no cached AI answer


@pytest.mark.parametrize(
    ("script", "attempts"),
    [
        (["429:0.2"], 2),
        (["500"], 2),
        (["503", "500"], 3),
        (["malformed"], 2),
        (["nonsense"], 2),
        (["hang"], 2),
    ],
)
def test_transient_faults_end_scored_exactly_once(
    owner_key: CreatedKey, fake_ai: FakeAIServer, script: list[str], attempts: int
) -> None:
    fake_ai.script(script)  # then "ok"
    task = wait_terminal(submit_task(owner_key.token, title=_title()))
    assert (task.status, task.attempts, task.failure_reason) == (TaskStatus.SCORED, attempts, "")
    assert TaskScore.objects.filter(task=task).count() == 1
    assert fake_ai.stats().calls == attempts


def test_retry_after_is_honored(owner_key: CreatedKey, fake_ai: FakeAIServer) -> None:
    fake_ai.script(["429:1.5"])
    started = time.monotonic()
    task = wait_terminal(submit_task(owner_key.token, title=_title()))
    assert task.status == TaskStatus.SCORED
    assert time.monotonic() - started >= 1.5


def test_a_permanent_fault_fails_at_once_with_the_reason(
    owner_key: CreatedKey, fake_ai: FakeAIServer
) -> None:
    fake_ai.script(["400"])
    task = wait_terminal(submit_task(owner_key.token, title=_title()))
    assert (task.status, task.attempts) == (TaskStatus.FAILED, 1)
    assert "refused" in task.failure_reason
    assert "400" in task.failure_reason
    assert not TaskScore.objects.filter(task=task).exists()


def test_a_persistent_outage_fails_after_the_retry_budget(
    owner_key: CreatedKey, fake_ai: FakeAIServer
) -> None:
    fake_ai.script(["500"] * 10)
    task = wait_terminal(submit_task(owner_key.token, title=_title()))
    assert (task.status, task.attempts) == (TaskStatus.FAILED, 4)
    assert "failed 4 times" in task.failure_reason
    assert fake_ai.stats().calls == 4
    assert not TaskScore.objects.filter(task=task).exists()


def test_a_failed_task_can_be_rescored(owner_key: CreatedKey, fake_ai: FakeAIServer) -> None:
    fake_ai.script(["400"])
    task = wait_terminal(submit_task(owner_key.token, title=_title()))
    assert task.status == TaskStatus.FAILED
    from taskscore.tasks.services import task_rescore

    task_rescore(org_id=task.org_id, task_id=task.pk)
    task = wait_terminal(str(task.pk))
    assert (task.status, task.failure_reason) == (TaskStatus.SCORED, "")
    assert TaskScore.objects.filter(task=task).count() == 1


def test_duplicate_jobs_and_identical_tasks_cost_one_ai_call(
    owner_key: CreatedKey, fake_ai: FakeAIServer
) -> None:
    # given five tasks with the same text, each job enqueued three times at once
    fake_ai.configure(latency=(0.5, 0.5))
    title = _title()
    tasks = [
        task_submit(
            org_id=owner_key.api_key.org_id,
            data=TaskInput(title=title, description="same", attributes={"reach": i}),
        )
        for i in range(5)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda t: task_score.delay(str(t.pk)), [t for t in tasks for _ in range(3)]))
    # then each task is scored once, and the model was asked once
    for task in tasks:
        assert wait_terminal(str(task.pk)).status == TaskStatus.SCORED
    assert TaskScore.objects.filter(task__in=tasks).count() == 5
    prompt = user_prompt(task_text(title=title, description="same"))
    assert fake_ai.calls_for(prompt) == 1
    scores = TaskScore.objects.filter(task__in=tasks)
    assert sorted(s.ai_calls for s in scores) == [0, 0, 0, 0, 1]  # four cache hits
