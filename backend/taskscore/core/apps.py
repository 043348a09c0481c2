from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoreConfig(AppConfig):
    name = "taskscore.core"
    label = "core"

    def ready(self) -> None:
        from taskscore.core.db import timestamptz_loader_install

        connection_created.connect(timestamptz_loader_install, dispatch_uid="timestamptz-loader")
