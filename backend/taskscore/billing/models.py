"""Plans, each org's subscription state, the Stripe events received, invoices, and usage."""

from __future__ import annotations

from django.db import models

from taskscore.core.models import TimestampedModel


class Plan(TimestampedModel):
    """A plan an org can be on. `monthly_task_quota` None means unlimited. `features` are the
    lines a person reads; `entitlements` the paid features (`billing.features.Feature` values)
    the plan includes, which the API enforces."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    stripe_price_id = models.CharField(max_length=100, blank=True, db_index=True)
    monthly_task_quota = models.PositiveIntegerField(null=True, blank=True)
    is_metered = models.BooleanField(default=False)
    features = models.JSONField(default=list, blank=True)
    entitlements = models.JSONField(default=list, blank=True)
    # What Checkout charges, as the Stripe price says (shown on the billing page, which must not
    # depend on Stripe answering): minor units of `price_currency` a month, or a task if metered.
    price_amount = models.PositiveIntegerField(default=0)
    price_currency = models.CharField(max_length=10, default="usd")
    # Checkout of this plan starts with a free trial of STRIPE_TRIAL_DAYS (once per org).
    offers_trial = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)
    # API rate limits (token buckets per minute): for the whole org, and for each API key or user.
    api_requests_per_minute = models.PositiveIntegerField(default=600)
    api_requests_per_caller_per_minute = models.PositiveIntegerField(default=300)
    # AI calls an org may make a month (scoring, previews and re-scores alike; a cached answer
    # is no call). None: unlimited.
    monthly_ai_calls = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.code


class SubscriptionStatus(models.TextChoices):
    NONE = "none", "None"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    CANCELED = "canceled", "Canceled"
    PAUSED = "paused", "Paused"


class OrgBilling(TimestampedModel):
    """One row per org: its Stripe customer and the subscription state last applied. Every
    change to it happens with this row locked (`select_for_update`)."""

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, primary_key=True, related_name="billing"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    stripe_customer_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)  # the governing subscription's
    # A plan an operator gave the org without a subscription (the demo org, a partner): in force
    # while no subscription grants a higher one; never billed. `manage.py plan_grant`.
    granted_plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.org_id}:{self.plan_id}:{self.status}"


class Subscription(models.Model):
    """A Stripe subscription of an org, as the newest applied event (or re-fetch) described it.
    The org's state (OrgBilling) is derived from its subscriptions, so it does not depend on the
    order in which events about different subscriptions arrive."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    stripe_customer_id = models.CharField(max_length=100)
    price_id = models.CharField(max_length=100, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    trial_start = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()  # the subscription's own `created`
    # Ordering watermark: the Stripe `created` (s) of the event (or re-fetch) applied here, and
    # the rank of its status, which breaks ties between events of the same second.
    state_created = models.BigIntegerField()
    state_rank = models.SmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} {self.status}"


class StripeEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class StripeEvent(models.Model):
    """Every verified event Stripe sent, once (unique id), with what became of it."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    created = models.BigIntegerField()  # Stripe's `created`, seconds since the epoch
    org = models.ForeignKey(
        "orgs.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=StripeEventStatus.choices, default=StripeEventStatus.RECEIVED
    )
    reason = models.CharField(max_length=300, blank=True)  # why ignored
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_status")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} {self.status}"


class Invoice(models.Model):
    """An org's Stripe invoice as the last applied invoice event described it."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    stripe_invoice_id = models.CharField(max_length=100, unique=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=30)
    currency = models.CharField(max_length=10, blank=True)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    created = models.DateTimeField()
    state_created = models.BigIntegerField()  # ordering watermark, as on OrgBilling
    state_rank = models.SmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["org", "-created"], name="invoice_org_created")]

    def __str__(self) -> str:
        return f"{self.stripe_invoice_id} {self.status}"


class CheckoutSession(models.Model):
    """A Stripe Checkout session this app created for an org: the one source that may tie the
    org to the customer and subscription it completes with (never an event's metadata alone)."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    stripe_session_id = models.CharField(max_length=200, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    trial_days = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.stripe_session_id} {self.org_id}:{self.plan_id}"


class UsageRecord(models.Model):
    """One submitted task counted against its org's quota; at most one per task."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    task_id = models.UUIDField(unique=True)
    period_start = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["org", "period_start"], name="usage_org_period")]

    def __str__(self) -> str:
        return f"{self.org_id}:{self.task_id}"


class UsageCount(models.Model):
    """How many UsageRecords an org has in one period: the quota check and the billing page read
    this row instead of counting the records. Kept by Postgres itself (statement triggers on
    billing_usagerecord, migration 0006), in the transaction that writes the records."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    tasks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "period_start"], name="usage_count_org_period")
        ]

    def __str__(self) -> str:
        return f"{self.org_id}@{self.period_start:%Y-%m}: {self.tasks}"


class AIUsage(models.Model):
    """The AI calls (and their cost) an org made in one usage period. Calls are reserved before
    they are made, under the row's own conditional UPDATE, so concurrent jobs cannot together
    pass the plan's allowance; unused reservations are given back (billing.services.ai_*)."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "period_start"], name="ai_usage_org_period")
        ]

    def __str__(self) -> str:
        return f"{self.org_id}@{self.period_start:%Y-%m}: {self.calls}"


class MeterOutbox(models.Model):
    """Usage of a metered plan waiting to be reported to a Stripe billing meter. `identifier`
    is the meter event's idempotent id, so a resend never counts twice."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    identifier = models.CharField(max_length=100, unique=True)
    quantity = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="meter_outbox_unsent",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.identifier
