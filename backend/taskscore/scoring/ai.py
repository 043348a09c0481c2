"""The scoring side of the AI seam: the configured provider behind the Redis result cache, and
the org's rules around every call (`ai_run_criteria`): AI on or off, which task fields are sent,
redaction before the call and the cache key, and the monthly AI allowance."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskscore.billing.services import AIReservation, ai_calls_reserve, ai_calls_settle
from taskscore.core import metrics
from taskscore.core.db import connection_release
from taskscore.core.request_context import submit_in_context
from taskscore.integrations.ai.base import (
    AIAssessment,
    AIConfig,
    AIError,
    AIProvider,
    RetryableAIError,
)
from taskscore.integrations.ai.cache import AIResultCache
from taskscore.integrations.ai.prompt import PROMPT_VERSION
from taskscore.integrations.ai.providers import provider_from_config, provider_preload
from taskscore.integrations.ai.redact import redact
from taskscore.orgs.selectors import AIRules, ai_rules
from taskscore.scoring.engine import AICriterion, Criterion

logger = logging.getLogger(__name__)


def ai_config() -> AIConfig:
    return AIConfig(
        provider=settings.AI_PROVIDER,
        model=settings.AI_MODEL,
        base_url=settings.AI_BASE_URL,
        api_key=settings.AI_API_KEY,
        timeout_seconds=settings.AI_TIMEOUT_SECONDS,
        structured_output=settings.AI_STRUCTURED_OUTPUT,
        price_input_per_mtok=settings.AI_PRICE_INPUT_PER_MTOK,
        price_output_per_mtok=settings.AI_PRICE_OUTPUT_PER_MTOK,
    )


def ai_provider() -> AIProvider:
    return provider_from_config(ai_config())


def ai_provider_preload() -> None:
    """Import the configured provider's code before a job needs it (a worker, at start)."""
    provider_preload(ai_config())


@functools.cache
def _cache(redis_url: str, ttl_seconds: int, key_prefix: str, lock_seconds: float) -> AIResultCache:
    # One quick attempt: a Redis outage must cost milliseconds per call, not redis-py's default
    # retries (seconds), since the cache then steps aside and the provider is called directly.
    redis = Redis.from_url(
        redis_url, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 1)
    )
    return AIResultCache(
        redis,
        ttl_seconds=ttl_seconds,
        key_prefix=key_prefix,
        lock_ttl_seconds=lock_seconds,
        wait_timeout_seconds=lock_seconds + 5,
    )


def ai_result_cache() -> AIResultCache:
    """One cache (and Redis connection pool) per process and configuration. The single-flight
    lock outlives one provider call (its timeout), so a waiting job never calls twice."""
    return _cache(
        settings.AI_CACHE_REDIS_URL,
        settings.AI_CACHE_TTL_SECONDS,
        settings.AI_CACHE_KEY_PREFIX,
        settings.AI_TIMEOUT_SECONDS + 5,
    )


def ai_cache_scope(*, org_id: int) -> str:
    """Whose answers a result-cache entry holds: one org's (see `AIRun.cache_scope`)."""
    return f"org:{org_id}"


def ai_cache_forget(*, org_id: int) -> int:
    """Delete the org's answers from the result cache (a deleted org's); returns how many keys.
    Redis errors propagate, so the caller can try again."""
    return ai_result_cache().forget_scope(ai_cache_scope(org_id=org_id))


def task_text(*, title: str, description: str) -> str:
    """What the AI reads of a task (attributes are scored by the formula, not by the model)."""
    return f"{title.strip()}\n\n{description.strip()}".strip()


class Skip(StrEnum):
    """Why an AI criterion was not rated (shown as "skipped: <reason>"; never a silent 0)."""

    AI_OFF = "ai_off"  # the org turned AI criteria off
    NO_FIELDS = "no_fields"  # the org lets no task field go to the AI
    BUDGET = "budget"  # the org's monthly AI calls are used up
    SLOW = "slow"  # the AI did not answer within a web request's bound (a sample preview)


SKIP_EXPLANATIONS: dict[str, str] = {
    Skip.AI_OFF: "AI criteria are turned off for this organization",
    Skip.NO_FIELDS: "the organization's AI rules send no task field to the AI",
    Skip.BUDGET: "the organization's monthly AI calls are used up (they renew with the next "
    "period, or with a larger plan)",
    Skip.SLOW: "the AI did not answer in time for a sample preview; its answer is kept when it "
    "comes, so trying again shortly shows it (a preview on your tasks runs in the background "
    "and waits for the AI)",
}


@dataclass(frozen=True)
class AIRun:
    """The AI's part of one score: each AI criterion's assessment or why it was skipped, and
    what was sent (field names, the hash of the redacted text; never the redacted values)."""

    results: dict[str, AIAssessment] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # the AI criteria to rate
    text: str = field(default="", repr=False)  # what the AI reads: allowed fields, redacted
    # Whose answers the result cache may reuse: the org's own only, so that no org learns from
    # a cache hit (a call not charged, a faster score) that another org scored the same text.
    cache_scope: str = ""
    fields_sent: tuple[str, ...] = ()
    redacted: bool = False
    redacted_kinds: tuple[str, ...] = ()
    text_sha256: str = ""
    provider: str = ""
    model: str = ""
    prompt_version: str = ""
    # The provider `ai_prepare` chose, for `ai_assess` (looking it up costs ~50k instructions).
    assessor: AIProvider | None = field(default=None, repr=False, compare=False)

    @property
    def to_rate(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys if k not in self.skipped and k not in self.results)

    def skip_all(self, reason: Skip) -> AIRun:
        return replace(self, skipped={key: reason for key in self.keys})

    @property
    def calls_made(self) -> int:
        return sum(not a.cached for a in self.results.values())

    @property
    def cost_usd(self) -> Decimal:
        return sum(
            (Decimal(str(a.cost_usd)) for a in self.results.values() if not a.cached), Decimal(0)
        )

    def inputs(self) -> dict[str, object]:
        """The AI inputs a score records (TaskScore.inputs["ai"])."""
        return {
            "provider": self.provider,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "text_sha256": self.text_sha256,
            "fields_sent": list(self.fields_sent),
            "redacted": self.redacted,
            "redacted_kinds": list(self.redacted_kinds),
            "skipped": dict(self.skipped),
        }


def ai_prepare(*, rules: AIRules, criteria: list[Criterion], title: str, description: str) -> AIRun:
    """What the AI may read of a task under the org's rules, before any call: AI off or no
    field allowed skips every AI criterion; otherwise the allowed fields, joined and redacted
    (emails, phones, cards, secrets, URL query strings). No database, no network."""
    keys = tuple(c.key for c in criteria if isinstance(c, AICriterion))
    if not keys:
        return AIRun()
    if not rules.enabled:
        return AIRun(keys=keys).skip_all(Skip.AI_OFF)
    if not rules.fields:
        return AIRun(keys=keys).skip_all(Skip.NO_FIELDS)
    redaction = redact(
        task_text(
            title=title if "title" in rules.fields else "",
            description=description if "description" in rules.fields else "",
        )
    )
    provider = ai_provider()
    return AIRun(
        keys=keys,
        text=redaction.text,
        cache_scope=ai_cache_scope(org_id=rules.org_id),
        fields_sent=rules.fields,
        redacted=redaction.redacted,
        redacted_kinds=redaction.kinds,
        text_sha256=hashlib.sha256(redaction.text.encode()).hexdigest(),
        provider=provider.name,
        model=provider.model,
        prompt_version=PROMPT_VERSION if provider.name == "openai" else "",
        assessor=provider,
    )


class AllowanceUsedUp(Exception):
    """The org's monthly allowance cannot cover the AI calls a run still has to make."""


class _Allowance:
    """A scoring job's AI calls, reserved from the org's monthly allowance only when the first
    of them is about to be made (`take`, the result cache's `before_call`): an answer the cache
    has, or that another job's call brings, costs nothing and touches no allowance. That first
    call reserves every call the run may still make (its AI criteria not yet answered), so one
    statement serves the run; refused, that call and every later one of the run raise
    `AllowanceUsedUp` (their criteria skipped for the budget) and nothing is reserved. `settle`
    gives back what was reserved and not made."""

    def __init__(self, *, org_id: int, run: AIRun, received: dict[str, AIAssessment]) -> None:
        self.org_id = org_id
        self.run = run
        self.received = received
        self.reservation: AIReservation | None = None
        self.refused = False

    def take(self) -> None:
        if self.reservation is not None:
            return
        if self.refused:
            raise AllowanceUsedUp
        calls = sum(key not in self.received for key in self.run.to_rate)
        reservation = ai_calls_reserve(org_id=self.org_id, calls=calls)
        if reservation is None:
            self.refused = True
            metrics.refusal_count(kind="ai_budget")
            raise AllowanceUsedUp
        self.reservation = reservation
        connection_release()  # before the call (see `ai_run_criteria`)

    def settle(self, made: AIRun) -> None:
        if self.reservation is not None:
            ai_calls_settle(
                reservation=self.reservation, used=made.calls_made, cost_usd=made.cost_usd
            )


def ai_assess(
    run: AIRun,
    criteria: list[Criterion],
    *,
    into: dict[str, AIAssessment] | None = None,
    allowance: _Allowance | None = None,
) -> AIRun:
    """Rate the prepared text on each AI criterion not yet rated or skipped, through the cache.
    Calls the AI; no database (except `allowance`'s reservation). Provider errors propagate; the
    answers received before the error are in `into` (to account for them). With `allowance`,
    each call the cache cannot spare is reserved first, and a criterion whose call the allowance
    refuses is skipped for the budget (the criteria the cache answers are still rated)."""
    provider = run.assessor or ai_provider()
    cache = ai_result_cache()
    results = into if into is not None else {}
    results.update(run.results)
    skipped = dict(run.skipped)
    wanted = set(run.to_rate)
    for criterion in criteria:
        if isinstance(criterion, AICriterion) and criterion.key in wanted:
            try:
                assessment = cache.assess(
                    provider, rubric=criterion.as_rubric(), task_text=run.text,
                    scope=run.cache_scope,
                    before_call=allowance.take if allowance is not None else None,
                    before_wait=connection_release if allowance is not None else None,
                )  # fmt: skip
            except AllowanceUsedUp:
                skipped[criterion.key] = Skip.BUDGET
                continue
            except AIError as exc:
                logger.warning(
                    "AI call failed: %s", type(exc).__name__,
                    extra={"criterion": criterion.key, "provider": provider.name,
                           "model": provider.model, "retryable": isinstance(exc, RetryableAIError)},
                )  # fmt: skip
                raise
            logger.info(
                "AI assessment %s", "from the cache" if assessment.cached else "made",
                extra={"criterion": criterion.key, "provider": assessment.provider,
                       "model": assessment.model, "cached": assessment.cached,
                       "latency_ms": assessment.latency_ms,
                       "input_tokens": assessment.input_tokens,
                       "output_tokens": assessment.output_tokens},
            )  # fmt: skip
            results[criterion.key] = assessment
    return replace(run, results=results, skipped=skipped)


# Web requests that rate a sample (the sample preview) hand the AI calls to these threads and
# wait at most `within` seconds; a call still running then finishes here and fills the cache.
# Bounded twice: threads, and calls waiting for one (beyond which a request does not queue).
_SAMPLE_THREADS = 4
_SAMPLE_SLOTS = threading.BoundedSemaphore(_SAMPLE_THREADS * 2)
_sample_pool = ThreadPoolExecutor(max_workers=_SAMPLE_THREADS, thread_name_prefix="ai-sample")


def _assess_in_background(
    run: AIRun, criteria: list[Criterion], into: dict[str, AIAssessment]
) -> AIRun:
    try:
        return ai_assess(run, criteria, into=into)
    finally:
        _SAMPLE_SLOTS.release()


def ai_assess_within(
    run: AIRun, criteria: list[Criterion], *, within: float, into: dict[str, AIAssessment]
) -> tuple[AIRun, int]:
    """`ai_assess`, but back after `within` seconds at the most: the AI criteria not rated by
    then are skipped (Skip.SLOW), and their calls go on in a background thread, whose answers
    land in the cache. Returns the run and how many calls were still to be made (the caller
    charges them: they will be made). No database. Provider errors before then propagate."""
    if not _SAMPLE_SLOTS.acquire(blocking=False):
        return run.skip_all(Skip.SLOW), 0
    # In the request's context, so the calls' log lines carry its id even after it answered.
    future = submit_in_context(_sample_pool, _assess_in_background, run, criteria, into)
    try:
        return future.result(timeout=within), 0
    except FutureTimeout:
        received = dict(into)
        late = tuple(key for key in run.to_rate if key not in received)
        slow = replace(run, results={**run.results, **received})
        return replace(slow, skipped={**slow.skipped, **dict.fromkeys(late, Skip.SLOW)}), len(late)


def ai_run_criteria(
    *,
    org_id: int,
    criteria: list[Criterion],
    title: str,
    description: str,
    within: float | None = None,
    rules: AIRules | None = None,
) -> AIRun:
    """Rate a task on each AI criterion under the org's rules (`ai_prepare`) and allowance.

    A job (`within` None): the calls are reserved against the org's monthly allowance when the
    first one the result cache cannot answer is about to be made (`_Allowance`); answers from
    the cache cost nothing and need none. When the allowance cannot cover the calls still to be
    made, their criteria are skipped for the budget. Reserved calls not made (a later criterion
    answered by the cache, a provider failure) are given back. Provider errors propagate.
    `within` (a web request): every call reserved first (all or none: every AI criterion skipped
    for the budget), then back after that many seconds at the most, the AI criteria not yet rated
    skipped as slow (`ai_assess_within`); their calls are charged, since they go on.
    `rules`: the org's AI rules when the caller read them already (else they are read here)."""
    run = ai_prepare(
        rules=rules if rules is not None else ai_rules(org_id=org_id),
        criteria=criteria,
        title=title,
        description=description,
    )
    if not run.to_rate:
        return run
    received: dict[str, AIAssessment] = {}
    done: AIRun | None = None
    # No database connection is held while the AI answers (a worker's threads would otherwise
    # queue for its pool's few connections behind the AI). A job keeps its connection through a
    # lookup the cache answers at once, and gives it back before it waits on the network: after
    # its reservation (`_Allowance.take`) or before waiting on another job's call (`before_wait`).
    if within is None:
        allowance = _Allowance(org_id=org_id, run=run, received=received)
        try:
            done = ai_assess(run, criteria, into=received, allowance=allowance)
            return done
        finally:
            # On a provider error, what was received before it.
            allowance.settle(done or replace(run, results=dict(received)))
    reservation = ai_calls_reserve(org_id=org_id, calls=len(run.to_rate))
    if reservation is None:
        metrics.refusal_count(kind="ai_budget")
        return run.skip_all(Skip.BUDGET)
    connection_release()  # before the calls
    late = 0
    try:
        done, late = ai_assess_within(run, criteria, within=within, into=received)
        return done
    finally:
        # On a provider error, what was received before it; a late call is charged as made.
        made = done or replace(run, results=dict(received))
        ai_calls_settle(
            reservation=reservation, used=made.calls_made + late, cost_usd=made.cost_usd
        )
