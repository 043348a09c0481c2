"""The users of `make soak` (bench/soak.py), run by locust headless in its own process.

Three kinds, by weight:

- `Browser` (6): the web app of an org owner, logged in (a session cookie): polls the task list
  with If-None-Match (the API answers 304 while the page is unchanged, as a browser's HTTP cache
  sends it), opens a task, the billing summary, /api/v2/me; 1–5 s between actions.
- `ApiClient` (3): an integration with an API key: submits a task with an Idempotency-Key, retried
  with the same key on a 5xx, a connection error or a 409 (the first attempt still running) so a
  restart loses nothing, then reads it back; 2–6 s between submissions. Every acknowledged task
  id is appended to a file of this process (`ids_dir/ids-<pid>.txt`), which the driver reads.
- `StripeSender` (1): Stripe delivering the signed webhook events of an org's subscription
  lifecycle (`fake_stripe.subscription_lifecycle`, as chaos-billing sends them) in order, 15% of
  them delivered twice, a failed delivery (5xx, connection error) sent again freshly signed.

Every 5xx and connection error is appended, with its wall-clock time, to `errors_file`, so the
driver can tell the ones inside a fault's window from the others. The configuration comes from
the JSON file named by SOAK_CONFIG.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from taskscore.testing.fake_stripe import sign_header, subscription_lifecycle

CONFIG: dict[str, Any] = json.loads(Path(os.environ["SOAK_CONFIG"]).read_text())
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
SUBMIT_TRIES = 40  # backoff 0.25 s doubling to 4 s: ~2.5 min, longer than any restart
DELIVERY_TRIES = 30
_lock = threading.Lock()
_ids_path = Path(CONFIG["ids_dir"]) / f"ids-{os.getpid()}.txt"
_webhook_orgs = itertools.cycle(range(len(CONFIG["webhook_orgs"])))


def _append(path: Path, line: str) -> None:
    with _lock, path.open("a") as out:
        out.write(line + "\n")


@events.request.add_listener
def _record_errors(
    request_type: str,
    name: str,
    response: Any,
    exception: BaseException | None,
    **kwargs: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    if status >= 500 or (status == 0 and exception is not None):
        kind = str(status) if status else "connection"
        _append(Path(CONFIG["errors_file"]), f"{time.time():.3f} {kind} {request_type} {name}")


def _backoff(attempt: int) -> None:
    time.sleep(min(4.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))


class Browser(HttpUser):
    weight = 6
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.client.headers.update(PROXY | {"Cookie": f"sessionid={CONFIG['session_id']}"})
        self.etag = ""
        self.task_ids: list[str] = []
        self.tasks_url = f"/api/v2/orgs/{CONFIG['slug']}/tasks"

    @task(6)
    def poll_task_list(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(
            f"{self.tasks_url}?limit=50", headers=headers, name="list tasks", catch_response=True
        ) as response:
            if response.status_code == 200:
                self.etag = response.headers.get("ETag", "")
                self.task_ids = [item["id"] for item in response.json()["items"]]
                response.success()
            elif response.status_code == 304:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")

    @task(2)
    def open_task(self) -> None:
        if self.task_ids:
            self.client.get(f"{self.tasks_url}/{random.choice(self.task_ids)}", name="get task")

    @task(1)
    def billing(self) -> None:
        self.client.get(f"/api/v2/orgs/{CONFIG['slug']}/billing", name="billing summary")

    @task(1)
    def me(self) -> None:
        self.client.get("/api/v2/me", name="me")


class ApiClient(HttpUser):
    weight = 3
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.client.headers.update(PROXY | {"Authorization": f"Bearer {CONFIG['token']}"})
        self.tasks_url = f"/api/v2/orgs/{CONFIG['slug']}/tasks"

    @task
    def submit_and_read(self) -> None:
        key = str(uuid.uuid4())
        body = {
            "title": f"Soak {key[:8]}: offline mode for the mobile app",
            "description": "Submitted by the soak.",
            "attributes": {"reach": random.randint(10, 5000), "impact": 2, "confidence": 70,
                           "effort": random.randint(1, 8)},
        }  # fmt: skip
        task_id = ""
        for attempt in range(SUBMIT_TRIES):
            if attempt:
                _backoff(attempt - 1)
            with self.client.post(
                self.tasks_url, json=body, headers={"Idempotency-Key": key},
                name="submit task", catch_response=True,
            ) as response:  # fmt: skip
                if response.status_code == 201:
                    task_id = response.json()["id"]
                    response.success()
                    break
                response.failure(f"HTTP {response.status_code}")
                # 409: the first attempt is still running; 5xx or 0 (no connection): again
                if 0 < response.status_code < 500 and response.status_code != 409:
                    return
        if not task_id:
            return
        _append(_ids_path, task_id)
        for _ in range(2):
            time.sleep(random.uniform(0.5, 2.0))
            self.client.get(f"{self.tasks_url}/{task_id}", name="get own task")


class StripeSender(HttpUser):
    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.headers.update(PROXY | {"Content-Type": "application/json"})
        self.events: list[bytes] = []

    def _next_lifecycle(self) -> None:
        with _lock:
            org = CONFIG["webhook_orgs"][next(_webhook_orgs)]
        lifecycle = subscription_lifecycle(
            org_id=org["org_id"], customer=org["customer"], prefix=org["prefix"],
            start=org["start"], pro_price=CONFIG["pro_price"],
            business_price=CONFIG["business_price"],
        )  # fmt: skip
        self.events = [json.dumps(event).encode() for event in lifecycle]

    def _deliver(self, raw: bytes) -> None:
        for attempt in range(DELIVERY_TRIES):
            if attempt:
                _backoff(attempt - 1)
            header = sign_header(raw, CONFIG["webhook_secret"])
            with self.client.post(
                "/api/webhooks/stripe", data=raw, headers={"Stripe-Signature": header},
                name="stripe webhook", catch_response=True,
            ) as response:  # fmt: skip
                if 200 <= response.status_code < 300:
                    response.success()
                    return
                response.failure(f"HTTP {response.status_code}")
                if response.status_code and response.status_code < 500:
                    return

    @task
    def send_event(self) -> None:
        if not self.events:
            self._next_lifecycle()
        raw = self.events.pop(0)
        self._deliver(raw)
        if random.random() < 0.15:  # Stripe delivers some events twice
            time.sleep(random.uniform(0.05, 1.0))
            self._deliver(raw)
