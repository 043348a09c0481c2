from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from taskscore.api.common.schemas import InputSchema


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
