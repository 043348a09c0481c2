"""The scoring side of the AI seam: the configured provider behind the Redis result cache."""

from __future__ import annotations

import functools

from django.conf import settings
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskscore.integrations.ai.base import AIAssessment, AIConfig, AIProvider
from taskscore.integrations.ai.cache import AIResultCache
from taskscore.integrations.ai.providers import provider_from_config
from taskscore.scoring.engine import AICriterion, Criterion


def ai_config() -> AIConfig:
    return AIConfig(
        provider=settings.AI_PROVIDER,
        model=settings.AI_MODEL,
        base_url=settings.AI_BASE_URL,
        api_key=settings.AI_API_KEY,
        timeout_seconds=settings.AI_TIMEOUT_SECONDS,
        price_input_per_mtok=settings.AI_PRICE_INPUT_PER_MTOK,
        price_output_per_mtok=settings.AI_PRICE_OUTPUT_PER_MTOK,
    )


def ai_provider() -> AIProvider:
    return provider_from_config(ai_config())


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
        settings.REDIS_URL,
        settings.AI_CACHE_TTL_SECONDS,
        settings.AI_CACHE_KEY_PREFIX,
        settings.AI_TIMEOUT_SECONDS + 5,
    )


def task_text(*, title: str, description: str) -> str:
    """What the AI reads of a task (attributes are scored by the formula, not by the model)."""
    return f"{title.strip()}\n\n{description.strip()}".strip()


def ai_assess_criteria(
    *, criteria: list[Criterion], title: str, description: str
) -> dict[str, AIAssessment]:
    """One assessment per AI criterion, through the cache. Provider errors propagate."""
    provider = ai_provider()
    cache = ai_result_cache()
    text = task_text(title=title, description=description)
    return {
        c.key: cache.assess(provider, rubric=c.as_rubric(), task_text=text)
        for c in criteria
        if isinstance(c, AICriterion)
    }
