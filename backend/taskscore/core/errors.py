"""The one error hierarchy of the domain. The API maps each class to RFC 9457 problem JSON once
(`taskscore.api.common.errors`); services raise these and never build HTTP responses."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a caller may show to a user."""

    detail: str = ""
    code: str = "error"
    status: int = 400
    title: str = "Bad request"

    def __str__(self) -> str:
        return self.detail or self.title


@dataclass
class ValidationFailed(DomainError):
    errors: list[FieldError] = field(default_factory=list)
    code: str = "validation-failed"
    status: int = 422
    title: str = "Invalid input"


@dataclass
class NotFound(DomainError):
    code: str = "not-found"
    status: int = 404
    title: str = "Not found"


@dataclass
class NotAuthenticated(DomainError):
    code: str = "not-authenticated"
    status: int = 401
    title: str = "Authentication required"


@dataclass
class PermissionDenied(DomainError):
    permission: str = ""
    code: str = "permission-denied"
    status: int = 403
    title: str = "Permission denied"


@dataclass
class Conflict(DomainError):
    code: str = "conflict"
    status: int = 409
    title: str = "Conflict"


@dataclass
class QuotaExceeded(DomainError):
    code: str = "quota-exceeded"
    status: int = 402
    title: str = "Quota exceeded"


@dataclass
class EmailNotVerified(DomainError):
    """The acting user has not verified their email address yet (creating an org, joining one)."""

    detail: str = (
        "Verify your email address first: open the link in the verification mail we sent you, "
        "or ask for it to be sent again."
    )
    code: str = "email-unverified"
    status: int = 403
    title: str = "Email not verified"
