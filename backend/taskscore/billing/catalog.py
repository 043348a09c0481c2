"""The plans, as code: kept in the database after every migrate (`services.plans_seed`; the
migrations keep frozen copies). Higher plans include every paid feature (`entitlements`) of the
plans below them (docs/decisions/0011-plan-features.md). Prices are what the Stripe prices
charge (minor units a month, or a task when metered), for the billing page."""

from __future__ import annotations

from taskscore.billing.features import Feature

PLAN_CATALOG: list[dict[str, object]] = [
    {"code": "free", "name": "Free", "monthly_task_quota": 100, "is_metered": False,
     "sort_order": 0,
     "features": ["100 tasks a month", "Formula and AI scoring", "Custom scoring models",
                  "1,000 AI calls a month"],
     "entitlements": [],
     "price_amount": 0, "price_currency": "usd", "offers_trial": False,
     "api_requests_per_minute": 600, "api_requests_per_caller_per_minute": 300,
     "monthly_ai_calls": 1000},
    {"code": "pro", "name": "Pro", "monthly_task_quota": 5000, "is_metered": False,
     "sort_order": 1,
     "features": ["5,000 tasks a month", "API keys", "50,000 AI calls a month"],
     "entitlements": [Feature.API_KEYS.value],
     "price_amount": 2900, "price_currency": "usd", "offers_trial": True,
     "api_requests_per_minute": 3000, "api_requests_per_caller_per_minute": 1200,
     "monthly_ai_calls": 50000},
    {"code": "business", "name": "Business", "monthly_task_quota": None, "is_metered": True,
     "sort_order": 2,
     "features": ["Unlimited tasks, billed per task", "Custom roles", "Audit log",
                  "Unlimited AI calls"],
     "entitlements": [Feature.API_KEYS.value, Feature.CUSTOM_ROLES.value,
                      Feature.AUDIT_LOG.value],
     "price_amount": 2, "price_currency": "usd", "offers_trial": False,
     "api_requests_per_minute": 12000, "api_requests_per_caller_per_minute": 3000,
     "monthly_ai_calls": None},
]  # fmt: skip
