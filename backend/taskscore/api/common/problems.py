"""RFC 9457 problem details: every error the API returns has this one shape."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from taskscore.core import request_context
from taskscore.core.errors import PROBLEMS, ProblemType

PROBLEM_CONTENT_TYPE = "application/problem+json"


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
