"""The permission cache under concurrency and faults, forced deterministically: a stampede of
misses, a reader whose fill races a revocation (through the real services), and Redis stopped
and restarted mid-run. These tests commit (transaction=True) and run readers and writers in
threads with their own database connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from taskscore.core.errors import NotFound
from taskscore.orgs import principals
from taskscore.orgs.models import ApiKey, Membership, Organization
from taskscore.orgs.principals import principal_for_token, principal_for_user
from taskscore.orgs.services import (
    CreatedKey,
    api_key_create,
    api_key_revoke,
    member_remove,
    member_role_change,
)
from taskscore.rbac import cache
from taskscore.rbac.callers import OPERATOR
from taskscore.rbac.catalog import Perm
from taskscore.rbac.services import role_builtin
from taskscore.rbac.tests.test_cache import rbac_keys_delete
from taskscore.testing.factories import MembershipFactory
from taskscore.testing.processes import Process, free_port, start_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PERMISSION = Perm.MEMBERS_MANAGE  # admin holds it, viewer does not
WAIT = 10  # seconds; every wait below is for another thread reaching a point, never a sleep


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    rbac_keys_delete()
    yield
    rbac_keys_delete()


def run_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def joined(thread: threading.Thread, outcome: dict[str, Any]) -> Any:
    thread.join(timeout=WAIT)
    assert not thread.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# ---------------------------------------------------------------------------------- stampede


def test_a_stampede_of_misses_loads_from_postgres_at_most_twice(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = MembershipFactory.create(org=org, role=role_builtin("admin"))
    calls: list[float] = []
    real = principals.member_grant_load

    def counting(user_id: int, org_slug: str) -> cache.Grant | None:
        calls.append(time.monotonic())
        return real(user_id, org_slug)

    monkeypatch.setattr(principals, "member_grant_load", counting)
    # Waiters poll for the filler's result this long before loading themselves: generous here,
    # so that a busy machine's scheduling cannot pass for a stampede.
    monkeypatch.setattr(cache, "FILL_WAIT_SECONDS", 2.0)
    start = threading.Barrier(20, timeout=WAIT)

    def lookup() -> frozenset[str]:
        start.wait()
        return principal_for_user(m.user_id, org_slug=org.slug).permissions

    threads = [run_thread(lookup) for _ in range(20)]
    results = [joined(thread, outcome) for thread, outcome in threads]
    assert all(PERMISSION in permissions for permissions in results)
    assert len(calls) <= 2, f"{len(calls)} loads for 20 concurrent misses"


def test_a_miss_that_locks_after_another_fill_reads_that_fill_instead_of_loading(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stampede's window, forced: this lookup reads a miss, then another lookup loads, fills
    and lets go of the fill lock before this one takes it. Taking the free lock must not mean a
    second load: the entry is read again under the lock."""
    m = MembershipFactory.create(org=org, role=role_builtin("admin"))
    loads: list[str] = []
    real = principals.member_grant_load

    def counting(user_id: int, org_slug: str) -> cache.Grant | None:
        loads.append(threading.current_thread().name)
        return real(user_id, org_slug)

    monkeypatch.setattr(principals, "member_grant_load", counting)
    client = cache.redis_client()
    real_set = client.set
    interleaved: list[bool] = []

    def set_after_another_fill(*args: Any, **kwargs: Any) -> Any:
        if not interleaved:  # only this lookup's lock; the other's goes straight through
            interleaved.append(True)
            other, outcome = run_thread(
                lambda: principal_for_user(m.user_id, org_slug=org.slug).permissions
            )
            assert PERMISSION in joined(other, outcome)
            fill_key = cache.keys_of(cache.member_principal(m.user_id, org.slug))[3]
            assert not client.exists(fill_key), "the other lookup let go of its fill lock"
        return real_set(*args, **kwargs)

    monkeypatch.setattr(client, "set", set_after_another_fill)
    assert PERMISSION in principal_for_user(m.user_id, org_slug=org.slug).permissions
    assert interleaved
    assert len(loads) == 1, f"loaded by {loads}"
    assert threading.current_thread().name not in loads


# ---------------------------------------------------------------------------------- fill races


class Gate:
    """A point where a thread stops (once) until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()

    def pause(self) -> None:
        self.reached.set()
        assert self.go.wait(WAIT), "the test never let this thread go"

    def wait_reached(self) -> None:
        assert self.reached.wait(WAIT), "the thread never reached this gate"

    def release(self) -> None:
        self.go.set()


@dataclass
class Scenario:
    """One principal whose grant `change` takes away, and the gates of its reader and writer."""

    check: Callable[[], bool]  # does the principal hold PERMISSION?
    change: Callable[[], None]  # the real service call that takes it away (commits)
    principal: str
    before_load: Gate = field(default_factory=Gate)
    after_load: Gate = field(default_factory=Gate)
    writer_changed: Gate = field(default_factory=Gate)
    loaded: list[bool] = field(default_factory=list)  # what the gated loader read


def _gated(scenario: Scenario, real: Callable[..., cache.Grant | None]) -> Callable[..., Any]:
    def loader(*args: Any) -> cache.Grant | None:
        scenario.before_load.pause()
        grant = real(*args)
        scenario.loaded.append(grant is not None and PERMISSION in grant.permissions)
        scenario.after_load.pause()
        return grant

    return loader


@pytest.fixture(params=["demote", "remove", "revoke_key"])
def scenario(
    request: pytest.FixtureRequest, org: Organization, monkeypatch: pytest.MonkeyPatch
) -> Scenario:
    kind = request.param
    if kind == "revoke_key":
        created: CreatedKey = api_key_create(org=org, name="ci", role_key="admin", caller=OPERATOR)
        key_id = created.api_key.pk

        def key_check() -> bool:
            found = principal_for_token(created.token)
            return found is not None and found.can(PERMISSION)

        def key_change() -> None:
            api_key_revoke(org_id=org.pk, key_id=key_id, caller=OPERATOR)

        scenario = Scenario(
            check=key_check,
            change=key_change,
            principal=cache.key_principal(created.api_key.prefix),
        )
        monkeypatch.setattr(
            principals, "key_grant_load", _gated(scenario, principals.key_grant_load)
        )
    else:
        m = MembershipFactory.create(org=org, role=role_builtin("admin"))

        def member_check() -> bool:
            try:
                return principal_for_user(m.user_id, org_slug=org.slug).can(PERMISSION)
            except NotFound:
                return False

        def member_change() -> None:
            if kind == "demote":
                member_role_change(
                    org_id=org.pk, membership_id=m.pk, role_key="viewer", caller=OPERATOR,
                )  # fmt: skip
            else:
                member_remove(org_id=org.pk, membership_id=m.pk, caller=OPERATOR)

        scenario = Scenario(
            check=member_check,
            change=member_change,
            principal=cache.member_principal(m.user_id, org.slug),
        )
        monkeypatch.setattr(
            principals, "member_grant_load", _gated(scenario, principals.member_grant_load)
        )

    real_changing = cache.changing

    def gated_changing(principals_: Any) -> None:
        real_changing(principals_)
        scenario.writer_changed.pause()  # inside the writer's transaction, before commit

    monkeypatch.setattr(cache, "changing", gated_changing)
    return scenario


def _entry(scenario: Scenario) -> bytes | None:
    return cache.redis_client().get(cache.keys_of(scenario.principal)[0])  # type: ignore[return-value]


def _assert_revoked_for_good(scenario: Scenario) -> None:
    """The stale fill was refused: nothing cached, and every later check sees the change."""
    assert _entry(scenario) is None
    for gate in (scenario.before_load, scenario.after_load, scenario.writer_changed):
        gate.release()  # later loads and changes pass straight through
    assert scenario.check() is False  # a miss: reads Postgres and fills
    with CaptureQueriesContext(connection) as queries:
        assert scenario.check() is False  # a hit on the new grant
    assert len(queries.captured_queries) == 0


def test_a_load_before_the_change_cannot_fill_after_its_commit(scenario: Scenario) -> None:
    """The reader reads the generation and the old grant, then the whole change runs and
    commits, then the reader tries to store the old grant."""
    scenario.before_load.release()
    reader = run_thread(scenario.check)
    scenario.after_load.wait_reached()
    assert scenario.loaded == [True]  # the reader holds the old grant

    scenario.writer_changed.release()
    scenario.change()  # commits; the mark is released on commit

    scenario.after_load.release()
    assert joined(*reader) is True  # answered with what it read before the change
    _assert_revoked_for_good(scenario)


def test_a_generation_read_before_the_change_cannot_fill_after_its_commit(
    scenario: Scenario,
) -> None:
    """The reader reads the generation before `changing()`, loads while the change is in
    flight (Postgres still shows the old grant), and tries to fill after the commit."""
    reader = run_thread(scenario.check)
    scenario.before_load.wait_reached()  # generation read, fill lock taken

    writer = run_thread(scenario.change)
    scenario.writer_changed.wait_reached()  # marked in flight, not committed

    scenario.before_load.release()
    scenario.after_load.wait_reached()
    assert scenario.loaded == [True]  # uncommitted change: the old grant

    scenario.writer_changed.release()
    joined(*writer)  # committed and released

    scenario.after_load.release()
    assert joined(*reader) is True
    _assert_revoked_for_good(scenario)


def test_a_fill_while_the_change_is_in_flight_is_refused(scenario: Scenario) -> None:
    """The reader loaded before the change and tries to fill between `changing()` and the
    commit."""
    scenario.before_load.release()
    reader = run_thread(scenario.check)
    scenario.after_load.wait_reached()

    writer = run_thread(scenario.change)
    scenario.writer_changed.wait_reached()

    scenario.after_load.release()
    assert joined(*reader) is True
    assert _entry(scenario) is None  # refused while in flight

    scenario.writer_changed.release()
    joined(*writer)
    _assert_revoked_for_good(scenario)


def test_a_lookup_during_the_change_reads_postgres_and_fills_nothing(scenario: Scenario) -> None:
    """A reader that starts after `changing()` and before the commit bypasses the cache."""
    scenario.before_load.release()
    scenario.after_load.release()
    assert scenario.check() is True  # cached before the change
    writer = run_thread(scenario.change)
    scenario.writer_changed.wait_reached()
    cached = _entry(scenario)

    assert joined(*run_thread(scenario.check)) is True  # not committed yet: still granted
    assert _entry(scenario) == cached  # no fill while in flight

    scenario.writer_changed.release()
    joined(*writer)
    assert scenario.check() is False


# ---------------------------------------------------------------------------------- Redis down


@dataclass
class PrivateRedis:
    port: int
    log_dir: Path
    process: Process

    def restart(self) -> None:
        self.process = start_redis(port=self.port, log_dir=self.log_dir / f"r{time.monotonic_ns()}")


def _clear_clients() -> None:
    cache.clients_reset()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """The permission cache on a redis-server of its own, which the test may kill."""
    port = free_port()
    server = PrivateRedis(port, tmp_path, start_redis(port=port, log_dir=tmp_path / "first"))
    _clear_clients()
    try:
        with override_settings(RBAC_REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            yield server
    finally:
        server.process.kill()
        _clear_clients()


def _role(membership: Membership) -> str:
    return Membership.objects.select_related("role").get(pk=membership.pk).role.key


def test_redis_stopped_mid_run(org: Organization, private_redis: PrivateRedis) -> None:
    m = MembershipFactory.create(org=org, role=role_builtin("admin"))
    kept = api_key_create(org=org, name="kept", role_key="admin", caller=OPERATOR)
    revoked = api_key_create(org=org, name="revoked", role_key="admin", caller=OPERATOR)

    def member_can() -> bool:
        return principal_for_user(m.user_id, org_slug=org.slug).can(PERMISSION)

    def key_valid(created: CreatedKey) -> bool:
        return principal_for_token(created.token) is not None

    # Up: fill the cache, and revoke one key (cached first, so the revocation must invalidate).
    assert (member_can(), key_valid(kept), key_valid(revoked)) == (True, True, True)
    with CaptureQueriesContext(connection) as queries:
        assert (member_can(), key_valid(kept), key_valid(revoked)) == (True, True, True)
    assert len(queries.captured_queries) == 0
    api_key_revoke(org_id=org.pk, key_id=revoked.api_key.pk, caller=OPERATOR)
    assert not key_valid(revoked)

    private_redis.process.kill()

    # Down: every check reads Postgres, quickly, and is right; a revoked key stays denied.
    started = time.monotonic()
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert member_can()
            assert key_valid(kept)
            assert not key_valid(revoked)
        assert len(queries.captured_queries) == 3
    assert time.monotonic() - started < 3

    # Down: a change is refused (and rolled back) rather than risking a stale grant later.
    with pytest.raises(cache.PermissionCacheUnavailable):
        member_role_change(
            org_id=org.pk, membership_id=m.pk, role_key="viewer", caller=OPERATOR,
        )  # fmt: skip
    with pytest.raises(cache.PermissionCacheUnavailable):
        api_key_revoke(org_id=org.pk, key_id=kept.api_key.pk, caller=OPERATOR)
    assert _role(m) == "admin"
    assert ApiKey.objects.get(pk=kept.api_key.pk).revoked_at is None
    assert (member_can(), key_valid(kept)) == (True, True)

    # Back up (empty: no persistence): checks fill again and are right; changes work again.
    private_redis.restart()
    assert (member_can(), key_valid(kept), key_valid(revoked)) == (True, True, False)
    with CaptureQueriesContext(connection) as queries:
        assert (member_can(), key_valid(kept), key_valid(revoked)) == (True, True, False)
    assert len(queries.captured_queries) == 0
    member_role_change(org_id=org.pk, membership_id=m.pk, role_key="viewer", caller=OPERATOR)
    api_key_revoke(org_id=org.pk, key_id=kept.api_key.pk, caller=OPERATOR)
    assert (member_can(), key_valid(kept)) == (False, False)
    with CaptureQueriesContext(connection) as queries:
        assert (member_can(), key_valid(kept)) == (False, False)
    assert len(queries.captured_queries) == 0


def test_redis_dying_while_a_change_is_in_flight(
    org: Organization, private_redis: PrivateRedis
) -> None:
    """The change was marked before Redis died, so it commits; the release fails (logged) and
    checks read Postgres until Redis is back."""
    m = MembershipFactory.create(org=org, role=role_builtin("admin"))

    def member_can() -> bool:
        return principal_for_user(m.user_id, org_slug=org.slug).can(PERMISSION)

    assert member_can()
    assert member_can()
    with transaction.atomic():
        member_role_change(
            org_id=org.pk, membership_id=m.pk, role_key="viewer", caller=OPERATOR,
        )  # fmt: skip
        private_redis.process.kill()
    assert _role(m) == "viewer"
    assert not member_can()
    private_redis.restart()
    assert not member_can()
    with CaptureQueriesContext(connection) as queries:
        assert not member_can()
    assert len(queries.captured_queries) == 0
