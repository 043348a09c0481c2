"""Who may do what in an org (v2): members, invitations, roles, API keys, the audit log and the
org's security settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.common.schemas import PageQuery
from taskscore.api.v2.access_schemas import (
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyPageOut,
    AuditPageOut,
    AuditQuery,
    InvitationCreatedOut,
    InvitationIn,
    InvitationPageOut,
    MemberOut,
    MemberPageOut,
    MemberRoleIn,
    PermissionOut,
    RoleIn,
    RoleOut,
    RolePatchIn,
    SecuritySettingsIn,
    SecuritySettingsOut,
)
from taskscore.api.v2.presenters.access import (
    api_key_created_out,
    api_key_out,
    audit_page_out,
    invitation_created_out,
    invitation_out,
    member_out,
    permission_out,
    role_out,
    security_settings_out,
)
from taskscore.api.v2.presenters.common import page_out
from taskscore.audit.selectors import AuditFilters
from taskscore.billing.features import Feature
from taskscore.core.cursor import page_newest_first
from taskscore.orgs import selectors, services
from taskscore.orgs.models import Organization
from taskscore.rbac import services as rbac_services
from taskscore.rbac.catalog import Perm
from taskscore.rbac.selectors import roles_for_org

router = Router(tags=["access"])


# ---------------------------------------------------------------------------------- members


@router.get("/orgs/{org}/members", response=MemberPageOut, operation_id="member_list")
@requires(Perm.MEMBERS_READ)
def member_list(request: HttpRequest, org: str, query: Query[PageQuery]) -> dict[str, Any]:
    """The members, newest first, a page at a time."""
    items, next_cursor = page_newest_first(
        selectors.member_list(org_id=principal_of(request).org_id),
        limit=query.limit,
        cursor=query.cursor,
    )
    return page_out(items, next_cursor, member_out)


@router.patch(
    "/orgs/{org}/members/{member_id}", response=MemberOut, operation_id="member_role_change"
)
@requires(Perm.MEMBERS_MANAGE)
def member_role_change(
    request: HttpRequest, org: str, member_id: int, payload: MemberRoleIn
) -> dict[str, Any]:
    principal = principal_of(request)
    membership = services.member_role_change(
        org_id=principal.org_id,
        membership_id=member_id,
        role_key=payload.role,
        caller=principal,
    )
    # Read back as the list shows it (with last_active_at).
    return member_out(selectors.member_get(org_id=principal.org_id, membership_id=membership.pk))


@router.delete(
    "/orgs/{org}/members/{member_id}", response={204: None}, operation_id="member_remove"
)
@requires(Perm.MEMBERS_MANAGE)
def member_remove(request: HttpRequest, org: str, member_id: int) -> HttpResponse:
    principal = principal_of(request)
    services.member_remove(
        org_id=principal.org_id,
        membership_id=member_id,
        caller=principal,
    )
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------- invitations


@router.get("/orgs/{org}/invitations", response=InvitationPageOut, operation_id="invitation_list")
@requires(Perm.MEMBERS_READ)
def invitation_list(request: HttpRequest, org: str, query: Query[PageQuery]) -> dict[str, Any]:
    """Pending invitations, newest first, a page at a time."""
    items, next_cursor = page_newest_first(
        selectors.invitation_list(org_id=principal_of(request).org_id),
        limit=query.limit,
        cursor=query.cursor,
    )
    return page_out(items, next_cursor, invitation_out)


@router.post(
    "/orgs/{org}/invitations",
    response={201: InvitationCreatedOut},
    operation_id="invitation_create",
)
@requires(Perm.MEMBERS_MANAGE)
def invitation_create(
    request: HttpRequest, org: str, payload: InvitationIn
) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    request.idempotency_secret = True  # type: ignore[attr-defined]  # the accept URL
    created = services.invitation_create(
        org=Organization.objects.get(pk=principal.org_id),
        email=payload.email,
        role_key=payload.role,
        caller=principal,
    )
    return Status(201, invitation_created_out(created))


@router.delete(
    "/orgs/{org}/invitations/{invitation_id}",
    response={204: None},
    operation_id="invitation_revoke",
)
@requires(Perm.MEMBERS_MANAGE)
def invitation_revoke(request: HttpRequest, org: str, invitation_id: int) -> HttpResponse:
    principal = principal_of(request)
    services.invitation_revoke(
        org_id=principal.org_id,
        invitation_id=invitation_id,
        caller=principal,
    )
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------- roles


@router.get("/orgs/{org}/permissions", response=list[PermissionOut], operation_id="permission_list")
@requires(Perm.MEMBERS_READ)
def permission_list(request: HttpRequest, org: str) -> list[dict[str, str]]:
    """The permission catalog: what a custom role can hold."""
    return [permission_out(key, text) for key, text in rbac_services.permission_catalog().items()]


@router.get("/orgs/{org}/roles", response=list[RoleOut], operation_id="role_list")
@requires(Perm.MEMBERS_READ)
def role_list(request: HttpRequest, org: str) -> list[dict[str, Any]]:
    """The built-in and custom roles, each saying whether the caller may grant it."""
    principal = principal_of(request)
    return [
        role_out(r, caller_permissions=principal.permissions)
        for r in roles_for_org(org_id=principal.org_id)
    ]


@router.post("/orgs/{org}/roles", response={201: RoleOut}, operation_id="role_create")
@requires(Perm.MEMBERS_MANAGE, feature=Feature.CUSTOM_ROLES)
def role_create(request: HttpRequest, org: str, payload: RoleIn) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    role = rbac_services.role_create(
        org_id=principal.org_id,
        key=payload.key,
        name=payload.name,
        description=payload.description,
        permissions=[str(permission) for permission in payload.permissions],
        caller=principal,
    )
    return Status(201, role_out(role, caller_permissions=principal.permissions))


@router.patch("/orgs/{org}/roles/{key}", response=RoleOut, operation_id="role_update")
@requires(Perm.MEMBERS_MANAGE, feature=Feature.CUSTOM_ROLES)
def role_update(request: HttpRequest, org: str, key: str, payload: RolePatchIn) -> dict[str, Any]:
    principal = principal_of(request)
    role = rbac_services.role_update(
        org_id=principal.org_id,
        key=key,
        name=payload.name,
        description=payload.description,
        permissions=None
        if payload.permissions is None
        else [str(permission) for permission in payload.permissions],
        caller=principal,
    )
    return role_out(role, caller_permissions=principal.permissions)


@router.delete("/orgs/{org}/roles/{key}", response={204: None}, operation_id="role_delete")
@requires(Perm.MEMBERS_MANAGE)
def role_delete(request: HttpRequest, org: str, key: str) -> HttpResponse:
    principal = principal_of(request)
    rbac_services.role_delete(
        org_id=principal.org_id,
        key=key,
        caller=principal,
    )
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------- API keys


@router.get("/orgs/{org}/api-keys", response=ApiKeyPageOut, operation_id="api_key_list")
@requires(Perm.APIKEYS_READ)
def api_key_list(request: HttpRequest, org: str, query: Query[PageQuery]) -> dict[str, Any]:
    """The org's API keys (revoked ones too), newest first, a page at a time."""
    items, next_cursor = page_newest_first(
        selectors.api_key_list(org_id=principal_of(request).org_id),
        limit=query.limit,
        cursor=query.cursor,
    )
    return page_out(items, next_cursor, api_key_out)


@router.post(
    "/orgs/{org}/api-keys", response={201: ApiKeyCreatedOut}, operation_id="api_key_create"
)
@requires(Perm.APIKEYS_MANAGE, feature=Feature.API_KEYS)
def api_key_create(request: HttpRequest, org: str, payload: ApiKeyIn) -> Status[dict[str, Any]]:
    principal = principal_of(request)
    request.idempotency_secret = True  # type: ignore[attr-defined]  # the token
    created = services.api_key_create(
        org=Organization.objects.get(pk=principal.org_id),
        name=payload.name,
        role_key=payload.role,
        caller=principal,
        expires_in_days=payload.expires_in_days,
    )
    return Status(201, api_key_created_out(created))


@router.delete("/orgs/{org}/api-keys/{key_id}", response={204: None}, operation_id="api_key_revoke")
@requires(Perm.APIKEYS_MANAGE)
def api_key_revoke(request: HttpRequest, org: str, key_id: int) -> HttpResponse:
    principal = principal_of(request)
    services.api_key_revoke(
        org_id=principal.org_id,
        key_id=key_id,
        caller=principal,
    )
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------- audit


@router.get("/orgs/{org}/audit-events", response=AuditPageOut, operation_id="audit_list")
@requires(Perm.AUDIT_READ, feature=Feature.AUDIT_LOG)
def audit_events(request: HttpRequest, org: str, query: Query[AuditQuery]) -> dict[str, Any]:
    """The org's audit events, newest first, a page at a time, optionally filtered by action,
    actor and time."""
    page = selectors.audit_page(
        org_id=principal_of(request).org_id,
        limit=query.limit,
        cursor=query.cursor,
        filters=AuditFilters(
            action=query.action, actor=query.actor, since=query.since, until=query.until
        ),
    )
    return audit_page_out(page)


# ---------------------------------------------------------------------------------- security


@router.get("/orgs/{org}/security", response=SecuritySettingsOut, operation_id="security_get")
@requires(Perm.MEMBERS_READ)
def security_get(request: HttpRequest, org: str) -> dict[str, Any]:
    """The org's security settings: whether owners and admins must use two-factor
    authentication."""
    return security_settings_out(selectors.security_settings(org_id=principal_of(request).org_id))


@router.patch("/orgs/{org}/security", response=SecuritySettingsOut, operation_id="security_update")
@requires(Perm.ORG_OWNER)
def security_update(request: HttpRequest, org: str, payload: SecuritySettingsIn) -> dict[str, Any]:
    """Require (or stop requiring) two-factor authentication of owners and admins, from their
    next request on; audited as `org.security_changed`. An owner logged in with a session only
    (403 for an API key), who has set up two-factor authentication themselves to turn it on
    (409 otherwise)."""
    principal = principal_of(request)
    return security_settings_out(
        services.security_settings_update(
            org_id=principal.org_id,
            caller=principal,
            mfa_required_for_admins=payload.mfa_required_for_admins,
        )
    )
