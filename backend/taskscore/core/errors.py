"""The one error hierarchy of the domain, and every kind of problem the API answers.

Each kind is a `ProblemType` (its value is the tail of the problem's `type` URI,
`/problems/<value>`) with its status, title and documentation in `PROBLEMS`; docs/api.md's error
table is generated from it (`manage.py problems`). Domain errors carry their kind; the API maps
them to RFC 9457 problem JSON once (`taskscore.api.common.errors`); services raise these and never
build HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ProblemType(StrEnum):
    MALFORMED_REQUEST = "http-400"
    INVALID_WEBHOOK = "invalid-webhook"
    NOT_AUTHENTICATED = "not-authenticated"
    QUOTA_EXCEEDED = "quota-exceeded"
    PAYMENT_OVERDUE = "payment-overdue"
    AI_BUDGET_EXCEEDED = "ai-budget-exceeded"
    PLAN_FEATURE_REQUIRED = "plan-feature-required"
    PERMISSION_DENIED = "permission-denied"
    CSRF_FAILED = "http-403"
    EMAIL_UNVERIFIED = "email-unverified"
    MFA_REQUIRED = "mfa-required"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    CONFLICT = "conflict"
    IDEMPOTENCY_CONFLICT = "idempotency-conflict"
    EXPORT_EXPIRED = "export-expired"
    VALIDATION_FAILED = "validation-failed"
    RATE_LIMITED = "rate-limited"
    INTERNAL_ERROR = "internal-error"
    WEBHOOK_NOT_CONFIGURED = "webhook-not-configured"
    WEBHOOK_APPLY_FAILED = "webhook-apply-failed"
    AI_REFUSED = "ai-refused"
    STRIPE_REFUSED = "stripe-refused"
    AI_UNAVAILABLE = "ai-unavailable"
    STRIPE_UNAVAILABLE = "stripe-unavailable"
    PERMISSION_CACHE_UNAVAILABLE = "permission-cache-unavailable"
    NOT_READY = "not-ready"

    @property
    def uri(self) -> str:
        return f"/problems/{self.value}"


@dataclass(frozen=True)
class ProblemSpec:
    status: int
    title: str
    when: str  # when the API answers it (for the docs)
    extra: str = ""  # members and headers besides the standard ones (for the docs)


PROBLEMS: Mapping[ProblemType, ProblemSpec] = {
    ProblemType.MALFORMED_REQUEST: ProblemSpec(
        400,
        "Bad request",
        "The body is not standard JSON (`NaN`, `Infinity` and numbers beyond a float are not), "
        "or it is nested more than 32 levels deep.",
    ),
    ProblemType.INVALID_WEBHOOK: ProblemSpec(
        400, "Invalid webhook", "A Stripe webhook whose signature does not verify."
    ),
    ProblemType.NOT_AUTHENTICATED: ProblemSpec(
        401, "Authentication required",
        "No session and no valid API key (an expired key's `detail` says it has expired).",
        "`WWW-Authenticate: Bearer`",
    ),
    ProblemType.QUOTA_EXCEEDED: ProblemSpec(
        402, "Quota exceeded", "The plan's task quota for the period is used up.",
        "`plan`, `used`, `limit`",
    ),
    ProblemType.PAYMENT_OVERDUE: ProblemSpec(
        402, "Payment overdue", "A payment is overdue past the grace period.",
        "`plan`, `used`, `limit`",
    ),
    ProblemType.AI_BUDGET_EXCEEDED: ProblemSpec(
        402, "AI budget exceeded",
        "The plan's monthly AI calls would be exceeded by this request (preview, re-score all).",
        "`plan`, `used`, `limit`, `needed`",
    ),
    ProblemType.PLAN_FEATURE_REQUIRED: ProblemSpec(
        402, "Plan feature required",
        "The org's plan lacks a paid feature the request uses: creating an API key or any request "
        "made with one, creating or editing a custom role, reading the audit log.",
        "`feature`, `plan`, `required_plan`",
    ),
    ProblemType.PERMISSION_DENIED: ProblemSpec(
        403, "Permission denied", "The caller's role lacks a permission (or may not grant a role).",
        "`permission`",
    ),
    ProblemType.CSRF_FAILED: ProblemSpec(
        403, "CSRF check failed", "A session request without a valid `X-CSRFToken`."
    ),
    ProblemType.EMAIL_UNVERIFIED: ProblemSpec(
        403, "Email not verified",
        "Creating an org or answering an invitation before verifying one's email address.",
    ),
    ProblemType.MFA_REQUIRED: ProblemSpec(
        403, "Two-factor authentication required",
        "The org requires two-factor authentication of owners and admins, and the logged-in "
        "person, an owner or admin there, has not set up an authenticator app. Every request to "
        "the org's API is refused until they do (`/_allauth/browser/v1/account/authenticators/"
        "totp`); API keys are not affected.",
    ),
    ProblemType.NOT_FOUND: ProblemSpec(
        404, "Not found", "No such object — also another org's objects (never 403)."
    ),
    ProblemType.METHOD_NOT_ALLOWED: ProblemSpec(
        405, "Method not allowed", "The path exists, the method does not.", "`Allow`"
    ),
    ProblemType.CONFLICT: ProblemSpec(
        409, "Conflict", "The request clashes with the current state (a name taken, a rule)."
    ),
    ProblemType.IDEMPOTENCY_CONFLICT: ProblemSpec(
        409, "Idempotency key conflict",
        "An `Idempotency-Key` reused with another request, or still in progress.",
    ),
    ProblemType.EXPORT_EXPIRED: ProblemSpec(
        410, "Export expired",
        "Downloading an org export after its expiry (`ORG_EXPORT_TTL_HOURS`): its file was "
        "deleted.",
    ),
    ProblemType.VALIDATION_FAILED: ProblemSpec(
        422, "Invalid input", "The input breaks a rule of the schema or of the service.",
        "`errors: [{field, message}]`",
    ),
    ProblemType.RATE_LIMITED: ProblemSpec(
        429, "Too many requests", "The caller's or the org's rate limit is reached.",
        "`Retry-After`, `RateLimit-*`",
    ),
    ProblemType.INTERNAL_ERROR: ProblemSpec(
        500, "Internal server error", "A failure on our side (logged)."
    ),
    ProblemType.WEBHOOK_NOT_CONFIGURED: ProblemSpec(
        500, "Webhooks are not configured", "`STRIPE_WEBHOOK_SECRET` is not set."
    ),
    ProblemType.WEBHOOK_APPLY_FAILED: ProblemSpec(
        500, "The event could not be applied",
        "A verified Stripe event failed to apply; it is stored and applied again.",
    ),
    ProblemType.AI_REFUSED: ProblemSpec(
        502, "The AI provider refused the request", "The AI provider answered with an error."
    ),
    ProblemType.STRIPE_REFUSED: ProblemSpec(
        502, "The payment provider refused the request", "Stripe answered with an error."
    ),
    ProblemType.AI_UNAVAILABLE: ProblemSpec(
        503, "The AI provider is unavailable", "The AI provider timed out or is down.",
        "`Retry-After`",
    ),
    ProblemType.STRIPE_UNAVAILABLE: ProblemSpec(
        503, "The payment provider is unavailable", "Stripe timed out or is down."
    ),
    ProblemType.PERMISSION_CACHE_UNAVAILABLE: ProblemSpec(
        503, "Service unavailable",
        "A change of permissions while the permission cache cannot be invalidated.",
    ),
    ProblemType.NOT_READY: ProblemSpec(
        503, "Not ready", "`/readyz`: a dependency does not answer.", "`checks`"
    ),
}  # fmt: skip
assert set(PROBLEMS) == set(ProblemType), "every problem type is documented"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a caller may show to a user. Its kind says the status and title."""

    detail: str = ""
    problem: ProblemType = ProblemType.CONFLICT

    @property
    def status(self) -> int:
        return PROBLEMS[self.problem].status

    @property
    def title(self) -> str:
        return PROBLEMS[self.problem].title

    def problem_extra(self) -> dict[str, Any]:
        """Members the problem JSON carries besides the standard ones."""
        return {}

    def problem_headers(self) -> dict[str, str]:
        """Headers the answer carries."""
        return {}

    def __str__(self) -> str:
        return self.detail or self.title


@dataclass
class ValidationFailed(DomainError):
    errors: list[FieldError] = field(default_factory=list)
    problem: ProblemType = ProblemType.VALIDATION_FAILED

    def problem_extra(self) -> dict[str, Any]:
        return {"errors": [{"field": e.field, "message": e.message} for e in self.errors]}


@dataclass
class NotFound(DomainError):
    problem: ProblemType = ProblemType.NOT_FOUND


@dataclass
class ReferencesNotFound(NotFound):
    """A well-formed request that names things the org does not have (a task id, a criterion),
    each field named: 404, not 422, since no document can say which ids exist."""

    errors: list[FieldError] = field(default_factory=list)

    def problem_extra(self) -> dict[str, Any]:
        return {"errors": [{"field": e.field, "message": e.message} for e in self.errors]}


@dataclass
class NotAuthenticated(DomainError):
    problem: ProblemType = ProblemType.NOT_AUTHENTICATED

    def problem_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="taskscore"'}


@dataclass
class ApiKeyExpired(NotAuthenticated):
    """The right secret of an API key past its expiry: no more is said (not when it expired)."""

    detail: str = "This API key has expired; create a new one."


@dataclass
class PermissionDenied(DomainError):
    permission: str = ""
    problem: ProblemType = ProblemType.PERMISSION_DENIED

    def problem_extra(self) -> dict[str, Any]:
        return {"permission": self.permission} if self.permission else {}


@dataclass
class Conflict(DomainError):
    problem: ProblemType = ProblemType.CONFLICT


@dataclass
class QuotaExceeded(DomainError):
    problem: ProblemType = ProblemType.QUOTA_EXCEEDED


@dataclass
class EmailNotVerified(DomainError):
    """The acting user has not verified their email address yet (creating an org, joining one)."""

    detail: str = (
        "Verify your email address first: open the link in the verification mail we sent you, "
        "or ask for it to be sent again."
    )
    problem: ProblemType = ProblemType.EMAIL_UNVERIFIED


@dataclass
class MFARequired(DomainError):
    """An owner or admin of an org that requires two-factor authentication has none set up."""

    detail: str = (
        "This organization requires two-factor authentication of its owners and admins. Set up "
        "an authenticator app on your account page, then try again."
    )
    problem: ProblemType = ProblemType.MFA_REQUIRED


@dataclass
class ServiceUnavailable(DomainError):
    """A dependency the request needs is down; the caller may try again later."""

    problem: ProblemType = ProblemType.PERMISSION_CACHE_UNAVAILABLE
