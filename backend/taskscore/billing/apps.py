from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_plans(sender: AppConfig, **kwargs: Any) -> None:
    from taskscore.billing.services import plans_seed

    plans_seed()


class BillingConfig(AppConfig):
    name = "taskscore.billing"
    label = "billing"

    def ready(self) -> None:
        # The plan catalog follows the code (and STRIPE_PRICE_*) after every migrate, and after
        # every test-database flush, which empties the table.
        post_migrate.connect(_seed_plans, sender=self)
