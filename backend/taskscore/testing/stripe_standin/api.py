"""The Stripe API routes localstripe lacks, in Stripe's shapes and error format:

    POST /v1/checkout/sessions              GET /v1/checkout/sessions[/{id}[/line_items]]
    POST /v1/checkout/sessions/{id}/expire  POST /v1/billing_portal/sessions
    POST /v1/billing/meter_events           GET /v1/prices[/{id}] (localstripe's plans)

in Stripe's JSON (`middleware` adds the API-key check and `Idempotency-Key`). Unknown parameters
are refused as Stripe refuses them, so a new parameter in the app fails loudly here instead of
being silently ignored."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import localstripe.resources as ls  # type: ignore[import-untyped]
from aiohttp import web
from localstripe import server as ls_server
from localstripe.errors import UserError  # type: ignore[import-untyped]

from taskscore.testing.stripe_standin.objects import (
    CheckoutSession,
    PortalSession,
    new_id,
    price_object,
)
from taskscore.testing.stripe_standin.state import Standin

STANDIN = web.AppKey("standin", Standin)

CHECKOUT_PARAMS = frozenset(
    {"mode", "line_items", "customer", "customer_email", "client_reference_id", "metadata",
     "success_url", "cancel_url", "subscription_data", "expand", "expires_at", "currency",
     "payment_method_types", "ui_mode",
     # accepted and ignored: they change nothing the stand-in shows or sends
     "allow_promotion_codes", "automatic_tax", "billing_address_collection", "consent_collection",
     "custom_text", "customer_update", "locale", "payment_method_collection", "submit_type",
     "tax_id_collection"}
)  # fmt: skip
SUBSCRIPTION_DATA_PARAMS = frozenset(
    {"metadata", "trial_period_days", "trial_end",
     # accepted and ignored
     "description", "proration_behavior", "trial_settings"}
)  # fmt: skip
LINE_ITEM_PARAMS = frozenset({"price", "quantity"})
PORTAL_PARAMS = frozenset({"customer", "return_url", "configuration", "locale", "expand"})
METER_EVENT_PARAMS = frozenset({"event_name", "payload", "identifier", "timestamp", "expand"})
SESSION_TTL_SECONDS = 24 * 3600


def json_response(data: dict[str, Any], status: int = 200) -> web.Response:
    response: web.Response = ls_server.json_response(data, status=status)
    return response


def invalid(message: str, *, param: str, code: str = "parameter_invalid") -> UserError:
    return UserError(400, message, {"code": code, "param": param})


def unknown_parameter(name: str) -> UserError:
    return invalid(
        f"Received unknown parameter: {name} (the offline Stripe stand-in does not implement "
        "it: taskscore/testing/stripe_standin)",
        param=name,
        code="parameter_unknown",
    )


def refuse_unknown(data: dict[str, Any], known: frozenset[str], *, prefix: str = "") -> None:
    for name in sorted(set(data) - known):
        raise unknown_parameter(f"{prefix}[{name}]" if prefix else name)


async def post_data(request: web.Request) -> dict[str, Any]:
    """Form-encoded (or JSON) parameters, nested as Stripe's SDKs flatten them."""
    data = await ls_server.get_post_data(request)
    return dict(data or {})


def query_data(request: web.Request) -> dict[str, Any]:
    return dict(ls_server.unflatten_data(request.query) or {})


def as_int(value: Any, *, param: str, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise invalid(f"{param} must be at least {minimum}.", param=param)
    return number


def as_url(value: Any, *, param: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise invalid("Not a valid URL", param=param, code="url_invalid")
    return value


def as_metadata(value: Any, *, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param=param)
    return {str(k): str(v) for k, v in value.items()}


def list_of(items: list[dict[str, Any]], url: str, limit: int) -> dict[str, Any]:
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


# ---------------------------------------------------------------------------- checkout


def _trial_end(subscription_data: dict[str, Any], now: int) -> int | None:
    if "trial_end" in subscription_data and "trial_period_days" in subscription_data:
        raise invalid(
            "You may only specify one of these parameters: trial_end, trial_period_days.",
            param="subscription_data[trial_end]",
        )
    if subscription_data.get("trial_period_days") not in (None, ""):
        days = as_int(
            subscription_data["trial_period_days"],
            param="subscription_data[trial_period_days]",
            minimum=1,
        )
        if days > 730:
            raise invalid(
                "trial_period_days can be at most 730.",
                param="subscription_data[trial_period_days]",
            )
        return now + days * 86400
    if subscription_data.get("trial_end") not in (None, ""):
        end = as_int(subscription_data["trial_end"], param="subscription_data[trial_end]")
        if end <= now:
            raise invalid("trial_end must be in the future.", param="subscription_data[trial_end]")
        return end
    return None


def _line_item(standin: Standin, data: dict[str, Any]) -> tuple[Any, int | None]:
    items = data.get("line_items")
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid(
            "The stand-in takes exactly one line item with a recurring price.",
            param="line_items",
        )
    item = items[0]
    refuse_unknown(item, LINE_ITEM_PARAMS, prefix="line_items[0]")
    if not isinstance(item.get("price"), str):
        raise invalid("Missing required param: line_items[0][price].", param="line_items[0]")
    plan = standin.ledger.price_get(item["price"], param="line_items[0][price]")
    if plan.usage_type == "metered":
        if item.get("quantity") not in (None, ""):
            raise invalid(
                "Quantity should not be specified where usage_type is `metered`. Remove "
                "quantity from `line_items[0]`",
                param="line_items[0][quantity]",
            )
        return plan, None
    if item.get("quantity") in (None, ""):
        raise invalid(
            "Quantity is required. Add `quantity` to `line_items[0]`",
            param="line_items[0][quantity]",
        )
    return plan, as_int(item["quantity"], param="line_items[0][quantity]", minimum=1)


def _session_json(standin: Standin, session: CheckoutSession, expand: Any) -> dict[str, Any]:
    data = session.to_stripe()
    for path in expand or []:
        if path == "line_items":
            plan = standin.ledger.price_get(session.price)
            price = price_object(plan) | {"nickname": plan.name}
            data["line_items"] = session.line_items(price)
        elif path in ("customer", "subscription", "invoice") and isinstance(data.get(path), str):
            data[path] = ls.store[f"{path}:{data[path]}"]._export()
        elif path not in ("customer", "subscription", "invoice"):
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
    return data


async def checkout_session_create(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    data = await post_data(request)
    refuse_unknown(data, CHECKOUT_PARAMS)
    now = int(time.time())
    if data.get("mode") != "subscription":
        raise invalid(
            "The offline Stripe stand-in implements mode=subscription only.", param="mode"
        )
    if data.get("ui_mode", "hosted") != "hosted":
        raise invalid("The stand-in implements ui_mode=hosted only.", param="ui_mode")
    if data.get("payment_method_types") not in (None, ["card"]):
        raise invalid("The stand-in takes cards only.", param="payment_method_types")
    plan, quantity = _line_item(standin, data)
    if data.get("currency") not in (None, "", plan.currency):
        raise invalid("The currency does not match the price's.", param="currency")
    if data.get("customer") and data.get("customer_email"):
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer = data.get("customer") or None
    if customer is not None:
        standin.ledger.customer_get(str(customer))
    subscription_data = data.get("subscription_data") or {}
    if not isinstance(subscription_data, dict):
        raise invalid("Invalid object", param="subscription_data")
    refuse_unknown(subscription_data, SUBSCRIPTION_DATA_PARAMS, prefix="subscription_data")
    expires_at = now + SESSION_TTL_SECONDS
    if data.get("expires_at") not in (None, ""):
        expires_at = as_int(data["expires_at"], param="expires_at", minimum=now + 1800)
    session_id = new_id("cs_test_")
    session = CheckoutSession(
        id=session_id,
        url=f"{standin.config.base_url}/checkout/{session_id}",
        created=now,
        expires_at=expires_at,
        price=plan.id,
        quantity=quantity,
        currency=plan.currency,
        amount_subtotal=0 if quantity is None else int(plan.amount) * quantity,
        success_url=as_url(data["success_url"], param="success_url")
        if data.get("success_url")
        else "",
        cancel_url=as_url(data["cancel_url"], param="cancel_url")
        if data.get("cancel_url")
        else None,
        customer=customer,
        customer_email=str(data["customer_email"]) if data.get("customer_email") else None,
        client_reference_id=str(data["client_reference_id"])
        if data.get("client_reference_id")
        else None,
        metadata=as_metadata(data.get("metadata"), param="metadata"),
        subscription_metadata=as_metadata(
            subscription_data.get("metadata"), param="subscription_data[metadata]"
        ),
        trial_end=_trial_end(subscription_data, now),
    )
    standin.checkout_sessions[session.id] = session
    return json_response(_session_json(standin, session, data.get("expand")))


def _session_or_404(standin: Standin, session_id: str) -> CheckoutSession:
    session = standin.checkout_session(session_id)
    if session is None:
        raise UserError(
            404,
            f"No such checkout.session: '{session_id}'",
            {"code": "resource_missing", "param": "session"},
        )
    return session


async def checkout_session_retrieve(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = _session_or_404(standin, request.match_info["id"])
    return json_response(_session_json(standin, session, query_data(request).get("expand")))


async def checkout_session_line_items(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = _session_or_404(standin, request.match_info["id"])
    return json_response(_session_json(standin, session, ["line_items"])["line_items"])


async def checkout_session_expire(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    session = _session_or_404(standin, request.match_info["id"])
    if session.status != "open":
        raise invalid(
            'Only Checkout Sessions with a status in ["open"] can be expired.', param="session"
        )
    session.status = "expired"
    return json_response(session.to_stripe())


async def checkout_session_list(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    query = query_data(request)
    limit = as_int(query.get("limit", 10), param="limit", minimum=1)
    sessions = sorted(
        (standin.checkout_session(s) for s in list(standin.checkout_sessions)),
        key=lambda s: s.created if s else 0,
        reverse=True,
    )
    data = [
        s.to_stripe()
        for s in sessions
        if s is not None
        and all(query.get(key) in (None, getattr(s, key)) for key in ("customer", "status"))
        and query.get("subscription") in (None, s.subscription)
    ]
    return json_response(list_of(data, "/v1/checkout/sessions", limit))


# ---------------------------------------------------------------------------- portal


async def portal_session_create(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    data = await post_data(request)
    if "flow_data" in data:
        raise invalid(
            "flow_data (deep links into the portal) is not implemented by the stand-in.",
            param="flow_data",
        )
    refuse_unknown(data, PORTAL_PARAMS)
    if not data.get("customer"):
        raise invalid(
            "Missing required param: customer.", param="customer", code="parameter_missing"
        )
    customer = standin.ledger.customer_get(str(data["customer"]))
    return_url = as_url(data["return_url"], param="return_url") if data.get("return_url") else None
    session_id = new_id("bps_")
    session = PortalSession(
        id=session_id,
        url=f"{standin.config.base_url}/portal/{session_id}",
        created=int(time.time()),
        customer=customer.id,
        return_url=return_url,
    )
    standin.portal_sessions[session.id] = session
    return json_response(session.to_stripe())


# ---------------------------------------------------------------------------- meter events


async def meter_event_create(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    data = await post_data(request)
    refuse_unknown(data, METER_EVENT_PARAMS)
    event_name = data.get("event_name")
    if not isinstance(event_name, str) or not event_name or len(event_name) > 100:
        raise invalid("Missing required param: event_name.", param="event_name")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise invalid("Missing required param: payload.", param="payload")
    customer = payload.get("stripe_customer_id")
    if not isinstance(customer, str) or not customer:
        raise invalid("The payload needs stripe_customer_id.", param="payload[stripe_customer_id]")
    raw_value = str(payload.get("value", ""))
    if not raw_value.isdigit():
        raise invalid(
            "The payload's value must be a whole number of units (the stand-in's meters sum them).",
            param="payload[value]",
        )
    now = int(time.time())
    timestamp = now
    if data.get("timestamp") not in (None, ""):
        timestamp = as_int(data["timestamp"], param="timestamp")
        if not now - 35 * 86400 <= timestamp <= now + 300:
            raise invalid(
                "Timestamp must be within the past 35 calendar days or up to 5 minutes in "
                "the future.",
                param="timestamp",
            )
    identifier = str(data.get("identifier") or new_id("mev_"))
    if len(identifier) > 100:
        raise invalid("identifier is at most 100 characters.", param="identifier")
    event = standin.ledger.meter_event_record(
        event_name=event_name, customer=customer, value=int(raw_value),
        identifier=identifier, timestamp=timestamp,
    )  # fmt: skip
    return json_response(event.to_stripe())


# ---------------------------------------------------------------------------- prices


def _plans() -> list[Any]:
    return [value for key, value in ls.store.items() if key.startswith("plan:")]


async def price_retrieve(request: web.Request) -> web.Response:
    plan = ls.store.get(f"plan:{request.match_info['id']}")
    if plan is None:
        raise UserError(
            404,
            f"No such price: '{request.match_info['id']}'",
            {"code": "resource_missing", "param": "price"},
        )
    return json_response(price_object(plan))


async def price_list(request: web.Request) -> web.Response:
    limit = as_int(query_data(request).get("limit", 10), param="limit", minimum=1)
    prices = [price_object(plan) for plan in sorted(_plans(), key=lambda p: p.created)]
    return json_response(list_of(prices, "/v1/prices", limit))


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post("/v1/checkout/sessions", checkout_session_create)
    router.add_get("/v1/checkout/sessions", checkout_session_list)
    router.add_get("/v1/checkout/sessions/{id}", checkout_session_retrieve)
    router.add_get("/v1/checkout/sessions/{id}/line_items", checkout_session_line_items)
    router.add_post("/v1/checkout/sessions/{id}/expire", checkout_session_expire)
    router.add_post("/v1/billing_portal/sessions", portal_session_create)
    router.add_post("/v1/billing/meter_events", meter_event_create)
    router.add_get("/v1/prices", price_list)
    router.add_get("/v1/prices/{id}", price_retrieve)
