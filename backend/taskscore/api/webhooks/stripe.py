"""`POST /api/webhooks/stripe`: verify, store once, apply once.

- A delivery that is not signed with our secret, is older than the tolerance, or is not a JSON
  event answers 400 and stores nothing.
- A genuine event is stored (insert-or-ignore on its id) before anything else; only then can
  the answer be 2xx. Applying it happens in one transaction; if that fails the event is marked
  `failed` and the answer is 500, so Stripe delivers it again (and the retry job re-applies it).
- Duplicates and events already applied answer 200 without applying anything again.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from taskscore.api.common.problems import problem_response
from taskscore.billing.events import EventApplyFailed, stripe_event_apply, stripe_event_record
from taskscore.core import metrics
from taskscore.core.errors import ProblemType
from taskscore.integrations.stripe import InvalidWebhook, webhook_event_verify

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("STRIPE_WEBHOOK_SECRET is not set; refusing Stripe webhooks")
        metrics.webhook_event_count(event_type="unverified", outcome="not_configured")
        return problem_response(
            ProblemType.WEBHOOK_NOT_CONFIGURED,
            instance=request.path,
        )
    try:
        event = webhook_event_verify(
            payload=request.body,
            signature_header=request.headers.get("Stripe-Signature"),
            secret=secret,
            tolerance_seconds=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except InvalidWebhook as exc:
        metrics.webhook_event_count(event_type="unverified", outcome="invalid")
        return problem_response(
            ProblemType.INVALID_WEBHOOK,
            detail=str(exc),
            instance=request.path,
        )
    stripe_event_record(event=event)
    try:
        row = stripe_event_apply(event_id=event["id"])
    except EventApplyFailed:
        return problem_response(
            ProblemType.WEBHOOK_APPLY_FAILED,
            detail="It is stored and will be applied again.",
            instance=request.path,
        )
    body = {"id": row.event_id, "status": row.status, "reason": row.reason}
    return HttpResponse(json.dumps(body), content_type="application/json")
