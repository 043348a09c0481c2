"""The org's plan, subscription, usage and invoices; Stripe Checkout and the customer portal."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from taskscore.api.common.auth import principal_of, requires
from taskscore.api.v2.billing_schemas import BillingOut, CheckoutIn, RedirectOut
from taskscore.api.v2.presenters.billing import billing_out, redirect_out
from taskscore.billing import selectors, services
from taskscore.rbac.catalog import Perm

router = Router(tags=["billing"])


@router.get("/orgs/{org}/billing", response=BillingOut, operation_id="billing_get")
@requires(Perm.BILLING_READ)
def billing_get(request: HttpRequest, org: str) -> dict[str, Any]:
    return billing_out(selectors.billing_overview(org_id=principal_of(request).org_id))


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
    return redirect_out(url)


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
    return redirect_out(url)
