from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "taskscore.tasks"
    label = "tasks"
