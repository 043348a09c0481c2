from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "taskscore.api"
    label = "api"
