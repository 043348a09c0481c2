"""Verify a Stripe webhook delivery: the signature over the raw body, the timestamp tolerance,
and that the body is one JSON event object."""

from __future__ import annotations

import json
from typing import Any

import stripe


class InvalidWebhook(Exception):
    """The delivery is not a genuine, fresh, well-formed Stripe event; answer 400, store nothing."""


def webhook_event_verify(
    *, payload: bytes, signature_header: str | None, secret: str, tolerance_seconds: int = 300
) -> dict[str, Any]:
    """The event as a plain dict, after the SDK has checked the `Stripe-Signature` header
    (HMAC-SHA256 of the raw body with `secret`, timestamp within the tolerance).

    `WebhookSignature.verify_header` is the check `Webhook.construct_event` makes; the body is
    then parsed here, because construct_event crashes (AttributeError) on valid JSON that is not
    an object and returns a loosely typed StripeObject."""
    if not secret:
        raise InvalidWebhook("no webhook secret is configured")
    if not signature_header:
        raise InvalidWebhook("the Stripe-Signature header is missing")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature_header, secret, tolerance_seconds
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"bad signature: {exc.user_message or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidWebhook("the body is not UTF-8") from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise InvalidWebhook(f"the body is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise InvalidWebhook("the body is not a JSON object")
    for key, kind in (("id", str), ("type", str), ("created", int), ("data", dict)):
        if not isinstance(event.get(key), kind) or isinstance(event.get(key), bool):
            raise InvalidWebhook(f"the event has no valid {key!r}")
    if not isinstance(event["data"].get("object"), dict):
        raise InvalidWebhook("the event has no data.object")
    return event
