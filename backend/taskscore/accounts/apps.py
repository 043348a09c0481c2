from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taskscore.accounts"
    label = "accounts"
