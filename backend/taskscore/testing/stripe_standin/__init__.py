"""The offline Stripe stand-in: localstripe plus what the app needs and localstripe lacks —
Checkout sessions with a Checkout page, customer-portal sessions with a portal page, billing meter
events, hosted invoice pages — and Stripe's webhook delivery (signed per attempt, in order per
endpoint, retried with backoff). One aiohttp process on loopback; the app reaches it through
`STRIPE_API_BASE` exactly as it reaches Stripe.

    python -m taskscore.testing.stripe_standin --port 8420 --webhook-url URL

(`make run` starts it through scripts/offline_stripe.py.)

Modules: `config` (environment and flags), `cards` (test cards, the card form's checks),
`objects` (Checkout/portal sessions and meter events in Stripe's shapes; localstripe's
subscription and invoice as the stand-in extends them), `ledger` (what Checkout, the portal and
renewals change, and their events), `webhooks` (delivery), `state` (all of it in one object, the
state file), `api` (the `/v1` routes localstripe lacks), `middleware` (API keys, idempotency),
`site` and `portal` (the pages' routes), `layout` and `render` (their HTML), `app` (assembly and
`main`); for tests and benchmarks `driver` (a scripted browser) and `receiver` (a webhook
endpoint that checks signatures)."""
