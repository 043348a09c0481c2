"""Rate limits per caller (API key or user) and per org, sized by the org's plan: two token
buckets in Redis, checked and charged together by one Lua script (one round trip). Over the
limit: 429 with Retry-After; every limited response carries RateLimit-Limit / -Remaining /
-Reset (set by the API middleware).

Before a caller is known, limits are per client address (`core.client_address`): requests to public
operations (RATE_LIMIT_ANONYMOUS_PER_MINUTE) and failed authentications, bad API keys included
(RATE_LIMIT_FAILED_AUTH_PER_MINUTE; once it is spent, a key lookup does not reach Postgres).

Rate limiting protects capacity, not data: if Redis is unreachable the request is allowed.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from taskscore.billing.selectors import plan_rate_limits
from taskscore.core.client_address import client_address
from taskscore.core.errors import DomainError, ProblemType
from taskscore.core.resp import RespClient, RespScript

logger = logging.getLogger(__name__)

# KEYS: caller bucket, org bucket. ARGV: now (ms), then per bucket: capacity, refill per ms.
_TAKE = """
local now = tonumber(ARGV[1])
local tokens = {}
local allowed = 1
local wait_ms = 0
for i = 1, 2 do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(state[1]) or capacity
  local ts = tonumber(state[2]) or now
  t = math.min(capacity, t + (now - ts) * rate)
  tokens[i] = t
  if t < 1 then
    allowed = 0
    wait_ms = math.max(wait_ms, math.ceil((1 - t) / rate))
  end
end
for i = 1, 2 do
  local capacity = tonumber(ARGV[2 * i])
  local rate = tonumber(ARGV[2 * i + 1])
  if allowed == 1 then tokens[i] = tokens[i] - 1 end
  redis.call('HSET', KEYS[i], 't', tokens[i], 'ts', now)
  redis.call('PEXPIRE', KEYS[i], math.ceil(capacity / rate) + 1000)
end
local remaining = math.floor(math.min(tokens[1], tokens[2]))
return {allowed, remaining, wait_ms}
"""


# One bucket. KEYS: the bucket. ARGV: now (ms), capacity, refill per ms, cost (0: only look).
_ONE = """
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local t = tonumber(state[1]) or capacity
t = math.min(capacity, t + (now - (tonumber(state[2]) or now)) * rate)
if t < 1 then
  return {0, math.ceil((1 - t) / rate)}
end
if cost > 0 then
  redis.call('HSET', KEYS[1], 't', t - cost, 'ts', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
end
return {1, 0}
"""


@dataclass(frozen=True)
class RateLimitState:
    limit: int  # requests per window for the tighter bucket
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.remaining)),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimited(DomainError):
    def __init__(self, state: RateLimitState, retry_after: int) -> None:
        super().__init__(
            detail=f"Too many requests; retry in {retry_after} s.",
            problem=ProblemType.RATE_LIMITED,
        )
        self.state = state
        self.retry_after = retry_after

    def problem_headers(self) -> dict[str, str]:
        return self.state.headers() | {"Retry-After": str(self.retry_after)}


@functools.cache
def _client(url: str) -> Redis:
    return Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


# Every request runs one of these: through the lean client (core.resp), ~0.2M CPU instructions
# less than redis-py's, the same server and timeouts.
@functools.cache
def _script(url: str) -> RespScript:
    return RespClient.of(_client(url)).script(_TAKE)


@functools.cache
def _one_script(url: str) -> RespScript:
    return RespClient.of(_client(url)).script(_ONE)


def _address_bucket(kind: str, address: str, per_minute: int, *, cost: int) -> None:
    if not settings.RATE_LIMITS_ENABLED:
        return
    try:
        allowed, wait_ms = _one_script(settings.REDIS_URL)(
            keys=[f"{settings.RATE_LIMIT_PREFIX}:{kind}:{address}"],
            args=[int(time.time() * 1000), per_minute, per_minute / 60_000, cost],
        )
    except RedisError:
        logger.warning("rate limiter unreachable; allowing the request", exc_info=True)
        return
    if not allowed:
        retry_after = max(1, math.ceil(int(wait_ms) / 1000))
        raise RateLimited(RateLimitState(per_minute, 0, retry_after), retry_after)


def failed_auth_check(request: HttpRequest) -> None:
    """Raises RateLimited when the client's failed authentications have used up their budget
    (looks only; charges nothing)."""
    _address_bucket(
        "f", client_address(request), int(settings.RATE_LIMIT_FAILED_AUTH_PER_MINUTE), cost=0
    )


def failed_auth_charge(request: HttpRequest) -> None:
    """Charge one failed authentication to the client's address; RateLimited when none is left."""
    _address_bucket(
        "f", client_address(request), int(settings.RATE_LIMIT_FAILED_AUTH_PER_MINUTE), cost=1
    )


def anonymous_take(request: HttpRequest) -> None:
    """Charge one request without credentials (a public operation) to the client's address."""
    _address_bucket(
        "n", client_address(request), int(settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE), cost=1
    )


def rate_limits_for(org_id: int) -> tuple[int, int]:
    """(per caller, per org) requests a minute: the org's plan, unless settings override."""
    override_caller = int(settings.RATE_LIMIT_PER_CALLER_PER_MINUTE)
    override_org = int(settings.RATE_LIMIT_PER_ORG_PER_MINUTE)
    if override_caller and override_org:
        return override_caller, override_org
    per_caller, per_org = plan_rate_limits(org_id=org_id)
    return (override_caller or per_caller, override_org or per_org)


def rate_limit_take(*, caller: str, org_id: int | None) -> RateLimitState | None:
    """Charge one request to the caller's and the org's buckets; raises RateLimited when either
    is empty. A request outside any org (the account's own: `/me`, creating an org) is charged
    to the caller's bucket and to one of the caller's account requests, sized by
    RATE_LIMIT_ACCOUNT_PER_MINUTE. None when rate limiting is off or Redis is unreachable."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    prefix = settings.RATE_LIMIT_PREFIX
    if org_id is None:
        per_caller = per_org = int(settings.RATE_LIMIT_ACCOUNT_PER_MINUTE)
        second_bucket = f"{prefix}:a:{caller}"
    else:
        per_caller, per_org = rate_limits_for(org_id)
        second_bucket = f"{prefix}:o:{org_id}"
    try:
        allowed, remaining, wait_ms = _script(settings.REDIS_URL)(
            keys=[f"{prefix}:c:{caller}", second_bucket],
            args=[
                int(time.time() * 1000),
                per_caller,
                per_caller / 60_000,
                per_org,
                per_org / 60_000,
            ],
        )
    except RedisError:
        logger.warning("rate limiter unreachable; allowing the request", exc_info=True)
        return None
    limit = min(per_caller, per_org)
    state = RateLimitState(limit=limit, remaining=int(remaining), reset_seconds=60)
    if not allowed:
        retry_after = max(1, math.ceil(int(wait_ms) / 1000))
        raise RateLimited(RateLimitState(limit, 0, retry_after), retry_after)
    return state
