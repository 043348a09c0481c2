"""`Idempotency-Key` on every POST under /api/v2/ (as Stripe does).

The first request with a key runs; if it ran (a success, or input judged invalid) its response is
stored and replayed for 24 hours to the same caller sending the same key with the same method,
path and body. Other outcomes (401/402/403/404/409/429, 5xx) are not stored, so the client can
retry with the same key once the cause is gone. A response holding a secret shown once (an API
key, an invitation link) is not stored: a retry answers 409 rather than creating a second
object. The same key with a different request answers 409; a request arriving while the first
is still running answers 409 too (for at most a minute, should its process die), so concurrent
retries create one object. Keys are scoped to the caller (an API key, or a logged-in user), and a
replay answers only a caller whose credentials are still valid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from taskscore.api.common.problems import problem_response
from taskscore.api.models import IdempotentRequest
from taskscore.core.errors import ProblemType
from taskscore.orgs.principals import principal_for_token

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
IN_PROGRESS_LEASE = timedelta(seconds=60)
# Responses of requests that ran: successes, and input the endpoint judged invalid.
STORED_STATUSES = frozenset({200, 201, 202, 204, 400, 422})
MAX_KEY_LENGTH = 255


def _caller(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return "key:" + hashlib.sha256(authorization[7:].encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None  # anonymous requests are refused by the endpoint anyway


def _caller_still_valid(request: HttpRequest) -> bool:
    """A replay answers only a caller who could make the request now (not a revoked key)."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return principal_for_token(authorization[7:]) is not None
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _conflict(request: HttpRequest, detail: str) -> HttpResponse:
    return problem_response( ProblemType.IDEMPOTENCY_CONFLICT,
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
            return problem_response( ProblemType.VALIDATION_FAILED,
                detail=f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.",
                instance=request.path,
                extra={"errors": [{"field": HEADER, "message": "Too long."}]},
            )  # fmt: skip
        fingerprint = _fingerprint(request)
        now = timezone.now()
        # Forget expired keys, and requests whose process died before answering (the in-progress
        # mark must not block the key for a day).
        IdempotentRequest.objects.filter(caller=caller, key=key).filter(
            Q(created_at__lt=now - TTL)
            | Q(response_status__isnull=True, created_at__lt=now - IN_PROGRESS_LEASE)
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    caller=caller, key=key, request_hash=fingerprint
                )
        except IntegrityError:
            return self._replay(request, caller, key, fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            record.delete()
            raise
        if response.streaming or response.status_code not in STORED_STATUSES:
            # Not run (auth, permission, quota, rate limit, conflict) or failed on our side:
            # the client may retry with the same key once the cause is gone.
            record.delete()
            return response
        is_secret = bool(getattr(request, "idempotency_secret", False))
        IdempotentRequest.objects.filter(pk=record.pk).update(
            response_status=response.status_code,
            # A response carrying a secret shown once (an API key, an invitation link) is not
            # kept: a retry is told so instead of creating a second object.
            response_body=b"" if is_secret else response.content,
            response_content_type="" if is_secret else response.get("Content-Type", ""),
            is_secret=is_secret,
        )
        return response

    def _replay(
        self, request: HttpRequest, caller: str, key: str, fingerprint: str
    ) -> HttpResponse:
        existing = IdempotentRequest.objects.filter(caller=caller, key=key).first()
        if existing is None:  # expired and removed in between: the client retries
            return _conflict(request, "Retry the request.")
        if existing.request_hash != fingerprint:
            return _conflict(
                request, f"This {HEADER} was used with a different request in the last 24 h."
            )
        if existing.response_status is None:
            return _conflict(request, f"A request with this {HEADER} is still in progress.")
        if not _caller_still_valid(request):
            return problem_response( ProblemType.NOT_AUTHENTICATED,
                detail="The credentials of this request are no longer valid.",
                instance=request.path,
            )  # fmt: skip
        if existing.is_secret:
            return _conflict(
                request,
                f"This {HEADER} already created the object; its secret was shown once and is "
                "not kept. List the objects to find it.",
            )
        replay = HttpResponse(
            bytes(existing.response_body or b""),
            status=existing.response_status,
            content_type=existing.response_content_type or None,
        )
        replay["Idempotent-Replayed"] = "true"
        return replay
