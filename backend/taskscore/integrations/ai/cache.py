"""The AI result cache: one provider call per distinct question, shared through Redis.

Keys (see `cache_key`): `<prefix>:<scope>:{<sha256>}` holds the stored assessment as JSON and
`<prefix>:<scope>:{<sha256>}:lock` the single-flight lock. The braces are a Redis Cluster hash
tag, so a result and its lock live in the same slot and can be read with one MGET. The scope (an
org) is in the clear so that `forget_scope` can find a deleted org's entries.

Single flight: on a miss, the caller that wins `SET lock NX PX` asks the provider and stores the
answer; the others poll for it. If the lock disappears without a result (the owner failed or
died), they race for it again; after `wait_timeout_seconds` a waiter asks the provider itself.
Redis trouble never fails an assessment: the cache logs a warning and asks the provider directly.
A caller's `before_call` runs just before any provider call this cache makes for it, and only
then: a scoring job reserves its AI allowance there, so an answer from the cache costs nothing
(and `before_wait` before it waits on another caller's call).

Every provider call made through the cache is measured here (`_ask`: count by outcome, latency,
tokens and cost, `taskscore.core.metrics`; a span when tracing is on, `taskscore.core.tracing`),
and each lookup counted as a hit or a miss: this is the one place the scoring code asks a
provider.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from taskscore.core import metrics, tracing
from taskscore.core.resp import RespClient
from taskscore.integrations.ai.base import (
    AIAssessment,
    AIProvider,
    PermanentAIError,
    RetryableAIError,
    Rubric,
)
from taskscore.integrations.ai.prompt import PROMPT_VERSION

__all__ = ["AIResultCache", "cache_key"]

logger = logging.getLogger(__name__)

# Bump when the stored format or the meaning of a result changes (e.g. a new prompt), so that old
# entries are no longer found.
KEY_VERSION = 2

# Deletes the lock only if it still holds our token: after our lock expired, another caller may
# own it, and its lock is not ours to release.
_RELEASE_LOCK = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""

# A lookup in one round trip: the stored result (a hit), else the lock taken with our token (we
# ask the provider), else neither (someone else is asking: wait). Atomic, so a result stored and
# a lock released between a GET and a SET NX cannot make us pay for a call already answered.
# ARGV[3] = "1" passes over a stored entry (one we could not read: it is to be replaced).
_GET_OR_LOCK = """
local stored = false
if ARGV[3] ~= "1" then
    stored = redis.call("get", KEYS[1])
end
if stored then
    return {stored, 0}
end
if redis.call("set", KEYS[2], ARGV[1], "NX", "PX", ARGV[2]) then
    return {false, 1}
end
return {false, 0}
"""

# The answer stored and our lock released in one round trip (the lock only if still ours).
_STORE_AND_RELEASE = """
redis.call("set", KEYS[1], ARGV[1], "EX", ARGV[2])
if redis.call("get", KEYS[2]) == ARGV[3] then
    redis.call("del", KEYS[2])
end
return 1
"""


def cache_key(
    provider: AIProvider, *, rubric: Rubric, task_text: str, scope: str, key_prefix: str = "ai"
) -> str:
    """The Redis key of the result of asking `provider` about `task_text` under `rubric`.

    It is `<key_prefix>:<scope>:{<hex sha256>}` over the canonical JSON (sorted keys, no whitespace,
    UTF-8) of: the key version, the scope (whose answers these are: the caller passes the org,
    so that a hit never tells one tenant what another asked), the chat prompt's version,
    `provider.name`, `provider.model`, the rubric's question and anchors, and the task text. Any
    change to one of them is a different question.
    """
    material = {
        "version": KEY_VERSION,
        "scope": scope,
        "prompt_version": PROMPT_VERSION,
        "provider": provider.name,
        "model": provider.model,
        "question": rubric.question,
        "high_anchor": rubric.high_anchor,
        "low_anchor": rubric.low_anchor,
        "task_text": task_text,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{key_prefix}:{scope}:{{{digest}}}"


def _glob_escape(text: str) -> str:
    """`text` matched literally by Redis' glob patterns (SCAN MATCH)."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _counted_hit(assessment: AIAssessment) -> AIAssessment:
    metrics.ai_cache_count(result="hit")
    return assessment


def _ask(
    provider: AIProvider,
    *,
    rubric: Rubric,
    task_text: str,
    before_call: Callable[[], None] | None,
) -> AIAssessment:
    """`provider.assess`, counted as a cache miss and measured: outcome, latency, and for an
    answer its tokens and cost; traced as a span `ai.assess` when tracing is on. Errors
    propagate. `before_call` runs first: what it raises propagates, and no call is made."""
    if before_call is not None:
        before_call()
    metrics.ai_cache_count(result="miss")
    outcome: metrics.AIOutcome = "error"
    assessment: AIAssessment | None = None
    with tracing.ai_call_span(provider=provider.name, model=provider.model) as span:
        started = time.perf_counter()
        try:
            assessment = provider.assess(rubric=rubric, task_text=task_text)
            outcome = "ok"
            return assessment
        except RetryableAIError:
            outcome = "retryable_error"
            raise
        except PermanentAIError:
            outcome = "permanent_error"
            raise
        finally:
            input_tokens = assessment.input_tokens if assessment else 0
            output_tokens = assessment.output_tokens if assessment else 0
            metrics.ai_call_observe(
                provider=provider.name,
                model=provider.model,
                outcome=outcome,
                seconds=time.perf_counter() - started,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=assessment.cost_usd if assessment else 0.0,
            )
            span.finish(outcome=outcome, input_tokens=input_tokens, output_tokens=output_tokens)


class AIResultCache:
    """Caches provider assessments in Redis, with one provider call per key at a time.

    Safe to share between threads: it holds no per-call state; the `redis.Redis` client draws
    connections from its pool, the lean one (`core.resp`) keeps one per thread.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        ttl_seconds: int = 7 * 24 * 3600,
        lock_ttl_seconds: float = 60,
        wait_timeout_seconds: float = 65,
        key_prefix: str = "ai",
        poll_interval_seconds: float = 0.025,
        max_poll_interval_seconds: float = 0.1,
        unavailable_backoff_seconds: float = 5.0,
    ) -> None:
        self._redis = redis
        self._ttl_seconds = ttl_seconds
        self._lock_ttl_ms = max(1, round(lock_ttl_seconds * 1000))
        self._wait_timeout_seconds = wait_timeout_seconds
        self._key_prefix = key_prefix
        self._poll_interval_seconds = poll_interval_seconds
        self._max_poll_interval_seconds = max_poll_interval_seconds
        self._unavailable_backoff_seconds = unavailable_backoff_seconds
        # After a Redis error the cache is skipped for a while: a down Redis would otherwise
        # cost every assessment the client's connect timeouts and retries, and a warning each.
        self._skip_redis_until = 0.0
        self._release_lock = redis.register_script(_RELEASE_LOCK)
        # Each assessment's lookup, its waits and its store go through the lean client (the
        # same server): redis-py costs a job more CPU than the round trips (core.resp).
        self._resp = RespClient.of(redis)
        self._get_or_lock = self._resp.script(_GET_OR_LOCK)
        self._store_and_release = self._resp.script(_STORE_AND_RELEASE)

    def assess(
        self,
        provider: AIProvider,
        *,
        rubric: Rubric,
        task_text: str,
        scope: str,
        before_call: Callable[[], None] | None = None,
        before_wait: Callable[[], None] | None = None,
    ) -> AIAssessment:
        """The cached assessment (`cached=True`, nothing spent) or a fresh one from `provider`.

        Provider errors propagate and nothing is cached for them. `before_call` runs just before
        this lookup calls the provider, and only then (never for an answer the cache has or
        another caller's call brings): the caller's chance to pay for the call (its allowance);
        what it raises propagates, no call is made, and waiters on this key are let go.
        `before_wait` runs before this lookup waits for another caller's call to bring the answer
        (a job gives its database connection back there, as before its own call).
        """
        if time.monotonic() < self._skip_redis_until:
            return _ask(provider, rubric=rubric, task_text=task_text, before_call=before_call)
        key = cache_key(
            provider, rubric=rubric, task_text=task_text, scope=scope, key_prefix=self._key_prefix
        )
        lock_key = f"{key}:lock"
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self._wait_timeout_seconds
        while True:
            try:
                stored, owner = self._get_or_lock(
                    keys=[key, lock_key], args=[token, self._lock_ttl_ms, 0]
                )
                hit = None if stored is None else self._decode(key, stored)
                if hit is not None:
                    return _counted_hit(hit)
                if stored is not None:  # unreadable: a miss, whose answer replaces it
                    _, owner = self._get_or_lock(
                        keys=[key, lock_key], args=[token, self._lock_ttl_ms, 1]
                    )
                is_owner = bool(owner)
                if not is_owner:
                    if before_wait is not None:
                        before_wait()
                    hit = self._wait(key, lock_key, deadline)
            except RedisError as exc:
                self._redis_failed(exc)
                return _ask(provider, rubric=rubric, task_text=task_text, before_call=before_call)
            if is_owner:
                return self._compute(provider, rubric, task_text, key, lock_key, token, before_call)
            if hit is not None:
                return _counted_hit(hit)
            if time.monotonic() >= deadline:
                logger.warning(
                    "AI cache: no result for %s after %.1fs; asking the provider directly",
                    key,
                    self._wait_timeout_seconds,
                )
                assessment = _ask(
                    provider, rubric=rubric, task_text=task_text, before_call=before_call
                )
                self._store(key, assessment, only_if_absent=True)
                return assessment
            # The lock vanished without a result (its owner failed): race for it again.

    def forget_scope(self, scope: str, *, batch: int = 500) -> int:
        """Delete every stored answer (and lock) of `scope`, e.g. a deleted org's; returns how
        many keys. One SCAN of the keyspace: meant for rare operations, not the request path.
        Redis errors propagate (the caller retries; nothing is skipped silently here)."""
        pattern = f"{_glob_escape(self._key_prefix)}:{_glob_escape(scope)}:{{*"
        deleted = 0
        keys: list[bytes] = []
        for key in self._redis.scan_iter(match=pattern, count=1000):
            keys.append(key)
            if len(keys) >= batch:
                deleted += int(self._redis.unlink(*keys))
                keys = []
        if keys:
            deleted += int(self._redis.unlink(*keys))
        return deleted

    def _compute(
        self,
        provider: AIProvider,
        rubric: Rubric,
        task_text: str,
        key: str,
        lock_key: str,
        token: str,
        before_call: Callable[[], None] | None,
    ) -> AIAssessment:
        try:
            assessment = _ask(provider, rubric=rubric, task_text=task_text, before_call=before_call)
        except BaseException:
            # Released on failure too, so that waiters stop waiting and try for themselves.
            self._release(lock_key, token)
            raise
        try:
            self._store_and_release(
                keys=[key, lock_key], args=[_encoded(assessment), self._ttl_seconds, token]
            )
        except RedisError as exc:
            # The lock expires by itself after lock_ttl_seconds; waiters then ask themselves.
            self._redis_failed(exc)
        return assessment

    def _wait(self, key: str, lock_key: str, deadline: float) -> AIAssessment | None:
        """Poll until the result appears (returned), the lock disappears or the deadline passes
        (None). Redis errors propagate."""
        # Polling rather than pub/sub: no dedicated connection per waiter, and a dead owner is
        # noticed through its lock's expiry without any extra protocol. The interval grows so
        # that many waiters on a slow call do not hammer Redis.
        interval = self._poll_interval_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(interval, remaining))
            interval = min(interval * 1.5, self._max_poll_interval_seconds)
            stored, lock = self._resp.call("MGET", key, lock_key)
            if stored is not None:
                hit = self._decode(key, stored)
                if hit is not None:
                    return hit
            if lock is None:
                return None

    def _store(self, key: str, assessment: AIAssessment, *, only_if_absent: bool) -> None:
        try:
            self._redis.set(key, _encoded(assessment), ex=self._ttl_seconds, nx=only_if_absent)
        except RedisError as exc:
            self._redis_failed(exc)

    def _release(self, lock_key: str, token: str) -> None:
        try:
            self._release_lock(keys=[lock_key], args=[token])
        except RedisError as exc:
            # The lock expires by itself after lock_ttl_seconds.
            self._redis_failed(exc)

    def _decode(self, key: str, stored: object) -> AIAssessment | None:
        """The stored assessment as a hit, or None (with a warning) if the entry is unreadable."""
        try:
            text = stored.decode("utf-8") if isinstance(stored, bytes) else str(stored)
            data = json.loads(text)
            original = AIAssessment(
                rating=float(data["rating"]),
                rationale=str(data["rationale"]),
                provider=str(data["provider"]),
                model=str(data["model"]),
            )
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("AI cache: ignoring unreadable entry %s: %s", key, exc)
            return None
        # Nothing was spent this time: the stored tokens and cost belong to the original call.
        return dataclasses.replace(original, cached=True)

    def _redis_failed(self, exc: RedisError) -> None:
        self._skip_redis_until = time.monotonic() + self._unavailable_backoff_seconds
        logger.warning(
            "AI cache: Redis unavailable (%s: %s); calling the provider directly for %.0fs",
            type(exc).__name__,
            exc,
            self._unavailable_backoff_seconds,
        )


def _encoded(assessment: AIAssessment) -> str:
    # Its fields are plain values: `vars` gives what `dataclasses.asdict` would, without a deep
    # copy of each (asdict cost a job ~0.14M CPU instructions).
    return json.dumps(vars(assessment), sort_keys=True)
