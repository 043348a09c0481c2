from __future__ import annotations

from typing import Any

from taskscore.billing.models import Invoice, Plan
from taskscore.billing.selectors import BillingOverview


def plan_out(plan: Plan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "monthly_task_quota": plan.monthly_task_quota,
        "is_metered": plan.is_metered,
        "features": list(plan.features or []),
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


def billing_out(overview: BillingOverview) -> dict[str, Any]:
    entitlement = overview.entitlement
    return {
        "plan": plan_out(entitlement.plan),
        "subscribed_plan": plan_out(entitlement.subscribed_plan),
        "status": entitlement.status,
        "current_period_end": overview.current_period_end,
        "cancel_at_period_end": overview.cancel_at_period_end,
        "quota": entitlement.quota,
        "used": entitlement.used,
        "period_start": entitlement.period_start,
        "can_submit": entitlement.can_submit,
        "restriction": entitlement.restriction,
        "grace_ends_at": entitlement.grace_ends_at,
        "invoices": [invoice_out(i) for i in overview.invoices],
        "plans": [plan_out(p) for p in overview.plans],
    }


def redirect_out(url: str) -> dict[str, Any]:
    return {"url": url}
