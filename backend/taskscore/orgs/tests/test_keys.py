from __future__ import annotations

import pytest

from taskscore.orgs.keys import key_generate, key_parse
from taskscore.orgs.models import ApiKey, Organization, Role
from taskscore.orgs.selectors import api_key_authenticate
from taskscore.orgs.services import api_key_create


def test_generated_key_parses_back_into_its_parts() -> None:
    token, parts = key_generate()
    assert token.startswith("ts_")
    assert key_parse(token) == parts


@pytest.mark.parametrize("token", ["", "ts_", "ts__x", "xx_abc_def", "ts_abc", "ts_a_b_c"])
def test_malformed_tokens_do_not_parse(token: str) -> None:
    assert key_parse(token) is None


@pytest.mark.django_db
def test_key_is_stored_hashed_and_authenticates_until_revoked(org: Organization) -> None:
    created = api_key_create(org=org, name="ci", role=Role.MEMBER, created_by=None)
    row = ApiKey.objects.get()
    assert created.token.split("_")[2] not in row.secret_hash  # the secret itself is not stored
    assert api_key_authenticate(token=created.token) == row
    assert api_key_authenticate(token=created.token[:-1] + "x") is None

    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert api_key_authenticate(token=created.token) is None
