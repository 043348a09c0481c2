"""`Idempotency-Key` on every POST under /api/v2/ (as Stripe does).

The first request with a key runs; its response (unless a 5xx, which the client may retry) is
stored and replayed for 24 hours to the same caller sending the same key with the same method,
path and body. The same key with a different request answers 409; a request arriving while the
first is still running answers 409 too, so concurrent retries create one object. Keys are scoped
to the caller (an API key, or a logged-in user), so one caller cannot replay another's response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from taskscore.api.common.problems import problem_response
from taskscore.api.models import IdempotentRequest

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def _caller(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return "key:" + hashlib.sha256(authorization[7:].encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None  # anonymous requests are refused by the endpoint anyway


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _conflict(request: HttpRequest, detail: str) -> HttpResponse:
    return problem_response(
        status=409, code="idempotency-conflict", title="Idempotency key conflict",
        detail=detail, instance=request.path,
    )  # fmt: skip


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or not request.path.startswith("/api/v2/"):
            return self.get_response(request)
        caller = _caller(request)
        if caller is None:
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return problem_response(
                status=422, code="validation-failed", title="Invalid input",
                detail=f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.",
                instance=request.path,
                extra={"errors": [{"field": HEADER, "message": "Too long."}]},
            )  # fmt: skip
        fingerprint = _fingerprint(request)
        IdempotentRequest.objects.filter(
            caller=caller, key=key, created_at__lt=timezone.now() - TTL
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    caller=caller, key=key, request_hash=fingerprint
                )
        except IntegrityError:
            existing = IdempotentRequest.objects.filter(caller=caller, key=key).first()
            if existing is None:  # expired and removed in between: treat as a conflict to retry
                return _conflict(request, "Retry the request.")
            if existing.request_hash != fingerprint:
                return _conflict(
                    request, f"This {HEADER} was used with a different request in the last 24 h."
                )
            if existing.response_status is None:
                return _conflict(request, f"A request with this {HEADER} is still in progress.")
            replay = HttpResponse(
                bytes(existing.response_body or b""),
                status=existing.response_status,
                content_type=existing.response_content_type or None,
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.streaming:
            record.delete()  # let the client retry
            return response
        IdempotentRequest.objects.filter(pk=record.pk).update(
            response_status=response.status_code,
            response_body=response.content,
            response_content_type=response.get("Content-Type", ""),
        )
        return response
