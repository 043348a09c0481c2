from django.apps import AppConfig


class DataRightsConfig(AppConfig):
    name = "taskscore.datarights"
    label = "datarights"
