from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_builtin_roles(sender: AppConfig, **kwargs: Any) -> None:
    from taskscore.rbac.services import roles_sync_builtin

    roles_sync_builtin()


class RbacConfig(AppConfig):
    name = "taskscore.rbac"
    label = "rbac"

    def ready(self) -> None:
        # After every migrate (and every test-database flush) the built-in roles match the code.
        post_migrate.connect(_sync_builtin_roles, sender=self)
