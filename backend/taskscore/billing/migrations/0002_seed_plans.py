"""Seed the plans. Stripe price ids come from settings (STRIPE_PRICE_PRO, STRIPE_PRICE_BUSINESS);
`manage.py seed_plans` updates them later without a migration."""

from django.conf import settings
from django.db import migrations

PLANS = [
    {
        "code": "free", "name": "Free", "price_setting": None, "monthly_task_quota": 100,
        "is_metered": False, "sort_order": 0,
        "features": ["100 tasks a month", "Formula and AI scoring"],
    },
    {
        "code": "pro", "name": "Pro", "price_setting": "STRIPE_PRICE_PRO",
        "monthly_task_quota": 5000, "is_metered": False, "sort_order": 1,
        "features": ["5,000 tasks a month", "Custom scoring models", "API keys"],
    },
    {
        "code": "business", "name": "Business", "price_setting": "STRIPE_PRICE_BUSINESS",
        "monthly_task_quota": None, "is_metered": True, "sort_order": 2,
        "features": ["Unlimited tasks, billed per task", "Custom roles", "Audit log"],
    },
]  # fmt: skip


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for spec in PLANS:
        spec = dict(spec)
        setting = spec.pop("price_setting")
        price = getattr(settings, setting, "") if setting else ""
        Plan.objects.update_or_create(
            code=spec.pop("code"), defaults={**spec, "stripe_price_id": price}
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
