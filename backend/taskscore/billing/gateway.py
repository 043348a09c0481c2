"""The Stripe client configured from settings (one per process; override settings in tests)."""

from __future__ import annotations

from django.conf import settings

from taskscore.integrations.stripe import StripeClient, StripeConfig


def stripe_client_get() -> StripeClient:
    return StripeClient(
        StripeConfig(
            secret_key=settings.STRIPE_API_KEY,
            api_version=settings.STRIPE_API_VERSION,
            timeout_seconds=settings.STRIPE_TIMEOUT_SECONDS,
            api_base=settings.STRIPE_API_BASE,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        )
    )
