from __future__ import annotations

from typing import Any

from taskscore.billing.models import Invoice, Plan
from taskscore.billing.selectors import (
    AIAllowance,
    BillingOverview,
    plan_features,
    trial_days_for,
)


def plan_out(plan: Plan, *, trial_used: bool) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "monthly_task_quota": plan.monthly_task_quota,
        "monthly_ai_calls": plan.monthly_ai_calls,
        "is_metered": plan.is_metered,
        "price": {
            "amount": plan.price_amount,
            "currency": plan.price_currency,
            "per": "task" if plan.is_metered else "month",
        },
        "features": list(plan.features or []),
        "entitlements": sorted(plan_features(plan)),
        "trial_days": trial_days_for(plan, used=trial_used),
    }


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.stripe_invoice_id,
        "number": invoice.number,
        "status": invoice.status,
        "currency": invoice.currency,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "hosted_invoice_url": invoice.hosted_invoice_url,
        "created": invoice.created,
    }


def ai_usage_out(allowance: AIAllowance) -> dict[str, Any]:
    return {
        "period_start": allowance.period_start,
        "calls": allowance.calls,
        "limit": allowance.limit,
        "remaining": allowance.remaining,
    }


def billing_out(overview: BillingOverview) -> dict[str, Any]:
    entitlement = overview.entitlement

    def plan(p: Plan) -> dict[str, Any]:
        return plan_out(p, trial_used=overview.trial_used)

    return {
        "plan": plan(entitlement.plan),
        "plan_source": entitlement.source,
        "subscribed_plan": plan(entitlement.subscribed_plan),
        "granted_plan": plan(overview.granted_plan) if overview.granted_plan else None,
        "entitlements": sorted(entitlement.features),
        "status": entitlement.status,
        "current_period_end": overview.current_period_end,
        "cancel_at_period_end": overview.cancel_at_period_end,
        "trial_end": overview.trial_end,
        "trial_used": overview.trial_used,
        "grace_ends_at": entitlement.grace_ends_at,
        "grace_days_left": overview.grace_days_left,
        "quota": entitlement.quota,
        "used": entitlement.used,
        "period_start": entitlement.period_start,
        "can_submit": entitlement.can_submit,
        "restriction": entitlement.restriction,
        "ai": ai_usage_out(overview.ai),
        "can_checkout": overview.can_checkout,
        "upgrades": [plan(p) for p in overview.upgrades],
        "invoices": [invoice_out(i) for i in overview.invoices],
        "plans": [plan(p) for p in overview.plans],
    }


def redirect_out(url: str) -> dict[str, Any]:
    return {"url": url}
