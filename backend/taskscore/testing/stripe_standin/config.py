"""What the stand-in is started with: where it listens, its prices, the webhook endpoint it
registers, and how it delivers. Read from the same environment variables as the app, so that
`make run` needs no extra configuration."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class PriceSpec:
    """One recurring price the stand-in sells (created in localstripe as a legacy plan)."""

    id: str
    name: str
    unit_amount: int  # in cents: per month, or per unit reported when metered
    metered: bool = False
    currency: str = "usd"
    interval: str = "month"
    unit_label: str = "task"  # what one metered unit is called on the pages


def default_prices(env: Mapping[str, str]) -> tuple[PriceSpec, ...]:
    """Pro at $29 a month, Business at 2 cents per task reported (the amounts the app's plan
    catalog shows; the real prices live in Stripe)."""
    return (
        PriceSpec(
            id=env.get("STRIPE_PRICE_PRO") or "price_taskscore_pro",
            name="Taskscore Pro",
            unit_amount=2900,
        ),
        PriceSpec(
            id=env.get("STRIPE_PRICE_BUSINESS") or "price_taskscore_business",
            name="Taskscore Business",
            unit_amount=2,
            metered=True,
        ),
    )


@dataclass(frozen=True)
class StandinConfig:
    host: str = "127.0.0.1"
    port: int = 8420
    prices: tuple[PriceSpec, ...] = field(default_factory=lambda: default_prices({}))
    # The endpoint registered at start ("" registers none; `POST /_config/webhooks/{id}` adds
    # more, as with localstripe).
    webhook_url: str = ""
    webhook_secret: str = "whsec_localstripe"  # noqa: S105 - the documented offline secret
    api_version: str = "2026-10-28.endive"
    meter_event_name: str = "taskscore_tasks"
    merchant_name: str = "Taskscore"
    # Delivery: attempts per event and endpoint, the first retry's delay (doubling, capped at
    # 8 s), each attempt's timeout. Stripe retries for three days; the stand-in gives up sooner
    # (the event stays listed by `GET /v1/events` for `stripe_reconcile`).
    webhook_attempts: int = 6
    webhook_backoff_seconds: float = 0.25
    webhook_timeout_seconds: float = 5.0
    # How long a page waits for its webhooks to be delivered before redirecting anyway.
    redirect_wait_seconds: float = 5.0
    # Where the state is kept across restarts ("" keeps it in memory only).
    state_file: str = ""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def config_from_env(env: Mapping[str, str]) -> StandinConfig:
    """The configuration `make run` uses: the app's own variables (LOCALSTRIPE_PORT,
    DJANGO_ORIGIN, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_*, STRIPE_API_VERSION,
    STRIPE_METER_EVENT_NAME), and STRIPE_STANDIN_STATE for a state file."""
    django_origin = (env.get("DJANGO_ORIGIN") or "http://127.0.0.1:8000").rstrip("/")
    defaults = StandinConfig()
    return StandinConfig(
        port=int(env.get("LOCALSTRIPE_PORT") or defaults.port),
        prices=default_prices(env),
        webhook_url=f"{django_origin}/api/webhooks/stripe",
        webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or defaults.webhook_secret,
        api_version=env.get("STRIPE_API_VERSION") or defaults.api_version,
        meter_event_name=env.get("STRIPE_METER_EVENT_NAME") or defaults.meter_event_name,
        state_file=env.get("STRIPE_STANDIN_STATE") or "",
    )


def config_from_args(argv: Sequence[str], env: Mapping[str, str]) -> StandinConfig:
    """The environment's configuration with command-line overrides (tests and benchmarks)."""
    config = config_from_env(env)
    parser = argparse.ArgumentParser(description="The offline Stripe stand-in (loopback only).")
    parser.add_argument("--port", type=int, default=config.port)
    parser.add_argument("--webhook-url", default=config.webhook_url, help='"" registers none')
    parser.add_argument("--webhook-secret", default=config.webhook_secret)
    parser.add_argument("--webhook-attempts", type=int, default=config.webhook_attempts)
    parser.add_argument(
        "--webhook-backoff", type=float, default=config.webhook_backoff_seconds, help="seconds"
    )
    parser.add_argument(
        "--redirect-wait", type=float, default=config.redirect_wait_seconds, help="seconds"
    )
    parser.add_argument(
        "--state-file", default=config.state_file, help='kept across restarts ("" = memory)'
    )
    args = parser.parse_args(list(argv))
    if args.webhook_attempts < 1:
        parser.error("--webhook-attempts must be at least 1")
    return replace(
        config,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        webhook_attempts=args.webhook_attempts,
        webhook_backoff_seconds=args.webhook_backoff,
        redirect_wait_seconds=args.redirect_wait,
        state_file=args.state_file,
    )
