from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "taskscore.audit"
    label = "audit"
