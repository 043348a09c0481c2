"""Billing's refinements of the domain errors (core.errors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taskscore.core.errors import DomainError, ProblemType, QuotaExceeded


@dataclass
class PlanQuotaExceeded(QuotaExceeded):
    """A submission the org's plan does not allow: over the period's quota (`quota-exceeded`) or
    past the grace period of an overdue payment (`payment-overdue`). 402 either way."""

    plan: str = ""
    used: int = 0
    limit: int | None = None

    def problem_extra(self) -> dict[str, Any]:
        """The fields the problem JSON carries besides `detail`."""
        return {"plan": self.plan, "used": self.used, "limit": self.limit}


@dataclass
class PlanFeatureRequired(DomainError):
    """A paid feature the org's plan in force does not include (402): `feature` names it,
    `plan` is the plan in force and `required_plan` the cheapest plan that includes it."""

    problem: ProblemType = ProblemType.PLAN_FEATURE_REQUIRED
    feature: str = ""
    plan: str = ""
    required_plan: str | None = None

    def problem_extra(self) -> dict[str, Any]:
        return {"feature": self.feature, "plan": self.plan, "required_plan": self.required_plan}


@dataclass
class StripeUnavailable(DomainError):
    problem: ProblemType = ProblemType.STRIPE_UNAVAILABLE


@dataclass
class StripeRefused(DomainError):
    problem: ProblemType = ProblemType.STRIPE_REFUSED


@dataclass
class AIBudgetExceeded(QuotaExceeded):
    """A request whose AI calls the org's monthly allowance cannot cover (402)."""

    problem: ProblemType = ProblemType.AI_BUDGET_EXCEEDED
    plan: str = ""
    used: int = 0
    limit: int | None = None
    needed: int = 0

    def problem_extra(self) -> dict[str, Any]:
        return {"plan": self.plan, "used": self.used, "limit": self.limit, "needed": self.needed}
