from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from taskscore.api.common.schemas import InputSchema
from taskscore.billing.features import Feature
from taskscore.billing.selectors import FREE_PLAN

SubscriptionStatusOut = Literal[
    "none",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "paused",
]


class PriceOut(Schema):
    amount: int = Field(description="In the currency's minor units (cents)")
    currency: str
    per: Literal["month", "task"] = Field(description="A flat monthly price, or one per task")


class PlanOut(Schema):
    code: str
    name: str
    monthly_task_quota: int | None = Field(description="null: unlimited")
    monthly_ai_calls: int | None = Field(description="null: unlimited")
    is_metered: bool
    price: PriceOut
    features: list[str] = Field(description="What the plan offers, in words")
    entitlements: list[Feature] = Field(
        description="The paid features the plan includes (higher plans include lower ones')"
    )
    trial_days: int = Field(
        description="Free days a Checkout of this plan starts with for this org (0: none)"
    )


class InvoiceOut(Schema):
    id: str
    number: str
    status: str = Field(description="Stripe's: draft, open, paid, uncollectible or void")
    currency: str
    amount_due: int = Field(description="In the currency's minor units (cents)")
    amount_paid: int
    hosted_invoice_url: str = Field(description="Stripe's page of the invoice (may be empty)")
    created: datetime


class BillingAIUsageOut(Schema):
    period_start: datetime
    calls: int
    limit: int | None = Field(description="null: unlimited")
    remaining: int | None


class BillingOut(Schema):
    plan: PlanOut = Field(description="The plan in force (Free unless a subscription grants more)")
    plan_source: Literal["free", "subscription", "grant"] = Field(
        description="Where the plan in force comes from: none, the subscription, an operator"
    )
    subscribed_plan: PlanOut
    granted_plan: PlanOut | None = Field(description="A plan an operator gave the org, if any")
    entitlements: list[Feature] = Field(description="The paid features the org has now")
    status: SubscriptionStatusOut = Field(description="Stripe subscription status, or 'none'")
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None = Field(description="When the trial ends, while trialing")
    trial_used: bool = Field(description="The org had its one trial")
    grace_ends_at: datetime | None = Field(description="While past_due: submissions stop then")
    grace_days_left: int | None = Field(description="While past_due: whole days until then")
    quota: int | None = Field(description="Tasks allowed this period; null: unlimited")
    used: int
    period_start: datetime
    can_submit: bool
    restriction: str
    ai: BillingAIUsageOut = Field(description="AI calls this period against the plan's allowance")
    can_checkout: bool = Field(
        description="No live subscription: a paid plan starts through Checkout (else the portal)"
    )
    upgrades: list[PlanOut] = Field(description="Paid plans above the plan in force")
    invoices: list[InvoiceOut] = Field(description="The newest ten, newest first")
    plans: list[PlanOut]


class CheckoutIn(InputSchema):
    plan: str = Field(
        min_length=1,
        max_length=40,
        description="A paid plan's code (the Free plan needs no checkout).",
        json_schema_extra={"not": {"const": FREE_PLAN}},
    )


class RedirectOut(Schema):
    url: str
