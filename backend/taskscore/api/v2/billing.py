"""The org's plan, subscription, usage and invoices; Stripe Checkout and the customer portal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.common.schemas import InputSchema
from taskscore.billing import selectors, services
from taskscore.rbac.catalog import Perm

router = Router(tags=["billing"])


class PlanOut(Schema):
    code: str
    name: str
    monthly_task_quota: int | None
    is_metered: bool
    features: list[str]


class InvoiceOut(Schema):
    id: str
    number: str
    status: str
    currency: str
    amount_due: int
    amount_paid: int
    hosted_invoice_url: str
    created: datetime


class BillingOut(Schema):
    plan: PlanOut = Field(description="The plan in force (Free unless a subscription grants more)")
    subscribed_plan: PlanOut
    status: str = Field(description="Stripe subscription status, or 'none'")
    current_period_end: datetime | None
    cancel_at_period_end: bool
    quota: int | None = Field(description="Tasks allowed this period; null: unlimited")
    used: int
    period_start: datetime
    can_submit: bool
    restriction: str
    grace_ends_at: datetime | None
    invoices: list[InvoiceOut]
    plans: list[PlanOut]


class CheckoutIn(InputSchema):
    plan: str = Field(min_length=1, max_length=40)


class RedirectOut(Schema):
    url: str


def _plan(plan: Any) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "monthly_task_quota": plan.monthly_task_quota,
        "is_metered": plan.is_metered,
        "features": list(plan.features or []),
    }


@router.get("/orgs/{org}/billing", response=BillingOut, operation_id="billing_get")
@requires(Perm.BILLING_READ)
def billing_get(request: HttpRequest, org: str) -> dict[str, Any]:
    overview = selectors.billing_overview(org_id=principal_of(request).org_id)
    entitlement = overview.entitlement
    return {
        "plan": _plan(entitlement.plan),
        "subscribed_plan": _plan(entitlement.subscribed_plan),
        "status": entitlement.status,
        "current_period_end": overview.current_period_end,
        "cancel_at_period_end": overview.cancel_at_period_end,
        "quota": entitlement.quota,
        "used": entitlement.used,
        "period_start": entitlement.period_start,
        "can_submit": entitlement.can_submit,
        "restriction": entitlement.restriction,
        "grace_ends_at": entitlement.grace_ends_at,
        "invoices": [
            {
                "id": i.stripe_invoice_id,
                "number": i.number,
                "status": i.status,
                "currency": i.currency,
                "amount_due": i.amount_due,
                "amount_paid": i.amount_paid,
                "hosted_invoice_url": i.hosted_invoice_url,
                "created": i.created,
            }
            for i in overview.invoices
        ],
        "plans": [_plan(p) for p in overview.plans],
    }


@router.post("/orgs/{org}/billing/checkout", response=RedirectOut, operation_id="billing_checkout")
@requires(Perm.BILLING_MANAGE)
def billing_checkout(request: HttpRequest, org: str, payload: CheckoutIn) -> dict[str, str]:
    """A Stripe Checkout URL for a paid plan; send the browser there."""
    principal = principal_of(request)
    url = services.billing_checkout_start(
        org_id=principal.org_id,
        plan_code=payload.plan,
        actor=principal.actor,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return {"url": url}


@router.post("/orgs/{org}/billing/portal", response=RedirectOut, operation_id="billing_portal")
@requires(Perm.BILLING_MANAGE)
def billing_portal(request: HttpRequest, org: str) -> dict[str, str]:
    """A Stripe customer-portal URL (payment method, invoices, plan changes, cancellation)."""
    principal = principal_of(request)
    url = services.billing_portal_start(
        org_id=principal.org_id,
        actor=principal.actor,
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    return {"url": url}
