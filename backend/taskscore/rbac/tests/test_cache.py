"""The permission cache against the real Redis and Postgres: what a hit and a miss cost, and the
generation / in-flight rules. These tests commit (transaction=True), so `changing()` releases its
mark on commit as in production."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from redis.connection import AbstractConnection

from taskscore.accounts.models import User
from taskscore.core.errors import NotFound
from taskscore.core.resp import RespClient
from taskscore.core.resp import _Connection as resp_connection
from taskscore.orgs import principals
from taskscore.orgs.keys import key_generate
from taskscore.orgs.models import Membership, Organization
from taskscore.orgs.principals import principal_for_token, principal_for_user
from taskscore.orgs.services import (
    CreatedKey,
    api_key_create,
    invitation_accept,
    invitation_create,
    member_role_change,
)
from taskscore.orgs.services import keys as keys_services
from taskscore.rbac import cache
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.catalog import ADMIN, OWNER, VIEWER, Perm
from taskscore.rbac.services import role_builtin
from taskscore.testing.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def rbac_keys_delete() -> None:
    client = cache.redis_client()
    keys = list(client.scan_iter(f"{settings.RBAC_CACHE_PREFIX}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    rbac_keys_delete()
    yield
    rbac_keys_delete()


class RoundTrips:
    """Counts what the permission cache's clients send: command names, and requests written to
    a socket (a pipeline is one request)."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.requests = 0

    def reset(self) -> None:
        self.commands.clear()
        self.requests = 0


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    counter = RoundTrips()
    client = cache.redis_client()
    execute: Callable[..., Any] = client.execute_command
    send: Callable[..., None] = AbstractConnection.send_packed_command

    def counting_execute(*args: Any, **options: Any) -> Any:
        counter.commands.append(str(args[0]).upper())
        return execute(*args, **options)

    def counting_send(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counter.requests += 1
        send(self, command, check_health)

    # The lean client's (core.resp) commands and writes, counted the same way.
    call: Callable[..., Any] = RespClient.call
    request: Callable[..., Any] = resp_connection.request

    def counting_call(self: RespClient, *args: Any) -> Any:
        counter.commands.append(str(args[0]).upper())
        return call(self, *args)

    def counting_request(self: Any, payload: bytes) -> Any:
        counter.requests += 1
        return request(self, payload)

    monkeypatch.setattr(client, "execute_command", counting_execute)
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting_send)
    monkeypatch.setattr(RespClient, "call", counting_call)
    monkeypatch.setattr(resp_connection, "request", counting_request)
    return counter


class LoaderCalls:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


@pytest.fixture
def member_loads(monkeypatch: pytest.MonkeyPatch) -> LoaderCalls:
    """Counts `member_grant_load` calls (the SQL read of a member's grant)."""
    calls = LoaderCalls()
    real = principals.member_grant_load

    def counting(user_id: int, org_slug: str) -> cache.Grant | None:
        with calls.lock:
            calls.count += 1
        return real(user_id, org_slug)

    monkeypatch.setattr(principals, "member_grant_load", counting)
    return calls


def member(org: Organization, role: str) -> Membership:
    return MembershipFactory.create(org=org, role=role_builtin(role))


def keys_of(m: Membership) -> tuple[str, str, str, str]:
    return cache.keys_of(cache.member_principal(m.user_id, m.org.slug))


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run `fn` in another thread (its own database connection), return or raise its result."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# ---------------------------------------------------------------------------------- hit and miss


def test_member_hit_costs_no_sql_and_one_round_trip(
    org: Organization, round_trips: RoundTrips
) -> None:
    m = member(org, "admin")
    with CaptureQueriesContext(connection) as miss:
        first = principal_for_user(m.user_id, org_slug=org.slug)
    assert len(miss.captured_queries) == 1
    assert (first.role, first.permissions) == ("admin", ADMIN)
    assert (first.membership_id, first.org_id) == (m.pk, org.pk)

    for _ in range(5):
        round_trips.reset()
        with CaptureQueriesContext(connection) as hit:
            again = principal_for_user(m.user_id, org_slug=org.slug)
            assert again.can(Perm.MEMBERS_MANAGE)
        assert len(hit.captured_queries) == 0
        assert round_trips.commands == ["MGET"]
        assert round_trips.requests == 1
        assert again == first


def test_key_hit_costs_no_sql_and_one_round_trip(
    org: Organization, owner_key: CreatedKey, round_trips: RoundTrips
) -> None:
    with CaptureQueriesContext(connection) as miss:
        first = principal_for_token(owner_key.token)
    assert len(miss.captured_queries) == 1
    assert first is not None
    assert first.api_key_id == owner_key.api_key.pk
    assert first.permissions == OWNER

    round_trips.reset()
    with CaptureQueriesContext(connection) as hit:
        again = principal_for_token(owner_key.token)
        wrong_secret = principal_for_token(owner_key.token[:-2] + "zz")
    assert len(hit.captured_queries) == 0
    assert round_trips.commands == ["MGET", "MGET"]
    assert round_trips.requests == 2
    assert again == first
    assert wrong_secret is None  # the cached grant carries the secret's hash


def test_a_miss_costs_at_most_one_sql_query(org: Organization, round_trips: RoundTrips) -> None:
    m = member(org, "member")
    with CaptureQueriesContext(connection) as miss:
        principal_for_user(m.user_id, org_slug=org.slug)
    assert len(miss.captured_queries) <= 1
    # A miss: MGET, the fill lock, the conditional fill (one script load the first time).
    assert round_trips.commands[:2] == ["MGET", "SET"]
    assert "EVALSHA" in round_trips.commands

    member_role_change(
        org_id=org.pk, membership_id=m.pk, role_key="viewer", caller=OPERATOR,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as after_change:
        changed = principal_for_user(m.user_id, org_slug=org.slug)
    assert len(after_change.captured_queries) == 1
    assert changed.permissions == VIEWER
    with CaptureQueriesContext(connection) as hit:
        assert principal_for_user(m.user_id, org_slug=org.slug).permissions == VIEWER
    assert len(hit.captured_queries) == 0


def test_not_a_member_is_cached_and_joining_invalidates_it(org: Organization) -> None:
    alice = member(org, "owner")
    stranger = UserFactory.create(email="s@example.test")
    for expected_queries in (1, 0):
        with CaptureQueriesContext(connection) as queries, pytest.raises(NotFound):
            principal_for_user(stranger.pk, org_slug=org.slug)
        assert len(queries.captured_queries) == expected_queries

    created = invitation_create(org=org, email=stranger.email, role_key="member", caller=OPERATOR)
    invitation_accept(token=created.accept_url.rsplit("/", 1)[1], user=stranger)
    assert principal_for_user(stranger.pk, org_slug=org.slug).role == "member"
    assert principal_for_user(alice.user_id, org_slug=org.slug).role == "owner"


def test_an_inactive_user_has_no_grant(org: Organization) -> None:
    m = member(org, "admin")
    User.objects.filter(pk=m.user_id).update(is_active=False)
    with pytest.raises(NotFound):
        principal_for_user(m.user_id, org_slug=org.slug)


# ---------------------------------------------------------------------------------- generations


def test_an_entry_of_an_older_generation_is_not_trusted(
    org: Organization, member_loads: LoaderCalls
) -> None:
    m = member(org, "admin")
    _, generation_key, _, _ = keys_of(m)
    principal_for_user(m.user_id, org_slug=org.slug)
    principal_for_user(m.user_id, org_slug=org.slug)
    assert member_loads.count == 1

    cache.redis_client().incr(generation_key)  # as a change elsewhere would
    principal_for_user(m.user_id, org_slug=org.slug)
    assert member_loads.count == 2  # the old entry was not trusted; a new one is stored
    principal_for_user(m.user_id, org_slug=org.slug)
    assert member_loads.count == 2


def test_a_change_in_flight_bypasses_the_cache_and_fills_nothing(
    org: Organization, member_loads: LoaderCalls
) -> None:
    m = member(org, "admin")
    entry_key, generation_key, change_key, _ = keys_of(m)
    client = cache.redis_client()
    principal_for_user(m.user_id, org_slug=org.slug)
    cached_entry = client.get(entry_key)
    assert cached_entry is not None
    assert member_loads.count == 1

    with transaction.atomic():
        cache.changing([cache.member_principal(m.user_id, org.slug)])
        assert client.get(change_key) == b"1"
        for n in range(3):
            # Another request (own connection) sees the committed grant, read from Postgres.
            seen = in_thread(lambda: principal_for_user(m.user_id, org_slug=org.slug))
            assert seen.role == "admin"
            assert member_loads.count == 2 + n  # bypassed the cache every time
            assert client.get(entry_key) == cached_entry  # and stored nothing
        Membership.objects.filter(pk=m.pk).update(role=role_builtin("viewer"))

    # Committed: the mark is gone, the generation moved on twice, the next lookup fills.
    assert client.exists(change_key) == 0
    assert client.get(generation_key) == b"2"
    assert principal_for_user(m.user_id, org_slug=org.slug).role == "viewer"
    assert member_loads.count == 5
    assert client.get(entry_key) != cached_entry
    assert principal_for_user(m.user_id, org_slug=org.slug).role == "viewer"
    assert member_loads.count == 5


def test_two_concurrent_changes_of_one_principal_release_cleanly(
    org: Organization, member_loads: LoaderCalls
) -> None:
    m = member(org, "admin")
    principal = cache.member_principal(m.user_id, org.slug)
    _, generation_key, change_key, _ = keys_of(m)
    client = cache.redis_client()
    both_marked = threading.Barrier(3, timeout=10)
    checked = threading.Barrier(3, timeout=10)

    def change() -> None:
        with transaction.atomic():
            cache.changing([principal])
            both_marked.wait()
            checked.wait()

    threads = [threading.Thread(target=lambda: in_thread(change)) for _ in range(2)]
    for thread in threads:
        thread.start()
    both_marked.wait()
    assert client.get(change_key) == b"2"
    assert principal_for_user(m.user_id, org_slug=org.slug).role == "admin"
    assert client.exists(keys_of(m)[0]) == 0  # nothing stored while changes are in flight
    checked.wait()
    for thread in threads:
        thread.join(timeout=30)

    assert client.exists(change_key) == 0
    assert client.get(generation_key) == b"4"
    loads = member_loads.count
    principal_for_user(m.user_id, org_slug=org.slug)
    principal_for_user(m.user_id, org_slug=org.slug)
    assert member_loads.count == loads + 1  # filled once, then hits


def test_a_rolled_back_change_leaves_a_correct_if_uncached_principal(
    org: Organization, member_loads: LoaderCalls
) -> None:
    """No release runs on rollback; until the mark expires, checks read Postgres (correct)."""
    m = member(org, "admin")
    _, _, change_key, _ = keys_of(m)

    def change_then_fail() -> None:
        with transaction.atomic():
            cache.changing([cache.member_principal(m.user_id, org.slug)])
            Membership.objects.filter(pk=m.pk).update(role=role_builtin("viewer"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        change_then_fail()
    ttl = cache.redis_client().ttl(change_key)
    assert 0 < ttl <= cache.CHANGE_TTL_SECONDS
    for _ in range(2):
        assert principal_for_user(m.user_id, org_slug=org.slug).role == "admin"
    assert member_loads.count == 2


def test_changing_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        cache.changing(["m:1:acme"])


def test_a_key_created_after_its_prefix_was_looked_up_authenticates(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached "no such key" is dropped when a key with that prefix is created."""
    token, parsed = key_generate()
    for expected_queries in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            assert principal_for_token(token) is None
        assert len(queries.captured_queries) == expected_queries

    # the next key gets this token (where key creation draws its tokens)
    monkeypatch.setattr(keys_services, "key_generate", lambda: (token, parsed))
    created = api_key_create(org=org, name="ci", role_key="member", caller=OPERATOR)
    assert created.token == token
    found = principal_for_token(token)
    assert found is not None
    assert found.role == "member"


def test_an_entry_restored_from_before_a_revocation_outlives_it_by_the_entry_ttl_at_most(
    org: Organization,
) -> None:
    """Security finding 11: Redis losing a revocation's generation bump (simulated by restoring
    the key's entry and generation saved before the revocation) let the old grant be trusted
    for up to 600 s. Entries now live RBAC_ENTRY_TTL_SECONDS (set to 1 s here)."""
    client = cache.redis_client()
    with override_settings(RBAC_ENTRY_TTL_SECONDS=1):
        created = api_key_create(org=org, name="ci", role_key="member", caller=OPERATOR)
        assert principal_for_token(created.token) is not None  # fills the entry
        entry_key, generation_key, _, _ = cache.keys_of(cache.key_principal(created.api_key.prefix))
        saved = {key: (client.dump(key), client.pttl(key)) for key in (entry_key, generation_key)}
        keys_services.api_key_revoke(org_id=org.pk, key_id=created.api_key.pk, caller=OPERATOR)
        assert principal_for_token(created.token) is None

        for key, (dumped, ttl) in saved.items():  # the revocation's bump is lost
            assert dumped is not None
            client.restore(key, max(ttl, 1), dumped, replace=True)
        restored_ttl_ms = client.pttl(entry_key)
        deadline = time.monotonic() + 5
        while principal_for_token(created.token) is not None:
            assert time.monotonic() < deadline, "a restored grant outlived its entry's TTL"
            time.sleep(0.05)

    assert 0 < restored_ttl_ms <= 1000
    assert principal_for_token(created.token) is None


def test_with_replicas_required_a_change_no_replica_holds_is_refused_and_rolled_back(
    org: Organization,
) -> None:
    """Security finding 11: with RBAC_WAIT_REPLICAS, a change commits only once replicas hold
    its bump (this Redis has none, so the revocation is refused: 503, nothing changed)."""
    created = api_key_create(org=org, name="ci", role_key="member", caller=OPERATOR)

    with (
        override_settings(RBAC_WAIT_REPLICAS=1, RBAC_WAIT_TIMEOUT_MS=50),
        pytest.raises(cache.PermissionCacheUnavailable),
    ):
        keys_services.api_key_revoke(org_id=org.pk, key_id=created.api_key.pk, caller=OPERATOR)

    created.api_key.refresh_from_db()
    assert created.api_key.revoked_at is None
    assert principal_for_token(created.token) is not None
