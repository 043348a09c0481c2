"""Operators' view of orgs. Who holds what changes only through the API's services (they keep
the permission cache, the audit log and the last-owner rule), so grants are read-only here."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from taskscore.orgs.models import ApiKey, Invitation, Membership, Organization


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ("slug", "name", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("slug",)  # principals are cached by slug

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("org", "user", "role")


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "org", "name", "role", "last_used_at", "revoked_at")
    exclude = ("secret_hash",)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "org", "role", "expires_at", "accepted_at", "revoked_at")
    exclude = ("token_hash",)
