from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

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
    result = _createorg(
        "--name", "Demo Org", "--owner-email", "Demo@Example.test", "--plan", "pro"
    )  # fmt: skip
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


def test_on_free_the_owner_key_is_kept_but_refused_until_the_org_upgrades() -> None:
    # given an org created on Free (no --plan)
    result = _createorg("--name", "Lean", "--owner-email", "lean@example.test")
    org = result["org"]
    api_key = result["api_key"]
    assert isinstance(org, dict)
    assert isinstance(api_key, dict)
    assert org["plan"] == "free"
    headers = {"authorization": f"Bearer {api_key['token']}"}
    # when its key is used
    refused = Client().get("/api/v1/tasks", headers=headers)
    # then it is a 402 naming the feature and the plan that has it
    assert refused.status_code == 402
    body = refused.json()
    assert (body["type"], body["feature"], body["plan"], body["required_plan"]) == (
        "/problems/plan-feature-required", "api_keys", "free", "pro"
    )  # fmt: skip
    # and once an operator grants Pro, the same key works
    call_command("plan_grant", "--org", "lean", "--plan", "pro", stdout=StringIO())
    assert Client().get("/api/v1/tasks", headers=headers).status_code == 200
    assert ApiKey.objects.get().revoked_at is None


def test_createorg_rejects_an_unknown_plan_and_writes_nothing() -> None:
    with pytest.raises(CommandError, match="No such plan"):
        _createorg("--name", "X", "--owner-email", "x@example.test", "--plan", "gold")
    assert Organization.objects.count() == 0


def test_the_demo_org_is_granted_pro_so_its_printed_key_works(tmp_path: Path) -> None:
    out = StringIO()
    call_command("demo", "--state", str(tmp_path / "demo.json"), stdout=out)
    token = json.loads((tmp_path / "demo.json").read_text())["api_key"]
    assert token in out.getvalue()
    response = Client().get("/api/v1/tasks", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    # and again on the next start (nothing created twice)
    call_command("demo", "--state", str(tmp_path / "demo.json"), stdout=StringIO())
    assert (Organization.objects.count(), ApiKey.objects.count()) == (1, 1)
