from __future__ import annotations

from django.db import models


class Role(models.Model):
    """A bundle of permissions. Built-in roles (`org` empty) are the same for every org and
    follow the catalog in code; custom roles belong to one org."""

    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="roles"
    )
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    permissions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "key"], name="role_unique_key_per_org"),
            models.UniqueConstraint(
                fields=["key"], condition=models.Q(org__isnull=True), name="role_unique_builtin"
            ),
        ]

    def __str__(self) -> str:
        return self.key if self.is_builtin else f"{self.org_id}:{self.key}"

    @property
    def is_builtin(self) -> bool:
        return self.org_id is None
