"""The committed v2 contract (backend/openapi/v2.json) is what the code serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client, override_settings

from taskscore.api.management.commands.openapi import openapi_document

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "v2.json"


def test_the_committed_v2_document_matches_the_code() -> None:
    assert COMMITTED.read_text() == openapi_document("v2"), (
        "backend/openapi/v2.json is stale: run `make openapi` and commit it"
    )


def test_the_served_document_is_the_committed_one() -> None:
    served = Client().get("/api/v2/openapi.json").json()
    assert served == json.loads(COMMITTED.read_text())


@pytest.mark.django_db
def test_a_crash_outside_an_endpoint_is_problem_json_for_the_api() -> None:
    client = Client(raise_request_exception=False)
    with override_settings(MIDDLEWARE=["tests.test_openapi_contract.Explode"]):
        response = client.get("/api/v2/me")
    assert response.status_code == 500
    assert response["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/internal-error"


class Explode:
    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

    def __call__(self, request: object) -> object:
        raise RuntimeError("boom")
