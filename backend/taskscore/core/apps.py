from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "taskscore.core"
    label = "core"
