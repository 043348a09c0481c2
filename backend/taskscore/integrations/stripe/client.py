"""A thin, typed wrapper around the official SDK. Callers get plain dicts (the JSON Stripe sent)
and one of two errors: `RetryableStripeError` (network, timeouts, 429, 409 lock contention, 5xx:
try again later) or `PermanentStripeError` (a bad request, a missing object, bad credentials).

Every write takes an `idempotency_key`, so a retry (ours or the SDK's) never creates a second
object. Checkout and the billing portal go through here too: tests point `api_base` at a fake
server (localstripe has neither)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import stripe


class StripeError(Exception):
    """A Stripe call failed."""

    def __init__(self, message: str, *, http_status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code


class RetryableStripeError(StripeError):
    """Transient: the same call may succeed later."""


class PermanentStripeError(StripeError):
    """The call will fail the same way again until something changes."""


@dataclass(frozen=True)
class StripeConfig:
    secret_key: str
    api_version: str
    timeout_seconds: float
    api_base: str = ""  # empty: Stripe itself; otherwise e.g. localstripe on loopback
    max_network_retries: int = 2


def _classify(exc: stripe.StripeError) -> StripeError:
    status = exc.http_status
    message = exc.user_message or str(exc) or type(exc).__name__
    code = exc.code or ""
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        status is not None and (status >= 500 or (status == 409 and code == "lock_timeout"))
    )
    if isinstance(exc, stripe.APIError) and status is None:
        retryable = True
    cls = RetryableStripeError if retryable else PermanentStripeError
    return cls(message, http_status=status, code=code)


def _plain(obj: Any) -> dict[str, Any]:
    return cast(dict[str, Any], obj.to_dict())


class StripeClient:
    def __init__(self, config: StripeConfig) -> None:
        self.config = config
        self._sdk = stripe.StripeClient(
            config.secret_key,
            stripe_version=config.api_version,
            base_addresses={"api": config.api_base.rstrip("/")} if config.api_base else {},
            max_network_retries=config.max_network_retries,
            http_client=stripe.RequestsClient(timeout=config.timeout_seconds),
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return _plain(fn(*args, **kwargs))
        except stripe.StripeError as exc:
            raise _classify(exc) from exc

    @staticmethod
    def _write(idempotency_key: str) -> stripe.RequestOptions:
        if not idempotency_key:
            raise ValueError("every Stripe write needs an idempotency key")
        return {"idempotency_key": idempotency_key}

    # ---------------------------------------------------------------------------- writes

    def customer_create(
        self, *, name: str, metadata: dict[str, str], idempotency_key: str, email: str = ""
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        return self._call(
            self._sdk.v1.customers.create, params=params, options=self._write(idempotency_key)
        )

    def checkout_session_create(
        self,
        *,
        customer: str,
        price: str,
        is_metered: bool,
        success_url: str,
        cancel_url: str,
        client_reference_id: str,
        metadata: dict[str, str],
        idempotency_key: str,
        trial_period_days: int = 0,
    ) -> dict[str, Any]:
        """A Checkout session in subscription mode for one price, its subscription starting
        with `trial_period_days` free days when positive; its `url` is where to send the
        browser."""
        item: dict[str, Any] = {"price": price}
        if not is_metered:  # metered prices take no quantity
            item["quantity"] = 1
        params: dict[str, Any] = {
            "mode": "subscription",
            "customer": customer,
            "line_items": [item],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": client_reference_id,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
        if trial_period_days > 0:
            params["subscription_data"]["trial_period_days"] = trial_period_days
        return self._call(
            self._sdk.v1.checkout.sessions.create,
            params=params,
            options=self._write(idempotency_key),
        )

    def portal_session_create(
        self, *, customer: str, return_url: str, idempotency_key: str
    ) -> dict[str, Any]:
        return self._call(
            self._sdk.v1.billing_portal.sessions.create,
            params={"customer": customer, "return_url": return_url},
            options=self._write(idempotency_key),
        )

    def meter_event_create(
        self, *, event_name: str, customer: str, value: int, identifier: str, timestamp: int
    ) -> dict[str, Any]:
        """Report usage to a billing meter; Stripe dedupes on `identifier` too."""
        return self._call(
            self._sdk.v1.billing.meter_events.create,
            params={
                "event_name": event_name,
                "identifier": identifier,
                "timestamp": timestamp,
                "payload": {"stripe_customer_id": customer, "value": str(value)},
            },
            options=self._write(identifier),
        )

    def subscription_cancel(self, subscription_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """Cancel a subscription now (not at the period end): nothing more is charged."""
        return self._call(
            self._sdk.v1.subscriptions.cancel,
            subscription_id,
            options=self._write(idempotency_key),
        )

    def checkout_session_expire(self, session_id: str, *, idempotency_key: str) -> dict[str, Any]:
        """Expire an open Checkout session, so that nobody can complete it any more."""
        return self._call(
            self._sdk.v1.checkout.sessions.expire,
            session_id,
            options=self._write(idempotency_key),
        )

    # ---------------------------------------------------------------------------- reads

    def checkout_sessions_open(self, customer: str) -> list[dict[str, Any]]:
        """The customer's Checkout sessions that can still be completed."""
        page = self._call(
            self._sdk.v1.checkout.sessions.list,
            params={"customer": customer, "status": "open", "limit": 100},
        )
        return list(page.get("data", []))

    def subscription_retrieve(self, subscription_id: str) -> dict[str, Any]:
        return self._call(self._sdk.v1.subscriptions.retrieve, subscription_id)

    def subscriptions_for_customer(self, customer: str) -> list[dict[str, Any]]:
        page = self._call(
            self._sdk.v1.subscriptions.list,
            params={"customer": customer, "status": "all", "limit": 100},
        )
        return list(page.get("data", []))

    def invoices_for_customer(self, customer: str, *, limit: int = 10) -> list[dict[str, Any]]:
        page = self._call(self._sdk.v1.invoices.list, params={"customer": customer, "limit": limit})
        return list(page.get("data", []))

    def events_since(self, created_gte: int, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every event created at or after `created_gte` (Stripe keeps 30 days), page by page."""
        starting_after: str | None = None
        while True:
            params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": page_size}
            if starting_after:
                params["starting_after"] = starting_after
            page = self._call(self._sdk.v1.events.list, params=params)
            data = list(page.get("data", []))
            yield from data
            if not page.get("has_more") or not data:
                return
            starting_after = str(data[-1]["id"])
