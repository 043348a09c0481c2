"""The permission cache: what a principal may do in its org, in Redis, never stale.

A principal is named by a key (`m:<user_id>:<org_slug>` for a member, `k:<prefix>` for an API
key). Per principal, Redis holds (hash-tagged, so one Redis Cluster slot):

- `…:e` the entry: the loaded permission set, stamped with the generation it was loaded under;
- `…:g` the generation, bumped by every change that affects the principal;
- `…:w` a count of changes in flight (with a TTL), during which nothing is cached or trusted;
- `…:f` a short fill lock, so concurrent misses load from Postgres once.

A check is one MGET (entry, generation, in-flight) and no SQL when the entry's generation is
current and no change is in flight. A miss reads the generation first, loads from Postgres, and
stores the entry only if the generation is still the same and no change began (a Lua script), so
a reader that loaded before a change can never write its stale result after the change.

A writer calls `changing(keys)` inside its transaction, before it commits: the in-flight mark
and the generation bump are made first, so from then on no reader trusts or fills an entry;
the mark is released after commit (or expires). If Redis cannot be reached, the write is refused
(`PermissionCacheUnavailable`) rather than risking a stale grant later. If Redis is down for a
check, the check reads Postgres: slower, still correct, never allowing on error.

Redis losing a change (a failover to a replica that had not received the bump, a restore from a
snapshot) would let an entry from before the change be trusted again. Two bounds: an entry lives
RBAC_ENTRY_TTL_SECONDS (15; a hot principal then costs one SQL query per 15 s, shared by every
process), so no lost change outlives that; and with RBAC_WAIT_REPLICAS set, a change is
committed only once that many replicas hold its bump (Redis WAIT), so a failover cannot lose it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.conf import settings
from django.db import transaction
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from taskscore.core import metrics
from taskscore.core.errors import ProblemType, ServiceUnavailable
from taskscore.core.resp import RespClient
from taskscore.rbac.catalog import CATALOG_VERSION

logger = logging.getLogger(__name__)

GENERATION_TTL_SECONDS = 86_400  # outlives every entry, so a generation never resets under one
CHANGE_TTL_SECONDS = 60  # longer than any permission-changing transaction
FILL_LOCK_MS = 2000
FILL_WAIT_SECONDS = 0.05

# Store the entry only if the generation is unchanged and no change is in flight.
_FILL = """
local generation = redis.call('GET', KEYS[2]) or '0'
if generation ~= ARGV[1] or tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then
  if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
return 1
"""

# End one change of a principal: bump the generation again, drop the in-flight count.
_RELEASE = """
redis.call('INCR', KEYS[1])
if redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end
return 1
"""


class PermissionCacheUnavailable(ServiceUnavailable):
    """A permission change cannot be made safely while the cache cannot be invalidated."""

    def __init__(self) -> None:
        super().__init__(
            detail="Permissions cannot be changed while the permission cache is unreachable; "
            "try again shortly.",
            problem=ProblemType.PERMISSION_CACHE_UNAVAILABLE,
        )


@dataclass(frozen=True)
class Grant:
    """What a principal is in its org; cached as JSON. `secret_hash` only for API keys;
    `mfa_required` only for members (an owner or admin of an org that requires two-factor
    authentication of them)."""

    org_id: int
    org_slug: str
    role: str
    permissions: tuple[str, ...]
    principal_id: int
    user_id: int | None = None
    secret_hash: str = ""
    mfa_required: bool = False
    # An API key's expiry (Unix time), checked on every use: a cached grant never outlives it.
    expires_at: float | None = None


# Changes with Grant's fields, so that processes of two releases (a rolling deploy) never read
# each other's entries: each fills its own namespace.
GRANT_FORMAT = hashlib.sha256(",".join(f.name for f in fields(Grant)).encode()).hexdigest()[:4]


def keys_of(principal: str) -> tuple[str, str, str, str]:
    """A principal's Redis keys: its entry, generation, in-flight mark and fill lock."""
    base = f"{settings.RBAC_CACHE_PREFIX}:{CATALOG_VERSION}{GRANT_FORMAT}:{{{principal}}}"
    return f"{base}:e", f"{base}:g", f"{base}:w", f"{base}:f"


def clients_reset() -> None:
    """Forget the Redis clients and scripts made so far (tests restart the server under them)."""
    _redis.cache_clear()
    _resp.cache_clear()
    _fill_script.cache_clear()
    _release_script.cache_clear()


@functools.cache
def _redis(url: str) -> Redis:
    # One quick attempt: when Redis is down a check must fall back to Postgres in milliseconds.
    return Redis.from_url(
        url, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


def redis_client() -> Redis:
    return _redis(settings.RBAC_REDIS_URL)


@functools.cache
def _resp(url: str) -> RespClient:
    # The check's one read, on every request: the lean client (core.resp), same server.
    return RespClient.of(_redis(url))


@functools.cache
def _fill_script(url: str) -> Any:
    return _redis(url).register_script(_FILL)


@functools.cache
def _release_script(url: str) -> Any:
    return _redis(url).register_script(_RELEASE)


def _encode(grant: Grant | None, generation: str) -> str:
    return json.dumps({"g": generation, "v": asdict(grant) if grant else None})


# Decoded entries by their exact bytes: a hot principal's entry is the same bytes on every hit,
# so JSON decoding and Grant construction happen once per entry and process, not per check.
# Keyed by the whole raw value (stamp included), so a changed entry is never served from here.
_DECODED: dict[bytes, tuple[str, Grant | None]] = {}
_DECODED_MAX = 4096


def _decode(raw: bytes) -> tuple[str, Grant | None]:
    decoded = _DECODED.get(raw)
    if decoded is not None:
        return decoded
    data = json.loads(raw)
    value = data["v"]
    if value is None:
        decoded = (str(data["g"]), None)
    else:
        value["permissions"] = tuple(value["permissions"])
        decoded = (str(data["g"]), Grant(**value))
    if len(_DECODED) >= _DECODED_MAX:
        _DECODED.clear()
    _DECODED[raw] = decoded
    return decoded


_MISS = object()


def _in_flight(raw: Any) -> bool:
    return raw is not None and int(raw) > 0


def _generation(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw or "0")


def _trusted(raw: list[Any]) -> Any:
    """The cached grant (or None for a cached "no grant") if it can be trusted, else _MISS."""
    entry, generation, in_flight = raw
    if entry is None or _in_flight(in_flight):
        return _MISS
    stamped, grant = _decode(entry)
    if stamped != _generation(generation):
        return _MISS
    return grant


def _release_fill(client: Redis, fill_key: str, token: str) -> None:
    """Drop the fill lock if it is still ours; a lost lock expires by itself."""
    with contextlib.suppress(RedisError):
        if client.get(fill_key) == token.encode():
            client.delete(fill_key)


def grant_lookup(principal: str, loader: Callable[[], Grant | None]) -> Grant | None:
    """The principal's grant: from Redis when current, else from `loader` (one SQL query).
    Each lookup is counted once (core.metrics): a hit, a miss (read from Postgres), or
    unavailable (Redis unreachable; read from Postgres)."""
    entry_key, generation_key, change_key, fill_key = keys_of(principal)
    client = redis_client()
    try:
        raw = _resp(settings.RBAC_REDIS_URL).call("MGET", entry_key, generation_key, change_key)
    except RedisError:
        logger.warning("permission cache unreachable; reading Postgres", exc_info=True)
        metrics.rbac_cache_count(result="unavailable")
        return loader()
    cached = _trusted(raw)
    if cached is not _MISS:
        metrics.rbac_cache_count(result="hit")
        return cached  # type: ignore[no-any-return]
    if _in_flight(raw[2]):  # a change is in flight: read the truth, cache nothing
        metrics.rbac_cache_count(result="miss")
        return loader()
    generation = _generation(raw[1])
    token = uuid.uuid4().hex
    try:
        is_filler = bool(client.set(fill_key, token, nx=True, px=FILL_LOCK_MS))
    except RedisError:
        metrics.rbac_cache_count(result="unavailable")
        return loader()
    if not is_filler:
        # Another request is loading this principal: wait briefly for its result.
        deadline = time.monotonic() + FILL_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.002)
            try:
                cached = _trusted(client.mget([entry_key, generation_key, change_key]))
            except RedisError:
                break
            if cached is not _MISS:
                metrics.rbac_cache_count(result="hit")
                return cached  # type: ignore[no-any-return]
        metrics.rbac_cache_count(result="miss")
        return loader()
    # Another filler may have stored the entry and let go of the lock between our read and our
    # lock: read again under the lock, so that a late miss does not load a second time.
    try:
        cached = _trusted(
            _resp(settings.RBAC_REDIS_URL).call("MGET", entry_key, generation_key, change_key)
        )
    except RedisError:
        cached = _MISS
    if cached is not _MISS:
        _release_fill(client, fill_key, token)
        metrics.rbac_cache_count(result="hit")
        return cached  # type: ignore[no-any-return]
    metrics.rbac_cache_count(result="miss")
    try:
        grant = loader()
    except BaseException:
        # Let the next caller load at once rather than wait out the fill lock.
        _release_fill(client, fill_key, token)
        raise
    try:
        _fill_script(settings.RBAC_REDIS_URL)(
            keys=[entry_key, generation_key, change_key, fill_key],
            args=[generation, _encode(grant, generation), settings.RBAC_ENTRY_TTL_SECONDS, token],
        )
    except RedisError:
        logger.warning("could not cache a grant", exc_info=True)
    return grant


def changing(principals: Iterable[str]) -> None:
    """Call inside the transaction that changes these principals' grants, before it commits.

    Marks the change in flight and bumps the generations now (raising
    PermissionCacheUnavailable, which rolls the transaction back, if Redis is unreachable), and
    clears the mark once the transaction commits."""
    keys = sorted(set(principals))
    if not keys:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("changing() must run inside the transaction that makes the change")
    client = redis_client()
    try:
        with client.pipeline(transaction=True) as pipe:
            for principal in keys:
                _, generation_key, change_key, _ = keys_of(principal)
                pipe.incr(change_key)
                pipe.expire(change_key, CHANGE_TTL_SECONDS)
                pipe.incr(generation_key)
                pipe.expire(generation_key, GENERATION_TTL_SECONDS)
            pipe.execute()
        replicas = settings.RBAC_WAIT_REPLICAS
        if replicas > 0 and client.wait(replicas, settings.RBAC_WAIT_TIMEOUT_MS) < replicas:
            logger.warning("permission change refused: fewer than %d replicas hold it", replicas)
            raise PermissionCacheUnavailable()
    except RedisError as exc:
        raise PermissionCacheUnavailable() from exc

    def release() -> None:
        script = _release_script(settings.RBAC_REDIS_URL)
        try:
            with client.pipeline(transaction=False) as pipe:
                for principal in keys:
                    _, generation_key, change_key, _ = keys_of(principal)
                    script(keys=[generation_key, change_key], client=pipe)
                pipe.execute()
        except RedisError:
            # The mark expires after CHANGE_TTL_SECONDS; until then checks read Postgres.
            logger.warning("could not release a permission change mark", exc_info=True)

    transaction.on_commit(release)


def forget(principals: Iterable[str]) -> None:
    """Once the current transaction commits, delete these principals' cached entries: principals
    that no longer exist (a deleted org's members and keys). Call after `changing` on them in the
    same transaction, so that no entry is trusted meanwhile. Their generations stay (until their
    TTL): deleting one would let a reader that loaded before the change store a stale entry under
    a generation that is back at 0."""
    entries = [keys_of(principal)[0] for principal in set(principals)]
    if not entries:
        return

    def drop() -> None:
        try:
            redis_client().unlink(*entries)
        except RedisError:
            logger.warning("could not delete cached grants; they expire", exc_info=True)

    transaction.on_commit(drop)


def member_principal(user_id: int, org_slug: str) -> str:
    return f"m:{user_id}:{org_slug}"


def key_principal(prefix: str) -> str:
    return f"k:{prefix}"
