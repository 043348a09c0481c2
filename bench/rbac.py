"""`make bench-rbac`: the cost of a cached permission check, and whether a revocation is ever
missed by a check that follows it.

Latency: the request-path check (`principal_for_user(...)` then `.can(permission)`) on a warm
cache, timed BENCH_CHECKS times, interleaved one-for-one (order alternating) with a raw redis-py
GET of the same entry on the same client, so both share the machine's conditions. `ratio_*` is
check / GET. Also: SQL queries per cached check (should be 0), a miss (entry dropped first) and
`principal_for_token` on a warm cache.

Stale grants: process A (this one) changes grants through the real services (a member demoted
to viewer, an API key revoked, a member removed), commits, then tells process B over a pipe,
which checks the principal at once; a check that still allows is a stale grant. Before each
change B warms the cache with an allowed check, and a third process hammers the same member
principals all along, so fills race the changes. BENCH_ROUNDS revoke-then-check rounds.

Knobs: BENCH_CHECKS (20000), BENCH_WARMUP (2000), BENCH_MISSES (1000), BENCH_ROUNDS (1200).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from common import bench_env, django_setup, emit

from taskscore.rbac.callers import OPERATOR

CHECKS = int(os.environ.get("BENCH_CHECKS", "20000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2000"))
MISSES = int(os.environ.get("BENCH_MISSES", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1200"))
HOT_MEMBERS = 4  # member principals that the hammer process reads continuously
PERMISSION = "members.manage"  # held by admin, not by viewer


def _percentile(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return ordered[index] / 1000  # ns → µs


def _figures(name: str, samples: list[int]) -> dict[str, float]:
    return {
        f"{name}_p50_us": round(_percentile(samples, 0.50), 1),
        f"{name}_p99_us": round(_percentile(samples, 0.99), 1),
    }


# ---------------------------------------------------------------------------------- children


def _child_setup() -> None:
    import django

    django.setup()


def checker() -> None:
    """Process B: answers one line per command read from stdin.

    `m <user_id> <slug>` → "1" if the member holds PERMISSION, "0" if not (or not a member);
    `k <token>` → "1" if the key authenticates, else "0"."""
    _child_setup()
    from django.db import close_old_connections

    from taskscore.core.errors import NotFound
    from taskscore.orgs.principals import principal_for_token, principal_for_user

    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "q":
            break
        allowed = False
        if parts[0] == "m":
            try:
                allowed = principal_for_user(int(parts[1]), org_slug=parts[2]).can(PERMISSION)
            except NotFound:
                allowed = False
        elif parts[0] == "k":
            allowed = principal_for_token(parts[1]) is not None
        sys.stdout.write("1\n" if allowed else "0\n")
        sys.stdout.flush()
        close_old_connections()


def hammer() -> None:
    """Process C: reads the hot member principals in a loop until stdin closes."""
    _child_setup()
    from taskscore.core.errors import NotFound
    from taskscore.orgs.principals import principal_for_user

    targets = [(int(u), s) for u, s in (p.split(":") for p in sys.argv[2].split(","))]
    stop = threading.Event()

    def stop_at_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=stop_at_eof, daemon=True).start()
    reads = 0
    while not stop.is_set():
        for user_id, slug in targets:
            with contextlib.suppress(NotFound):
                principal_for_user(user_id, org_slug=slug).can(PERMISSION)
            reads += 1
    print(reads, flush=True)


# ---------------------------------------------------------------------------------- main


class Checker:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--checker"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def ask(self, command: str) -> bool:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        if answer not in ("0", "1"):
            raise RuntimeError(f"checker answered {answer!r}")
        return answer == "1"

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("q\n")
        self.process.stdin.close()
        self.process.wait(timeout=30)


def latency(org: Any, user: Any, token: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taskscore.orgs.principals import principal_for_token, principal_for_user
    from taskscore.rbac import cache

    client = cache.redis_client()
    entry_key = cache.keys_of(cache.member_principal(user.pk, org.slug))[0]
    slug, user_id = org.slug, user.pk

    def check() -> bool:
        return principal_for_user(user_id, org_slug=slug).can(PERMISSION)

    assert check()  # fills the cache
    assert client.get(entry_key) is not None
    clock = time.perf_counter_ns
    for _ in range(WARMUP):
        check()
        client.get(entry_key)

    checks: list[int] = []
    gets: list[int] = []
    for i in range(CHECKS):
        if i % 2:
            t0 = clock()
            check()
            t1 = clock()
            client.get(entry_key)
            t2 = clock()
            checks.append(t1 - t0)
            gets.append(t2 - t1)
        else:
            t0 = clock()
            client.get(entry_key)
            t1 = clock()
            check()
            t2 = clock()
            gets.append(t1 - t0)
            checks.append(t2 - t1)

    batch = 1000
    with CaptureQueriesContext(connection) as queries:
        for _ in range(batch):
            check()
    sql_per_check = len(queries.captured_queries) / batch

    # Misses: drop the entry (untimed), then time the check that loads and fills it.
    misses: list[int] = []
    for _ in range(MISSES):
        client.delete(entry_key)
        t0 = clock()
        check()
        misses.append(clock() - t0)
    with CaptureQueriesContext(connection) as queries:
        client.delete(entry_key)
        check()
    sql_per_miss = len(queries.captured_queries)

    assert principal_for_token(token) is not None
    tokens: list[int] = []
    for _ in range(WARMUP):
        principal_for_token(token)
    for _ in range(CHECKS // 4):
        t0 = clock()
        principal_for_token(token)
        tokens.append(clock() - t0)

    figures: dict[str, Any] = {}
    figures |= _figures("cached_check", checks)
    figures |= _figures("redis_get", gets)
    figures["ratio_p50"] = round(_percentile(checks, 0.5) / _percentile(gets, 0.5), 3)
    figures["ratio_p99"] = round(_percentile(checks, 0.99) / _percentile(gets, 0.99), 3)
    figures["cached_check_mean_us"] = round(statistics.fmean(checks) / 1000, 1)
    figures["redis_get_mean_us"] = round(statistics.fmean(gets) / 1000, 1)
    figures["sql_queries_per_cached_check"] = sql_per_check
    figures["sql_queries_per_miss"] = sql_per_miss
    figures |= _figures("miss_check", misses)
    figures |= _figures("token_check", tokens)
    figures["checks"] = CHECKS
    return figures


def stale_rounds(env: dict[str, str], org: Any, admin: Any) -> dict[str, Any]:
    from django.db import transaction

    from taskscore.accounts.models import User
    from taskscore.orgs.models import Membership
    from taskscore.orgs.services import (
        api_key_create,
        api_key_revoke,
        member_remove,
        member_role_change,
    )
    from taskscore.rbac import cache

    run = uuid.uuid4().hex[:6]
    members = []
    for i in range(HOT_MEMBERS):
        user = User.objects.create_user(email=f"hot{i}-{run}@bench.test", password=None)
        members.append(Membership.objects.create(org=org, user=user, role=admin))
    hot = ",".join(f"{m.user_id}:{org.slug}" for m in members)
    hammer_process = subprocess.Popen(
        [sys.executable, __file__, "--hammer", hot],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    checker_process = Checker(env)
    stale = {"demote": 0, "revoke_key": 0, "remove_member": 0}
    rounds = {"demote": 0, "revoke_key": 0, "remove_member": 0}
    warm_denied = 0  # a warm-up check that did not allow (a grant not yet visible; not a leak)
    started = time.monotonic()
    try:
        for i in range(ROUNDS):
            kind = ("demote", "revoke_key", "remove_member")[i % 3]
            rounds[kind] += 1
            if kind == "demote":
                membership = members[i % HOT_MEMBERS]
                command = f"m {membership.user_id} {org.slug}"
                warm_denied += not checker_process.ask(command)
                member_role_change(
                    org_id=org.pk, membership_id=membership.pk, role_key="viewer",
                    caller=OPERATOR,
                )  # fmt: skip
                stale[kind] += checker_process.ask(command)
                member_role_change(
                    org_id=org.pk, membership_id=membership.pk, role_key="admin",
                    caller=OPERATOR,
                )  # fmt: skip
            elif kind == "revoke_key":
                created = api_key_create(org=org, name="bench", role_key="admin", caller=OPERATOR)
                command = f"k {created.token}"
                warm_denied += not checker_process.ask(command)
                api_key_revoke(
                    org_id=org.pk, key_id=created.api_key.pk, caller=OPERATOR,
                )  # fmt: skip
                stale[kind] += checker_process.ask(command)
            else:
                user = User.objects.create_user(email=f"r{i}-{run}@bench.test", password=None)
                with transaction.atomic():  # set-up, as invitation_accept does
                    cache.changing([cache.member_principal(user.pk, org.slug)])
                    membership = Membership.objects.create(org=org, user=user, role=admin)
                command = f"m {user.pk} {org.slug}"
                warm_denied += not checker_process.ask(command)
                member_remove(
                    org_id=org.pk, membership_id=membership.pk, caller=OPERATOR,
                )  # fmt: skip
                stale[kind] += checker_process.ask(command)
    finally:
        checker_process.close()
        assert hammer_process.stdin is not None
        assert hammer_process.stdout is not None
        hammer_process.stdin.close()
        hammer_reads = int(hammer_process.stdout.read().strip() or 0)
        hammer_process.wait(timeout=30)
    elapsed = time.monotonic() - started
    return {
        "stale_grants": sum(stale.values()),
        "stale_by_kind": stale,
        "revoke_rounds": sum(rounds.values()),
        "rounds_by_kind": rounds,
        "warm_checks_denied": warm_denied,
        "hammer_reads": hammer_reads,
        "stale_rounds_s": round(elapsed, 1),
    }


def main() -> None:
    env = bench_env("rbac", RBAC_CACHE_PREFIX=f"rbac-bench-{uuid.uuid4().hex[:8]}")
    django_setup(env)
    from django.conf import settings

    from taskscore.accounts.models import User
    from taskscore.orgs.models import Membership, Organization
    from taskscore.orgs.services import api_key_create
    from taskscore.rbac import cache
    from taskscore.rbac.services import role_builtin

    org = Organization.objects.create(name="bench", slug=f"bench-rbac-{time.time_ns()}")
    admin = role_builtin("admin")
    user = User.objects.create_user(email=f"{org.slug}@bench.test", password=None)
    Membership.objects.create(org=org, user=user, role=admin)
    token = api_key_create(org=org, name="bench", role_key="member", caller=OPERATOR).token

    figures: dict[str, Any] = {"redis_py": __import__("redis").__version__}
    try:
        figures |= latency(org, user, token)
        figures |= stale_rounds(env, org, admin)
    finally:
        client = cache.redis_client()
        keys = list(client.scan_iter(f"{settings.RBAC_CACHE_PREFIX}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    figures["targets_met"] = (
        figures["ratio_p50"] <= 1.5
        and figures["ratio_p99"] <= 2.0
        and figures["sql_queries_per_cached_check"] == 0
        and figures["stale_grants"] == 0
    )
    emit(figures)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--checker":
        checker()
    elif len(sys.argv) > 1 and sys.argv[1] == "--hammer":
        hammer()
    else:
        main()
