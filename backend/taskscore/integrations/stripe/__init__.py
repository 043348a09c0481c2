"""The project's one Stripe client: pinned API version, explicit timeouts, retryable vs permanent
errors, an Idempotency-Key on every write, and webhook signature verification."""

from taskscore.integrations.stripe.client import (
    PermanentStripeError,
    RetryableStripeError,
    StripeClient,
    StripeConfig,
    StripeError,
)
from taskscore.integrations.stripe.webhooks import InvalidWebhook, webhook_event_verify

__all__ = [
    "InvalidWebhook",
    "PermanentStripeError",
    "RetryableStripeError",
    "StripeClient",
    "StripeConfig",
    "StripeError",
    "webhook_event_verify",
]
