"""The logged-in user: CSRF cookie, profile and orgs, creating an org, accepting invitations."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import Field as NinjaField
from ninja import Router
from ninja.responses import Status

from taskscore.api.common.auth import BrowserSessionAuth, authenticated, public, request_user
from taskscore.api.common.schemas import InputSchema
from taskscore.api.v2.schemas import MeOut, OrgOut
from taskscore.orgs.selectors import memberships_of_user
from taskscore.orgs.services import invitation_accept, org_create

router = Router(tags=["account"])


@router.get("/auth/csrf", auth=None, response={204: None}, operation_id="csrf_cookie")
@public
@ensure_csrf_cookie
def csrf_cookie(request: HttpRequest) -> HttpResponse:
    """Sets the `csrftoken` cookie the browser echoes as `X-CSRFToken` on unsafe requests."""
    return HttpResponse(status=204)


@router.get("/me", auth=BrowserSessionAuth(), response=MeOut, operation_id="me")
@authenticated
def me(request: HttpRequest) -> dict[str, Any]:
    user = request_user(request)
    return {
        "id": user.pk,
        "email": user.email,
        "orgs": [
            {"slug": m.org.slug, "name": m.org.name, "role": m.role.key}
            for m in memberships_of_user(user_id=user.pk)
        ],
    }


class OrgIn(InputSchema):
    name: str = NinjaField(min_length=1, max_length=200)


@router.post("/orgs", auth=BrowserSessionAuth(), response={201: OrgOut}, operation_id="org_create")
@authenticated
def create_org(request: HttpRequest, payload: OrgIn) -> Status[dict[str, str]]:
    """A new organization with the logged-in user as its owner."""
    org = org_create(name=payload.name, owner=request_user(request))
    return Status(201, {"slug": org.slug, "name": org.name, "role": "owner"})


class InvitationAcceptIn(InputSchema):
    token: str = NinjaField(min_length=10, max_length=200)


@router.post(
    "/invitations/accept",
    auth=BrowserSessionAuth(),
    response={201: OrgOut},
    operation_id="invitation_accept",
)
@authenticated
def accept_invitation(request: HttpRequest, payload: InvitationAcceptIn) -> Status[dict[str, str]]:
    """Join the org of an invitation sent to the logged-in user's email address."""
    membership = invitation_accept(token=payload.token, user=request_user(request))
    return Status(
        201,
        {"slug": membership.org.slug, "name": membership.org.name, "role": membership.role.key},
    )
