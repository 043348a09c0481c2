"""The AI result cache against the real Redis and the fake OpenAI server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskscore.integrations.ai.base import AIAssessment, RetryableAIError, Rubric
from taskscore.integrations.ai.cache import AIResultCache, cache_key
from taskscore.integrations.ai.prompt import user_prompt
from taskscore.integrations.ai.tests.conftest import MakeProvider
from taskscore.testing.fake_ai import FakeAIServer, expected_rating

RUBRIC = Rubric(question="How valuable is the task?", high_anchor="Unblocks a launch.")
TASK = "Add CSV export to the reports page"
SCOPE = "org:1"


def test_hit_after_miss_costs_one_call_and_nothing_the_second_time(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    cache = AIResultCache(redis_client, key_prefix=key_prefix)
    provider = make_provider()

    first = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    second = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)

    assert ai_server.stats().calls == 1
    assert first.cached is False
    assert first.input_tokens > 0
    assert first.cost_usd > 0
    assert second == AIAssessment(
        rating=first.rating,
        rationale=first.rationale,
        provider="openai",
        model=first.model,
        input_tokens=0,
        output_tokens=0,
        latency_ms=0,
        cost_usd=0.0,
        cached=True,
    )
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)
    assert redis_client.exists(key) == 1
    assert 0 < redis_client.ttl(key) <= 7 * 24 * 3600
    assert redis_client.exists(f"{key}:lock") == 0


class Refused(Exception):
    pass


def test_twenty_concurrent_askers_share_one_call_and_only_its_maker_pays(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given twenty askers of one question, one of them to make the call, each counting its
    # `before_call` (what a job pays its allowance with) and its `before_wait`
    ai_server.configure(latency=(0.3, 0.3))
    cache = AIResultCache(redis_client, key_prefix=key_prefix)
    provider = make_provider()
    start = threading.Barrier(20)
    paid: list[int] = []
    waited: list[int] = []

    def ask(n: int) -> AIAssessment:
        start.wait()
        return cache.assess(
            provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE,
            before_call=lambda: paid.append(n), before_wait=lambda: waited.append(n),
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(ask, range(20)))
    # and one more asker after the answer is stored
    later = cache.assess(
        provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, before_call=lambda: paid.append(99)
    )

    # then one call answered all twenty; only the asker that made it paid, before its call;
    # the other nineteen waited for it, each told once before waiting; the later one neither
    # paid nor waited
    assert ai_server.stats().calls == 1
    assert {r.rating for r in results} == {expected_rating(user_prompt(TASK))}
    assert sum(not r.cached for r in results) == 1
    assert len(paid) == 1
    assert not results[paid[0]].cached
    assert sorted(waited) == sorted(set(range(20)) - set(paid))
    assert later.cached


def test_a_refusing_before_call_makes_no_call_and_lets_the_waiters_go(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given an asker whose `before_call` refuses (its allowance is used up)
    cache = AIResultCache(redis_client, key_prefix=key_prefix)
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)

    def refuse() -> None:
        raise Refused

    # when it asks
    started = time.monotonic()
    with pytest.raises(Refused):
        cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, before_call=refuse)

    # then no call was made and the lock is gone at once (a waiter would not wait out its
    # expiry); the next asker, able to pay, makes the call
    assert ai_server.stats().calls == 0
    assert redis_client.exists(key, f"{key}:lock") == 0
    assert time.monotonic() - started < 1.0
    assert not cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE).cached
    assert ai_server.stats().calls == 1


def test_before_call_runs_when_redis_is_unreachable_too(
    ai_server: FakeAIServer, make_provider: MakeProvider
) -> None:
    closed = Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    cache = AIResultCache(closed)
    provider = make_provider()
    paid: list[str] = []

    for _ in range(2):  # the first finds Redis down, the second skips it
        cache.assess(
            provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE,
            before_call=lambda: paid.append("call"),
        )  # fmt: skip

    assert ai_server.stats().calls == 2
    assert paid == ["call", "call"]


def test_different_questions_are_different_keys(make_provider: MakeProvider) -> None:
    provider = make_provider()
    base = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    assert base.startswith("ai:org:1:{")
    assert base.endswith("}")
    assert base == cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    assert base != cache_key(provider, rubric=RUBRIC, task_text=TASK + " ", scope=SCOPE)
    assert base != cache_key(
        provider, rubric=Rubric(question=RUBRIC.question), task_text=TASK, scope=SCOPE
    )
    assert base != cache_key(
        make_provider(model="gpt-other"), rubric=RUBRIC, task_text=TASK, scope=SCOPE
    )
    assert base != cache_key(provider, rubric=RUBRIC, task_text=TASK, scope="org:2")


def test_a_provider_error_is_not_cached_and_the_next_call_retries(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    ai_server.script(["500", "ok"])
    cache = AIResultCache(redis_client, key_prefix=key_prefix)
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)

    with pytest.raises(RetryableAIError):
        cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    assert redis_client.exists(key, f"{key}:lock") == 0

    result = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    assert result.cached is False
    assert result.rating == expected_rating(user_prompt(TASK))
    assert ai_server.stats().calls == 2


def test_waiters_take_over_when_the_owner_dies(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given a lock held by an owner that died without storing a result (it expires in 200 ms)
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)
    redis_client.set(f"{key}:lock", "dead-owner", px=200)
    cache = AIResultCache(redis_client, key_prefix=key_prefix)

    started = time.monotonic()
    result = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)

    assert 0.15 < time.monotonic() - started < 1.0
    assert result.cached is False
    assert ai_server.stats().calls == 1
    assert redis_client.exists(key) == 1


def test_a_waiter_asks_the_provider_itself_after_the_wait_timeout(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given a stuck owner whose lock outlives the waiter's patience
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)
    redis_client.set(f"{key}:lock", "stuck-owner", px=10_000)
    cache = AIResultCache(redis_client, key_prefix=key_prefix, wait_timeout_seconds=0.3)

    started = time.monotonic()
    result = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)

    assert 0.25 < time.monotonic() - started < 1.0
    assert result.rating == expected_rating(user_prompt(TASK))
    assert ai_server.stats().calls == 1
    assert redis_client.get(f"{key}:lock") == b"stuck-owner"  # not ours to release


def test_an_owner_does_not_release_a_lock_it_no_longer_holds(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given an owner whose lock expires during a slow call and is taken by someone else
    ai_server.configure(latency=(0.3, 0.3))
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)
    cache = AIResultCache(redis_client, key_prefix=key_prefix, lock_ttl_seconds=0.1)

    def steal_the_lock() -> None:
        time.sleep(0.2)
        redis_client.set(f"{key}:lock", "next-owner", px=10_000)

    thief = threading.Thread(target=steal_the_lock)
    thief.start()
    cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    thief.join()

    assert redis_client.get(f"{key}:lock") == b"next-owner"


def test_redis_unreachable_calls_the_provider_directly(
    ai_server: FakeAIServer, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    closed = Redis(
        host="127.0.0.1", port=9, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    cache = AIResultCache(closed)
    provider = make_provider()

    first = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)
    second = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)

    assert first.rating == second.rating == expected_rating(user_prompt(TASK))
    assert (first.cached, second.cached) == (False, False)
    assert ai_server.stats().calls == 2
    assert "Redis unavailable" in caplog.text


def test_an_unreadable_entry_is_a_miss(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    provider = make_provider()
    key = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE, key_prefix=key_prefix)
    redis_client.set(key, "not json")
    cache = AIResultCache(redis_client, key_prefix=key_prefix)

    result = cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE)

    assert result.cached is False
    assert cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope=SCOPE).cached is True
    assert ai_server.stats().calls == 1


def test_forgetting_a_scope_deletes_its_answers_only(
    ai_server: FakeAIServer, make_provider: MakeProvider, redis_client: Redis, key_prefix: str
) -> None:
    # given answers of two scopes (one of them a prefix of the other's name)
    cache = AIResultCache(redis_client, key_prefix=key_prefix)
    provider = make_provider()
    for scope in ("org:1", "org:12"):
        for task in (TASK, TASK + " and PDF"):
            cache.assess(provider, rubric=RUBRIC, task_text=task, scope=scope)
    kept = cache_key(provider, rubric=RUBRIC, task_text=TASK, scope="org:12", key_prefix=key_prefix)
    # when one scope is forgotten
    assert cache.forget_scope("org:1") == 2
    # then its answers are asked again, and the other scope's are still there
    assert list(redis_client.scan_iter(match=f"{key_prefix}:org:1:*")) == []
    assert redis_client.exists(kept) == 1
    calls = ai_server.stats().calls
    assert cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope="org:1").cached is False
    assert cache.assess(provider, rubric=RUBRIC, task_text=TASK, scope="org:12").cached is True
    assert ai_server.stats().calls == calls + 1
