"""The authorization matrix's data, shared by test_authz_matrix and test_access.

- `build_world()`: the org `acme` with every kind of principal (alice owner, an admin, bob
  member, carol viewer, a custom-role member, an owner and a member API key) and one of each
  object an endpoint names; `globex` with mallory (owner) and her key.
- `PRINCIPALS`: who calls, with the permissions the catalog gives them.
- `CASES`: one per API operation: method, path as the router declares it, the permission it
  declares, a valid request and the status a principal holding the permission gets.
- `expected_status(case, principal)`: what the rules in `taskscore.api.common.auth` promise.
- `db_snapshot()`: every row of every project model, to assert a denial changed nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlencode

from django.apps import apps
from django.http import HttpResponse
from django.test import Client

from taskscore.accounts.models import User
from taskscore.api.common.auth import AUTHENTICATED, PUBLIC
from taskscore.audit.models import AuditEvent
from taskscore.audit.services import Actor as AuditActor
from taskscore.datarights.services import org_export_create, org_export_execute
from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization
from taskscore.orgs.services import api_key_create, invitation_create
from taskscore.rbac.callers import OPERATOR, FixedCaller
from taskscore.rbac.catalog import ADMIN, MEMBER, OWNER, VIEWER
from taskscore.rbac.services import role_builtin, role_create
from taskscore.scoring.models import TaskScore
from taskscore.scoring.services import (
    preview_run_create,
    scoring_model_create,
    version_active_get_or_create,
    version_create,
    version_publish,
)
from taskscore.scoring.templates import RICE
from taskscore.tasks.models import Task, TaskStatus
from taskscore.tasks.services import score_override, task_score_run
from taskscore.testing.factories import (
    MembershipFactory,
    OrganizationFactory,
    TaskFactory,
    UserFactory,
)

SETUP = AuditActor(label="test setup")
SETUP_CALLER = FixedCaller(actor=SETUP, permissions=OWNER)  # the tests' own set-up
CUSTOM_PERMISSIONS = frozenset({"task.read", "task.create", "members.read"})
VALID_TASK = {"title": "Dark mode", "description": "", "attributes": {"reach": 100, "effort": 2}}
CRITERIA = RICE.criteria  # attribute criteria only: scoring them needs no AI

PROBLEM_TYPES = {
    401: "/problems/not-authenticated",
    403: "/problems/permission-denied",
    404: "/problems/not-found",
    409: "/problems/conflict",
    422: "/problems/validation-failed",
}


# ---------------------------------------------------------------------------------- principals


@dataclass(frozen=True)
class Principal:
    name: str
    kind: Literal["anonymous", "session", "key"]
    org: str | None  # the slug of the org it belongs to
    permissions: frozenset[str]

    def __str__(self) -> str:
        return self.name


PRINCIPALS = [
    Principal("anonymous", "anonymous", None, frozenset()),
    Principal("alice", "session", "acme", OWNER),
    Principal("admin", "session", "acme", ADMIN),
    Principal("bob", "session", "acme", MEMBER),
    Principal("carol", "session", "acme", VIEWER),
    Principal("custom", "session", "acme", CUSTOM_PERMISSIONS),
    Principal("owner_key", "key", "acme", OWNER),
    Principal("member_key", "key", "acme", MEMBER),
    Principal("mallory", "session", "globex", OWNER),
    Principal("mallory_key", "key", "globex", OWNER),
]
PRINCIPAL = {p.name: p for p in PRINCIPALS}


# ---------------------------------------------------------------------------------- the world


@dataclass
class World:
    org: Organization
    other_org: Organization
    users: dict[str, User]  # session principal name -> user
    tokens: dict[str, str]  # key principal name -> full token
    task_id: str
    other_task_id: str
    model_id: int
    published_number: int  # published, not active
    draft_number: int
    compare_version_ids: tuple[int, int]
    target_member_id: int  # a viewer the member endpoints act on
    invitation_id: int  # pending
    spare_role: str  # a custom role nobody holds
    spare_key_id: int  # a member-role key nobody uses
    preview_run_id: str
    scored_task_id: str  # scored, with an active override of its whole score
    score_id: int
    override_id: str
    export_id: str  # an export of acme, done


def build_world() -> World:
    # acme has every paid feature, without a subscription (so Checkout may start one); globex's
    # key needs Pro. What each plan allows: tests/test_plan_features.py.
    org = OrganizationFactory.create(name="Acme", slug="acme", plan="business")
    other_org = OrganizationFactory.create(name="Globex", slug="globex", plan="pro")
    analyst = role_create(
        org_id=org.pk, key="analyst", name="Analyst", permissions=sorted(CUSTOM_PERMISSIONS),
        caller=SETUP_CALLER,
    )  # fmt: skip
    spare = role_create(
        org_id=org.pk, key="spare", name="Spare", permissions=["task.read"],
        caller=SETUP_CALLER,
    )  # fmt: skip
    users: dict[str, User] = {}
    for name, email, member_of, role in [
        ("alice", "alice@acme.test", org, role_builtin("owner")),
        ("admin", "dave@acme.test", org, role_builtin("admin")),
        ("bob", "bob@acme.test", org, role_builtin("member")),
        ("carol", "carol@acme.test", org, role_builtin("viewer")),
        ("custom", "erin@acme.test", org, analyst),
        ("mallory", "mallory@globex.test", other_org, role_builtin("owner")),
    ]:
        users[name] = UserFactory.create(email=email)
        MembershipFactory.create(user=users[name], org=member_of, role=role)
    target = MembershipFactory.create(
        user=UserFactory.create(email="tess@acme.test"), org=org, role=role_builtin("viewer")
    )
    tokens = {
        "owner_key": api_key_create(org=org, name="ci", role_key="owner", caller=OPERATOR).token,
        "member_key": api_key_create(org=org, name="bot", role_key="member", caller=OPERATOR).token,
        "mallory_key": api_key_create(
            org=other_org, name="ci", role_key="owner", caller=OPERATOR
        ).token,
    }
    spare_key = api_key_create(org=org, name="spare", role_key="member", caller=OPERATOR).api_key
    invitation = invitation_create(
        org=org, email="ivan@example.test", role_key="member", caller=SETUP_CALLER,
    ).invitation  # fmt: skip
    active = version_active_get_or_create(org_id=org.pk)
    model = scoring_model_create(org_id=org.pk, name="Roadmap", template="rice")
    published = version_publish(org_id=org.pk, model_id=model.pk, number=1)
    draft = version_create(org_id=org.pk, model_id=model.pk, criteria=CRITERIA)
    task = TaskFactory.create(org=org, status=TaskStatus.FAILED)  # finished: may be re-scored
    other_task = TaskFactory.create(org=other_org)
    preview = preview_run_create(org_id=org.pk, criteria=CRITERIA, limit=5)
    scored = TaskFactory.create(org=org, title="Scored")
    task_score_run(task_id=scored.pk)
    override = score_override(
        org_id=org.pk, task_id=scored.pk, actor=SETUP_CALLER.actor, criterion=None, value=50,
        reason="Set up for the matrix.",
    )  # fmt: skip
    export = org_export_create(org_id=org.pk, caller=SETUP_CALLER)
    assert org_export_execute(export_id=export.pk)
    return World(
        org=org,
        other_org=other_org,
        users=users,
        tokens=tokens,
        task_id=str(task.pk),
        other_task_id=str(other_task.pk),
        model_id=model.pk,
        published_number=published.number,
        draft_number=draft.number,
        compare_version_ids=(active.pk, published.pk),
        target_member_id=target.pk,
        invitation_id=invitation.pk,
        spare_role=spare.key,
        spare_key_id=spare_key.pk,
        preview_run_id=str(preview.pk),
        scored_task_id=str(scored.pk),
        score_id=TaskScore.objects.get(task=scored).pk,
        override_id=str(override.pk),
        export_id=str(export.pk),
    )


def world_delete(world: World) -> None:
    """Delete what `build_world` committed (for a world built once per module)."""
    org_ids = [world.org.pk, world.other_org.pk]
    user_ids = list(Membership.objects.filter(org_id__in=org_ids).values_list("user_id", flat=True))
    for model in (AuditEvent, Task, Membership, Invitation, ApiKey):
        model._default_manager.filter(org_id__in=org_ids).delete()
    Organization.objects.filter(pk__in=org_ids).delete()  # and their roles and scoring models
    User.objects.filter(pk__in=user_ids).delete()


def client_for(world: World, principal: Principal) -> tuple[Client, dict[str, str]]:
    """A client acting as `principal`, and the headers to send with each request."""
    client = Client(enforce_csrf_checks=False)
    if principal.kind == "session":
        client.force_login(world.users[principal.name])
    if principal.kind == "key":
        return client, {"authorization": f"Bearer {world.tokens[principal.name]}"}
    return client, {}


def call(
    client: Client,
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> HttpResponse:
    """One JSON request; `token` sends it with an API key."""
    headers = dict(headers or {})
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    data = "" if body is None else json.dumps(body)
    response = client.generic(method, url, data, content_type="application/json", headers=headers)
    return cast(HttpResponse, response)


def assert_problem(response: HttpResponse, status: int) -> dict[str, Any]:
    """The response is problem JSON of the kind `status` stands for; returns its body."""
    assert response.status_code == status, response.content
    assert response["content-type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    assert (body["status"], body["type"]) == (status, PROBLEM_TYPES[status])
    return body


# ---------------------------------------------------------------------------------- cases

Builder = Callable[[World, Principal], Any]


def _none(world: World, principal: Principal) -> None:
    return None


def _no_params(world: World, principal: Principal) -> dict[str, Any]:
    return {}


def _fixed(value: Any) -> Builder:
    return lambda world, principal: value


def _task(world: World, principal: Principal) -> dict[str, Any]:
    return {"task_id": world.task_id}


def _scored_task(world: World, principal: Principal) -> dict[str, Any]:
    return {"task_id": world.scored_task_id}


def _score(world: World, principal: Principal) -> dict[str, Any]:
    return {"task_id": world.scored_task_id, "score_id": world.score_id}


def _override(world: World, principal: Principal) -> dict[str, Any]:
    return {"task_id": world.scored_task_id, "override_id": world.override_id}


def _labels(world: World, principal: Principal) -> dict[str, Any]:
    return {"csv": f"task_id,criterion,rating\n{world.scored_task_id},clarity,7\n"}


def _model(world: World, principal: Principal) -> dict[str, Any]:
    return {"model_id": world.model_id}


def _published(world: World, principal: Principal) -> dict[str, Any]:
    return {"model_id": world.model_id, "number": world.published_number}


def _draft(world: World, principal: Principal) -> dict[str, Any]:
    return {"model_id": world.model_id, "number": world.draft_number}


def _compare(world: World, principal: Principal) -> dict[str, Any]:
    from_id, to_id = world.compare_version_ids
    return {"from_version": from_id, "to_version": to_id}


def _invitation_for_principal(world: World, principal: Principal) -> dict[str, str]:
    """An invitation to a third org, sent to the caller's own address (if it has one)."""
    user = world.users.get(principal.name)
    org = OrganizationFactory.create(name="Initech", slug="initech")
    created = invitation_create(
        org=org, email=user.email if user else "nobody@example.test", role_key="member",
        caller=SETUP_CALLER,
    )  # fmt: skip
    return {"token": created.accept_url.rsplit("/", 1)[1]}


def _invitation_id_for_principal(world: World, principal: Principal) -> dict[str, int]:
    """The id of an invitation to a third org sent to the caller's own address."""
    user = world.users.get(principal.name)
    org = OrganizationFactory.create(name="Initech", slug="initech")
    created = invitation_create(
        org=org, email=user.email if user else "nobody@example.test", role_key="member",
        caller=SETUP_CALLER,
    )  # fmt: skip
    return {"invitation_id": created.invitation.pk}


@dataclass(frozen=True)
class Case:
    api: Literal["v1", "v2"]
    method: str
    path: str  # as the router declares it
    permission: str  # as the operation declares it
    success: int  # the status for a principal holding the permission
    params: Builder = _no_params
    body: Builder = _none
    query: Builder = _no_params
    # v1 only: a key of another org acts in its own org; an operation naming no object then
    # succeeds there (what it returns is checked in test_authz_matrix).
    other_org_status: int = 404
    # Only a person may do it: an API key holding the permission is refused (403) too.
    session_only: bool = False
    # A GET that records itself in the org's audit log (downloading an export): that is all it
    # writes.
    read_audited: bool = False

    def __str__(self) -> str:
        return f"{self.api} {self.method} {self.path}"

    def url(self, world: World, principal: Principal) -> str:
        path = self.path.format(org=world.org.slug, **self.params(world, principal))
        query = self.query(world, principal)
        return f"/api/{self.api}{path}" + (f"?{urlencode(query)}" if query else "")


CASES = [
    # v1: API keys only, the org implied by the key
    Case("v1", "GET", "/tasks", "task.read", 200, other_org_status=200),
    Case("v1", "POST", "/tasks", "task.create", 201, body=_fixed(VALID_TASK), other_org_status=201),
    Case("v1", "GET", "/tasks/{task_id}", "task.read", 200, params=_task),
    # v2 account
    Case("v2", "GET", "/auth/csrf", PUBLIC, 204),
    Case("v2", "GET", "/me", AUTHENTICATED, 200),
    Case("v2", "POST", "/orgs", AUTHENTICATED, 201, body=_fixed({"name": "Initech"})),
    Case("v2", "POST", "/invitations/accept", AUTHENTICATED, 201, body=_invitation_for_principal),
    Case("v2", "POST", "/invitations/decline", AUTHENTICATED, 204, body=_invitation_for_principal),
    Case("v2", "GET", "/invitations/{token}", PUBLIC, 200, params=_invitation_for_principal),
    Case("v2", "GET", "/me/invitations", AUTHENTICATED, 200),
    Case(
        "v2",
        "POST",
        "/me/invitations/{invitation_id}/accept",
        AUTHENTICATED,
        201,
        params=_invitation_id_for_principal,
    ),
    Case(
        "v2",
        "POST",
        "/me/invitations/{invitation_id}/decline",
        AUTHENTICATED,
        204,
        params=_invitation_id_for_principal,
    ),
    # v2 tasks
    Case("v2", "POST", "/orgs/{org}/tasks", "task.create", 201, body=_fixed(VALID_TASK)),
    Case("v2", "GET", "/orgs/{org}/tasks", "task.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/tasks/batch",
        "task.create",
        201,
        body=_fixed({"tasks": [VALID_TASK, VALID_TASK]}),
    ),
    Case("v2", "POST", "/orgs/{org}/tasks/rescore", "task.rescore", 202),
    Case("v2", "GET", "/orgs/{org}/tasks/{task_id}", "task.read", 200, params=_task),
    Case("v2", "POST", "/orgs/{org}/tasks/{task_id}/rescore", "task.rescore", 202, params=_task),
    Case("v2", "GET", "/orgs/{org}/tasks/{task_id}/scores", "task.read", 200, params=_task),
    # v2 scoring
    Case("v2", "GET", "/orgs/{org}/scoring/templates", "task.read", 200),
    Case("v2", "GET", "/orgs/{org}/scoring/models", "task.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/models",
        "scoring.manage",
        201,
        body=_fixed({"name": "Growth", "template": "rice"}),
    ),
    Case("v2", "GET", "/orgs/{org}/scoring/models/{model_id}", "task.read", 200, params=_model),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/models/{model_id}/versions",
        "scoring.manage",
        201,
        params=_model,
        body=_fixed({"criteria": CRITERIA, "notes": "v3"}),
    ),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/scoring/models/{model_id}/versions/{number}",
        "task.read",
        200,
        params=_published,
    ),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/models/{model_id}/versions/{number}/publish",
        "scoring.manage",
        200,
        params=_draft,
    ),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/models/{model_id}/versions/{number}/activate",
        "scoring.manage",
        200,
        params=_published,
    ),
    Case("v2", "GET", "/orgs/{org}/scoring/active", "task.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/preview",
        "scoring.manage",
        200,
        body=_fixed({"criteria": CRITERIA, "task": VALID_TASK}),
    ),
    Case("v2", "GET", "/orgs/{org}/scoring/compare", "task.read", 200, query=_compare),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/previews",
        "scoring.manage",
        202,
        body=_fixed({"criteria": CRITERIA, "limit": 5}),
    ),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/scoring/previews/{run_id}",
        "scoring.manage",
        200,
        params=lambda w, p: {"run_id": w.preview_run_id},
    ),
    # v2 access
    Case("v2", "GET", "/orgs/{org}/members", "members.read", 200),
    Case(
        "v2",
        "PATCH",
        "/orgs/{org}/members/{member_id}",
        "members.manage",
        200,
        params=lambda w, p: {"member_id": w.target_member_id},
        body=_fixed({"role": "member"}),
    ),
    Case(
        "v2",
        "DELETE",
        "/orgs/{org}/members/{member_id}",
        "members.manage",
        204,
        params=lambda w, p: {"member_id": w.target_member_id},
    ),
    Case("v2", "GET", "/orgs/{org}/invitations", "members.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/invitations",
        "members.manage",
        201,
        body=_fixed({"email": "newbie@example.test", "role": "member"}),
    ),
    Case(
        "v2",
        "DELETE",
        "/orgs/{org}/invitations/{invitation_id}",
        "members.manage",
        204,
        params=lambda w, p: {"invitation_id": w.invitation_id},
    ),
    Case("v2", "GET", "/orgs/{org}/permissions", "members.read", 200),
    Case("v2", "GET", "/orgs/{org}/roles", "members.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/roles",
        "members.manage",
        201,
        body=_fixed({"key": "triage", "name": "Triage", "permissions": ["task.read"]}),
    ),
    Case(
        "v2",
        "PATCH",
        "/orgs/{org}/roles/{key}",
        "members.manage",
        200,
        params=lambda w, p: {"key": w.spare_role},
        body=_fixed({"permissions": ["task.read", "task.create"]}),
    ),
    Case(
        "v2",
        "DELETE",
        "/orgs/{org}/roles/{key}",
        "members.manage",
        204,
        params=lambda w, p: {"key": w.spare_role},
    ),
    Case("v2", "GET", "/orgs/{org}/api-keys", "apikeys.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/api-keys",
        "apikeys.manage",
        201,
        body=_fixed({"name": "deploy", "role": "member"}),
    ),
    Case(
        "v2",
        "DELETE",
        "/orgs/{org}/api-keys/{key_id}",
        "apikeys.manage",
        204,
        params=lambda w, p: {"key_id": w.spare_key_id},
    ),
    Case("v2", "GET", "/orgs/{org}/audit-events", "audit.read", 200),
    # v2 billing (Stripe is a fake on loopback: see test_authz_matrix)
    Case("v2", "GET", "/orgs/{org}/billing", "billing.read", 200),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/billing/checkout",
        "billing.manage",
        200,
        body=_fixed({"plan": "pro"}),
    ),
    Case("v2", "POST", "/orgs/{org}/billing/portal", "billing.manage", 200),
    # v2 review, calibration, AI rules and budget
    Case("v2", "GET", "/orgs/{org}/tasks/rescore/estimate", "task.rescore", 200),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/tasks/{task_id}/scores/{score_id}",
        "task.read",
        200,
        params=_score,
    ),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/tasks/{task_id}/overrides",
        "task.read",
        200,
        params=_scored_task,
    ),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/tasks/{task_id}/overrides",
        "score.review",
        201,
        params=_scored_task,
        body=_fixed({"value": 60, "reason": "Reviewed in planning."}),
    ),
    Case(
        "v2",
        "DELETE",
        "/orgs/{org}/tasks/{task_id}/overrides/{override_id}",
        "score.review",
        204,
        params=_override,
    ),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/scoring/models/{model_id}/versions/{number}/calibration",
        "task.read",
        200,
        params=_published,
    ),
    Case("v2", "POST", "/orgs/{org}/scoring/labels", "score.review", 201, body=_labels),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/scoring/previews/estimate",
        "scoring.manage",
        200,
        body=_fixed({"criteria": CRITERIA, "limit": 5}),
    ),
    Case("v2", "GET", "/orgs/{org}/ai", "task.read", 200),
    Case(
        "v2",
        "PATCH",
        "/orgs/{org}/ai/rules",
        "scoring.manage",
        200,
        body=_fixed({"enabled": False}),
    ),
    # v2 security settings (requiring two-factor authentication: tests/test_mfa.py)
    Case("v2", "GET", "/orgs/{org}/security", "members.read", 200),
    Case(
        "v2",
        "PATCH",
        "/orgs/{org}/security",
        "org.owner",
        200,
        body=_fixed({"mfa_required_for_admins": False}),
        session_only=True,
    ),
    # v2 data rights (an owner's exports and the org's deletion: tests/test_data_rights.py)
    Case("v2", "GET", "/orgs/{org}/exports", "org.owner", 200),
    Case("v2", "POST", "/orgs/{org}/exports", "org.owner", 202),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/exports/{export_id}",
        "org.owner",
        200,
        params=lambda w, p: {"export_id": w.export_id},
    ),
    Case(
        "v2",
        "GET",
        "/orgs/{org}/exports/{export_id}/download",
        "org.owner",
        200,
        params=lambda w, p: {"export_id": w.export_id},
        read_audited=True,
    ),
    Case(
        "v2",
        "POST",
        "/orgs/{org}/deletion",
        "org.owner",
        202,
        body=_fixed({"confirm": "acme"}),
        session_only=True,
    ),
]


def expected_status(case: Case, principal: Principal) -> int:
    """What `taskscore.api.common.auth` promises `principal` on `case`."""
    if case.permission == PUBLIC:
        return case.success
    if principal.kind == "anonymous":
        return 401
    if case.permission == AUTHENTICATED:  # browser sessions only
        return case.success if principal.kind == "session" else 401
    if case.api == "v1":
        if principal.kind != "key":  # v1 takes API keys only
            return 401
        if principal.org != "acme":
            return case.other_org_status
    elif principal.org != "acme":
        return 404
    if case.session_only and principal.kind == "key":
        return 403
    return case.success if case.permission in principal.permissions else 403


@dataclass
class Prepared:
    client: Client
    method: str
    url: str
    body: Any
    headers: dict[str, str]

    def send(self) -> HttpResponse:
        return call(self.client, self.method, self.url, self.body, headers=self.headers)


def prepare(world: World, principal: Principal, case: Case) -> Prepared:
    """Everything the request needs, created before the state is snapshot."""
    client, headers = client_for(world, principal)
    return Prepared(
        client=client,
        method=case.method,
        url=case.url(world, principal),
        body=case.body(world, principal),
        headers=headers,
    )


# ---------------------------------------------------------------------------------- state

# Written by any authenticated request with a key (at most once a minute): not a change.
_VOLATILE = {"last_used_at"}


def db_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model of the project's apps, every column but the volatile ones."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("taskscore."):
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in _VOLATILE]
        state[model._meta.label] = list(model._default_manager.order_by("pk").values_list(*fields))
    return state
