"""The offline Stripe for `make run` (when STRIPE_SECRET_KEY is unset): localstripe on loopback.

Binds 127.0.0.1 only (localstripe's own CLI binds every interface), keeps its state in memory,
creates the paid plans' prices and registers the app's webhook endpoint with the local secret, so
Checkout-free flows (subscriptions, invoices, signed webhooks) work with no network."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import aiohttp.web
from localstripe import resources, server

PORT = int(os.environ.get("LOCALSTRIPE_PORT", "8420"))
BASE = f"http://127.0.0.1:{PORT}"
DJANGO_ORIGIN = os.environ.get("DJANGO_ORIGIN", "http://127.0.0.1:8000")
SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
PRICES = {
    os.environ.get("STRIPE_PRICE_PRO", "price_taskscore_pro"): ("Taskscore Pro", 2900),
    os.environ.get("STRIPE_PRICE_BUSINESS", "price_taskscore_business"): ("Taskscore Business", 0),
}


def _post(path: str, fields: dict[str, str]) -> None:
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(
        BASE + path, data=data, headers={"Authorization": "Bearer sk_test_localstripe"}
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
        pass


def configure() -> None:
    for _ in range(100):  # wait for the server to listen
        try:
            urllib.request.urlopen(BASE + "/v1/customers?limit=1", timeout=1)  # noqa: S310
        except urllib.error.HTTPError:
            pass  # it answers: it listens
        except OSError:
            time.sleep(0.1)
            continue
        break
    for price_id, (name, amount) in PRICES.items():
        _post("/v1/plans", {"id": price_id, "amount": str(amount), "currency": "usd",
                            "interval": "month", "product[name]": name})  # fmt: skip
    _post(
        "/_config/webhooks/taskscore",
        {"url": f"{DJANGO_ORIGIN}/api/webhooks/stripe", "secret": SECRET},
    )
    print(json.dumps({"localstripe": BASE, "webhook": f"{DJANGO_ORIGIN}/api/webhooks/stripe"}))


if __name__ == "__main__":
    resources.store.dump_to_disk = lambda *args, **kwargs: None  # memory only
    threading.Thread(target=configure, daemon=True).start()
    aiohttp.web.run_app(server.app, host="127.0.0.1", port=PORT, print=None)
