from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "taskscore.orgs"
    label = "orgs"
