"""The logged-in user: CSRF cookie, profile and orgs, creating an org, invitations."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import Path, Router
from ninja.responses import Status

from taskscore.api.common.auth import BrowserSessionAuth, authenticated, public, request_user
from taskscore.api.v2.presenters.account import (
    invitation_lookup_out,
    me_out,
    membership_org_out,
    my_invitation_out,
    org_out,
)
from taskscore.api.v2.schemas import (
    InvitationAcceptIn,
    InvitationDeclineIn,
    InvitationLookupOut,
    MeOut,
    MyInvitationOut,
    OrgIn,
    OrgOut,
)
from taskscore.orgs import selectors, services
from taskscore.scoring import services as scoring_services

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
    """The logged-in user, whether their email is verified, and their orgs with the role and
    permissions they hold in each."""
    return me_out(selectors.account_get(user=request_user(request)))


@router.post("/orgs", auth=BrowserSessionAuth(), response={201: OrgOut}, operation_id="org_create")
@authenticated
def create_org(request: HttpRequest, payload: OrgIn) -> Status[dict[str, Any]]:
    """A new organization with the logged-in user as its owner (their email must be verified)."""
    org = scoring_services.org_open(name=payload.name, owner=request_user(request))
    return Status(201, org_out(org, role="owner"))


# ---------------------------------------------------------------------------------- invitations


@router.post(
    "/invitations/accept",
    auth=BrowserSessionAuth(),
    response={201: OrgOut},
    operation_id="invitation_accept",
)
@authenticated
def accept_invitation(request: HttpRequest, payload: InvitationAcceptIn) -> Status[dict[str, Any]]:
    """Join the org of an invitation sent to the logged-in user's (verified) email address."""
    membership = services.invitation_accept(token=payload.token, user=request_user(request))
    return Status(201, membership_org_out(membership))


@router.post(
    "/invitations/decline",
    auth=BrowserSessionAuth(),
    response={204: None},
    operation_id="invitation_decline",
)
@authenticated
def decline_invitation(request: HttpRequest, payload: InvitationDeclineIn) -> HttpResponse:
    """Decline an invitation sent to the logged-in user's (verified) email address."""
    services.invitation_decline(token=payload.token, user=request_user(request))
    return HttpResponse(status=204)


# Registered after /invitations/accept and /invitations/decline, so those are not taken for
# tokens.
@router.get(
    "/invitations/{token}",
    auth=None,
    response=InvitationLookupOut,
    operation_id="invitation_lookup",
)
@public
def lookup_invitation(
    request: HttpRequest, token: Annotated[str, Path(min_length=10, max_length=200)]
) -> dict[str, Any]:
    """What the emailed link invites to (no login needed): the org, the role, who sent it, the
    invited address and when it expires. 404 once it is expired, revoked, accepted or declined."""
    return invitation_lookup_out(selectors.invitation_get_by_token(token=token))


@router.get(
    "/me/invitations",
    auth=BrowserSessionAuth(),
    response=list[MyInvitationOut],
    operation_id="my_invitation_list",
)
@authenticated
def my_invitations(request: HttpRequest) -> list[dict[str, Any]]:
    """The pending invitations sent to the logged-in user's address, newest first (none while
    the address is not verified)."""
    return [my_invitation_out(i) for i in selectors.invitations_of_user(user=request_user(request))]


@router.post(
    "/me/invitations/{invitation_id}/accept",
    auth=BrowserSessionAuth(),
    response={201: OrgOut},
    operation_id="my_invitation_accept",
)
@authenticated
def accept_my_invitation(request: HttpRequest, invitation_id: int) -> Status[dict[str, Any]]:
    """Join through one of the user's own invitations (as `POST /invitations/accept`)."""
    membership = services.invitation_accept_by_id(
        invitation_id=invitation_id, user=request_user(request)
    )
    return Status(201, membership_org_out(membership))


@router.post(
    "/me/invitations/{invitation_id}/decline",
    auth=BrowserSessionAuth(),
    response={204: None},
    operation_id="my_invitation_decline",
)
@authenticated
def decline_my_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    services.invitation_decline_by_id(invitation_id=invitation_id, user=request_user(request))
    return HttpResponse(status=204)
