"""`Idempotency-Key` on v2 POSTs: replay, conflict, and concurrent requests with one key."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from taskscore.orgs.services import CreatedKey
from taskscore.rbac.callers import OPERATOR
from taskscore.tasks.models import Task

URL = "/api/v2/orgs/acme/tasks"


def _post(token: str, body: dict[str, Any], key: str) -> Any:
    return Client().post(
        URL,
        json.dumps(body),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}", "idempotency-key": key},
    )


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_response(owner_key: CreatedKey) -> None:
    first = _post(owner_key.token, {"title": "Once"}, "key-1")
    again = _post(owner_key.token, {"title": "Once"}, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Task.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_409_and_writes_nothing(owner_key: CreatedKey) -> None:
    _post(owner_key.token, {"title": "Once"}, "key-2")
    conflict = _post(owner_key.token, {"title": "Twice"}, "key-2")
    assert conflict.status_code == 409
    assert conflict.json()["type"] == "/problems/idempotency-conflict"
    assert list(Task.objects.values_list("title", flat=True)) == ["Once"]


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(owner_key: CreatedKey, other_org_key: CreatedKey) -> None:
    _post(owner_key.token, {"title": "Mine"}, "shared")
    other = Client().post(
        "/api/v2/orgs/globex/tasks",
        json.dumps({"title": "Mine"}),
        content_type="application/json",
        headers={"authorization": f"Bearer {other_org_key.token}", "idempotency-key": "shared"},
    )
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Task.objects.count() == 2


@pytest.mark.django_db
def test_validation_errors_are_replayed_too(owner_key: CreatedKey) -> None:
    first = _post(owner_key.token, {"title": ""}, "bad")
    again = _post(owner_key.token, {"title": ""}, "bad")
    assert first.status_code == again.status_code == 422
    assert Task.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_task(owner_key: CreatedKey) -> None:
    def attempt(_: int) -> int:
        try:
            return int(_post(owner_key.token, {"title": "Race"}, "race-key").status_code)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert Task.objects.filter(title="Race").count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}


@pytest.mark.django_db
def test_a_refused_request_is_not_stored_so_the_client_can_retry(owner_key: CreatedKey) -> None:
    from django.test import override_settings

    with override_settings(RATE_LIMIT_PER_CALLER_PER_MINUTE=1, RATE_LIMIT_PER_ORG_PER_MINUTE=100):
        assert _post(owner_key.token, {"title": "a"}, "k-a").status_code == 201
        assert _post(owner_key.token, {"title": "b"}, "k-b").status_code == 429
    again = _post(owner_key.token, {"title": "b"}, "k-b")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again


@pytest.mark.django_db
def test_a_created_secret_is_not_stored_nor_replayed(owner_key: CreatedKey) -> None:
    from taskscore.api.models import IdempotentRequest

    url = "/api/v2/orgs/acme/api-keys"
    headers = {"authorization": f"Bearer {owner_key.token}", "idempotency-key": "new-key"}
    body = json.dumps({"name": "ci", "role": "member"})
    first = Client().post(url, body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    token = first.json()["token"]
    assert token.encode() not in bytes(IdempotentRequest.objects.get().response_body or b"")
    again = Client().post(url, body, content_type="application/json", headers=headers)
    assert again.status_code == 409
    assert token.encode() not in again.content


@pytest.mark.django_db
def test_a_revoked_key_gets_no_replay(owner_key: CreatedKey) -> None:
    from taskscore.orgs.services import api_key_revoke

    assert _post(owner_key.token, {"title": "x"}, "k-r").status_code == 201
    api_key_revoke(
        org_id=owner_key.api_key.org_id, key_id=owner_key.api_key.pk, caller=OPERATOR,
    )  # fmt: skip
    assert _post(owner_key.token, {"title": "x"}, "k-r").status_code == 401


@pytest.mark.django_db
def test_an_abandoned_request_does_not_block_its_key(owner_key: CreatedKey) -> None:
    import hashlib
    from datetime import timedelta

    from django.utils import timezone

    from taskscore.api.models import IdempotentRequest

    caller = "key:" + hashlib.sha256(owner_key.token.encode()).hexdigest()
    stale = IdempotentRequest.objects.create(caller=caller, key="k-dead", request_hash="x")
    IdempotentRequest.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert _post(owner_key.token, {"title": "y"}, "k-dead").status_code == 201
