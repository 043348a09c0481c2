"""The offline Stripe for `make run` (when STRIPE_SECRET_KEY is unset): the stand-in in
backend/taskscore/testing/stripe_standin on 127.0.0.1:$LOCALSTRIPE_PORT (8420), with the paid
plans' prices, the app's webhook endpoint ($DJANGO_ORIGIN/api/webhooks/stripe) registered with
$STRIPE_WEBHOOK_SECRET, and the Checkout and portal pages. Its state is kept across restarts in
.local/stripe-standin.pickle ($STRIPE_STANDIN_STATE; delete the file to start over)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run() -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "backend"))
    os.environ.setdefault("STRIPE_STANDIN_STATE", str(root / ".local" / "stripe-standin.pickle"))
    from taskscore.testing.stripe_standin.app import main

    main()


if __name__ == "__main__":
    run()
