"""RFC 9457 problem details: every error the API returns has this one shape."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from taskscore.core import metrics, request_context
from taskscore.core.errors import PROBLEMS, ProblemType

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The refusals by a limit, counted as they are answered (core.metrics): every one of them leaves
# through here, whichever limit raised it.
_REFUSALS: dict[ProblemType, metrics.RefusalKind] = {
    ProblemType.RATE_LIMITED: "rate_limit",
    ProblemType.QUOTA_EXCEEDED: "quota",
    ProblemType.PAYMENT_OVERDUE: "quota",
    ProblemType.AI_BUDGET_EXCEEDED: "ai_budget",
}


def problem_response(
    problem: ProblemType,
    *,
    detail: str = "",
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """The answer for a problem of this kind: its status and title from `core.errors.PROBLEMS`."""
    spec = PROBLEMS[problem]
    refusal = _REFUSALS.get(problem)
    if refusal is not None:
        metrics.refusal_count(kind=refusal)
    body: dict[str, Any] = {"type": problem.uri, "title": spec.title, "status": spec.status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    rid = request_context.request_id()
    if rid is not None:
        body["request_id"] = rid  # to quote when reporting it (also the X-Request-ID header)
    response = HttpResponse(json.dumps(body), status=spec.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
