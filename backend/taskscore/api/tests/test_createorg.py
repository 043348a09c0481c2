from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from taskscore.orgs.models import ApiKey, Membership, Organization

pytestmark = pytest.mark.django_db


def _createorg(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("createorg", *args, "--json", stdout=out)
    result: dict[str, object] = json.loads(out.getvalue())
    return result


def test_createorg_creates_org_owner_and_a_working_owner_key() -> None:
    result = _createorg("--name", "Demo Org", "--owner-email", "Demo@Example.test")
    org = Organization.objects.get()
    assert org.slug == "demo-org"
    membership = Membership.objects.get()
    assert (membership.user.email, membership.role.key) == ("demo@example.test", "owner")
    owner = result["owner"]
    assert isinstance(owner, dict)
    assert owner["password"]
    assert Client().login(email="demo@example.test", password=owner["password"])

    api_key = result["api_key"]
    assert isinstance(api_key, dict)
    response = Client().get(
        "/api/v1/tasks", headers={"authorization": f"Bearer {api_key['token']}"}
    )
    assert response.status_code == 200
    assert ApiKey.objects.get().role.key == "owner"


def test_a_second_org_for_the_same_owner_reuses_the_user_and_gets_a_new_slug() -> None:
    _createorg("--name", "Demo", "--owner-email", "o@example.test")
    result = _createorg("--name", "Demo", "--owner-email", "o@example.test")
    owner = result["owner"]
    assert isinstance(owner, dict)
    assert owner["password"] is None
    assert sorted(Organization.objects.values_list("slug", flat=True)) == ["demo", "demo-2"]


def test_createorg_rejects_a_bad_email_and_writes_nothing() -> None:
    with pytest.raises(CommandError, match="not an email"):
        _createorg("--name", "X", "--owner-email", "nope")
    assert Organization.objects.count() == 0
