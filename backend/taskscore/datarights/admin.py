"""Operators' view of org deletions (the record that outlives each deleted org) and exports."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from taskscore.datarights.models import OrgDeletion, OrgExport


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OrgDeletion)
class OrgDeletionAdmin(_ReadOnly):
    list_display = ("org_slug", "org_id", "requested_by_label", "requested_at", "status")
    search_fields = ("org_slug", "requested_by_label")


@admin.register(OrgExport)
class OrgExportAdmin(_ReadOnly):
    list_display = ("id", "org", "status", "created_at", "expires_at")
