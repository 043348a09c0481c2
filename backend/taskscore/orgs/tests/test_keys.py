from __future__ import annotations

import pytest

from taskscore.orgs.keys import key_generate, key_parse
from taskscore.orgs.models import ApiKey, Organization
from taskscore.orgs.principals import principal_for_token
from taskscore.orgs.services import api_key_create, api_key_revoke
from taskscore.rbac.callers import OPERATOR


def test_generated_key_parses_back_into_its_parts() -> None:
    token, parts = key_generate()
    assert token.startswith("ts_")
    assert key_parse(token) == parts


@pytest.mark.parametrize("token", ["", "ts_", "ts__x", "xx_abc_def", "ts_abc", "ts_a_b_c"])
def test_malformed_tokens_do_not_parse(token: str) -> None:
    assert key_parse(token) is None


@pytest.mark.django_db
def test_key_is_stored_hashed_and_authenticates_until_revoked(org: Organization) -> None:
    created = api_key_create(org=org, name="ci", role_key="member", caller=OPERATOR)
    row = ApiKey.objects.get()
    assert created.token.split("_")[2] not in row.secret_hash  # the secret itself is not stored
    principal = principal_for_token(created.token)
    assert principal is not None
    assert (principal.api_key_id, principal.role) == (row.pk, "member")
    assert principal_for_token(created.token[:-1] + "x") is None

    api_key_revoke(org_id=org.pk, key_id=row.pk, caller=OPERATOR)
    assert principal_for_token(created.token) is None
