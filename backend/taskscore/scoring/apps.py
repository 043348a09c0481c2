from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "taskscore.scoring"
    label = "scoring"
