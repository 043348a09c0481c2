"""`make chaos-billing`: thousands of signed Stripe events, duplicated, shuffled and raced, sent
to the webhook endpoint under gunicorn while its workers are SIGKILLed.

Set-up: a `taskscore_bench` database with two sets of orgs, each org with its Stripe customer
linked beforehand (our Checkout endpoint creates it before Stripe can send anything). Every org
gets a subscription lifecycle from `fake_stripe.subscription_lifecycle` (checkout, created,
updated, invoice paid, payment failed, deleted, a second subscription, an unhandled type), the
full one or (40%) cut short after a random event, so the orgs end in different states. Besides
these, CHAOS_BILLING_STANDIN_ORGS orgs get lifecycles recorded from the offline Stripe stand-in
(`standin_events.py`: scripted journeys through its Checkout and portal pages, its signed
webhooks received in the order it sent them: trials, renewals, failed payments and recovery,
plan switches, metered usage, cancellation). The two sets get the same lifecycles under
different ids:

- the reference set: each event recorded and applied exactly once, in Stripe's order, in this
  process, through the same `stripe_event_record` / `stripe_event_apply` the view calls;
- the chaos set: each event delivered 1–3 times over HTTP, all deliveries shuffled together,
  10% of them doubled into a concurrent duplicate pair (two threads sending the same signed
  delivery at once; the pair counts as two deliveries), by CHAOS_BILLING_SENDERS threads, to
  gunicorn with 4 workers; one worker is SIGKILLed every CHAOS_BILLING_KILL_EVERY deliveries
  (gunicorn forks a new one). A delivery that ends in a connection error or a 5xx is sent
  again, freshly signed, with a small backoff (as Stripe does); a 4xx on a genuine delivery is
  final and counted `valid_rejected`. Forged deliveries (wrong secret, tampered body, signature
  older than 300 s, missing or garbage header) are mixed in; each would cancel a subscription
  if it were accepted.

Then: `state_mismatches` counts orgs whose billing state (OrgBilling, its subscriptions, its
invoices, which org each event was attached to) differs from its reference twin;
`applied_twice` counts events applied more than once, by the event row (`attempts`) and by an
independent trigger, installed for the run, that logs every committed transition of an event
row to applied/ignored (a new `applied_at`); `unsettled` counts events not stored, or stored but
never applied/ignored; `forged_accepted` counts 2xx on forged deliveries, `forged_stored` the
forged event ids found in the database.

Knobs: CHAOS_BILLING_EVENTS (5000), CHAOS_BILLING_SENDERS (16), CHAOS_BILLING_PAIR_SHARE (0.1),
CHAOS_BILLING_FORGED (400), CHAOS_BILLING_KILL_EVERY (500), CHAOS_BILLING_SEED (11),
CHAOS_BILLING_STANDIN_ORGS (36; 0 leaves the stand-in out).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import bench_env, django_setup, emit, wait_until
from standin_events import materialize, record

EVENTS = int(os.environ.get("CHAOS_BILLING_EVENTS", "5000"))
SENDERS = int(os.environ.get("CHAOS_BILLING_SENDERS", "16"))
PAIR_SHARE = float(os.environ.get("CHAOS_BILLING_PAIR_SHARE", "0.1"))
FORGED = int(os.environ.get("CHAOS_BILLING_FORGED", "400"))
KILL_EVERY = int(os.environ.get("CHAOS_BILLING_KILL_EVERY", "500"))
SEED = int(os.environ.get("CHAOS_BILLING_SEED", "11"))
STANDIN_ORGS = int(os.environ.get("CHAOS_BILLING_STANDIN_ORGS", "36"))
SECRET = "whsec_chaos_billing"  # noqa: S105 - the throwaway server's webhook secret
MAX_TRIES = 30  # per delivery; backoff 0.05 s doubling up to 1 s: ~25 s before giving up
FORGED_KINDS = ("wrong-secret", "tampered", "stale", "missing-header", "garbage-header")


@dataclass
class OrgSpec:
    index: int
    length: int  # how many events of the lifecycle this org lives through
    start: int  # Stripe time of its checkout
    standin: int | None = None  # the stand-in recording it lives instead (its index)


@dataclass
class Unit:
    """One job for a sender: a genuine delivery (alone or as a concurrent pair) or a forgery."""

    raw: bytes
    event_id: str = ""
    pair: bool = False
    forged: str = ""  # the kind of forgery; "" for a genuine delivery


def prefix_of(side: str, run: str, index: int) -> str:
    # Fixed width, so one org's prefix is never the start of another's.
    return f"{side}{run}o{index:05d}"


def gunicorn_workers(master: int) -> list[int]:
    """The worker pids of a gunicorn master: its children."""
    children: set[int] = set()
    listed = list(Path(f"/proc/{master}/task").glob("*/children"))
    for path in listed:
        try:
            children.update(int(pid) for pid in path.read_text().split())
        except OSError:
            continue
    if listed:
        return sorted(children)
    for stat in Path("/proc").glob("[0-9]*/stat"):  # kernels without the children file
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            children.add(int(stat.parent.name))
    return sorted(children)


def main() -> None:
    from taskscore.testing.processes import free_port, start_gunicorn

    log_dir = Path(tempfile.mkdtemp(prefix="bench-chaos-billing-"))
    port = free_port()
    env = bench_env("chaos-billing", STRIPE_WEBHOOK_SECRET=SECRET)
    django_setup(env)
    from django.conf import settings
    from django.db import connection

    from taskscore.billing.events import stripe_event_apply, stripe_event_record
    from taskscore.billing.models import Invoice, OrgBilling, StripeEvent, Subscription
    from taskscore.billing.services import plans_seed
    from taskscore.orgs.models import Organization
    from taskscore.testing.fake_stripe import (
        event_payload,
        sign_header,
        subscription_lifecycle,
        subscription_object,
    )

    plans = {plan.code: plan for plan in plans_seed()}
    pro, business = settings.STRIPE_PRICE_PRO, settings.STRIPE_PRICE_BUSINESS
    run = uuid.uuid4().hex[:8]
    rng = random.Random(SEED)

    # ------------------------------------------------------------------ orgs and their events
    specs: list[OrgSpec] = []
    total = 0
    while total < EVENTS:
        length = 15 if rng.random() < 0.6 else rng.randint(1, 14)
        start = 1_800_000_000 + rng.randrange(0, 60 * 86400)
        specs.append(OrgSpec(index=len(specs), length=length, start=start))
        total += length
    # Lifecycles recorded from the offline Stripe stand-in (its own events, as it sends them).
    recording = None
    if STANDIN_ORGS:
        recording = record(
            STANDIN_ORGS, prices={"pro": pro, "business": business}, log_dir=log_dir / "standin"
        )
    for n in range(STANDIN_ORGS):
        specs.append(OrgSpec(index=len(specs), length=0, start=0, standin=n))
    orgs: dict[str, list[Organization]] = {}
    for side in ("c", "r"):
        orgs[side] = Organization.objects.bulk_create(
            [
                Organization(name=f"chaos billing {side}", slug=prefix_of(side, run, s.index))
                for s in specs
            ]
        )
        OrgBilling.objects.bulk_create(
            [
                OrgBilling(
                    org=org, plan=plans["free"],
                    stripe_customer_id=f"cus_{prefix_of(side, run, s.index)}",
                )
                for s, org in zip(specs, orgs[side], strict=True)
            ]
        )  # fmt: skip

    def lifecycle(side: str, spec: OrgSpec) -> list[dict[str, Any]]:
        prefix = prefix_of(side, run, spec.index)
        if spec.standin is not None and recording is not None:
            return materialize(
                recording.templates[spec.standin], customer=recording.customers[spec.standin],
                prefix=prefix, org_id=orgs[side][spec.index].pk,
            )  # fmt: skip
        events = subscription_lifecycle(
            org_id=orgs[side][spec.index].pk, customer=f"cus_{prefix}", prefix=prefix,
            start=spec.start, pro_price=pro, business_price=business,
        )  # fmt: skip
        return events[: spec.length]

    # ------------------------------------------------------------------ reference: once, in order
    # This process never crashes, so its commits need not wait for the disk (faster, same state).
    reference_started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    for spec in specs:
        for event in lifecycle("r", spec):
            stripe_event_record(event=event)
            stripe_event_apply(event_id=event["id"])
    with connection.cursor() as cursor:
        cursor.execute("RESET synchronous_commit")
    reference_s = time.monotonic() - reference_started

    # ------------------------------------------------------------------ the deliveries
    chaos_events = [event for spec in specs for event in lifecycle("c", spec)]
    units: list[Unit] = []
    for event in chaos_events:
        raw = json.dumps(event).encode()
        for _ in range(rng.randint(1, 3)):
            units.append(Unit(raw=raw, event_id=event["id"], pair=rng.random() < PAIR_SHARE))
    for n in range(FORGED):
        spec = rng.choice(specs)
        prefix = prefix_of("c", run, spec.index)
        kind = FORGED_KINDS[n % len(FORGED_KINDS)]
        # If accepted, it would end the org's subscription (newer than anything genuine).
        obj = subscription_object(
            subscription_id=f"sub_{prefix}_{rng.choice((1, 2))}", customer=f"cus_{prefix}",
            price=business, status="canceled", created=spec.start, period_start=spec.start,
            period_end=spec.start + 30 * 86400,
            metadata={"org_id": str(orgs["c"][spec.index].pk)},
        )  # fmt: skip
        event = event_payload(
            event_id=f"evt_forged_{run}_{n:04d}", type="customer.subscription.deleted",
            created=spec.start + 100_000, obj=obj,
        )  # fmt: skip
        units.append(Unit(raw=json.dumps(event).encode(), forged=kind))
    rng.shuffle(units)

    # ------------------------------------------------------------------ the counting trigger
    table = StripeEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_chaos_billing_applications "
            "(event_id varchar(100) NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute(
            "CREATE OR REPLACE FUNCTION bench_chaos_billing_count() RETURNS trigger AS $$ BEGIN "
            "INSERT INTO bench_chaos_billing_applications (event_id) VALUES (NEW.event_id); "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(f"DROP TRIGGER IF EXISTS bench_chaos_billing_count ON {table}")
        cursor.execute(
            f"CREATE TRIGGER bench_chaos_billing_count AFTER UPDATE ON {table} FOR EACH ROW "
            "WHEN (NEW.applied_at IS DISTINCT FROM OLD.applied_at "
            "AND NEW.status IN ('applied', 'ignored')) "
            "EXECUTE FUNCTION bench_chaos_billing_count()"
        )

    url = f"http://127.0.0.1:{port}/api/webhooks/stripe"
    lock = threading.Lock()
    stats: Counter[str] = Counter()
    forged_outcomes: Counter[str] = Counter()
    done = {"deliveries": 0}

    forger = random.Random(SEED + 2)

    def forged_header(unit: Unit) -> str | None:
        """The `Stripe-Signature` of a forgery, made as it is sent (so only the forgery fails)."""
        if unit.forged == "wrong-secret":
            return sign_header(unit.raw, "whsec_someone_else")
        if unit.forged == "tampered":  # signed as genuine, then changed in transit
            return sign_header(unit.raw.replace(b'"canceled"', b'"active"'), SECRET)
        if unit.forged == "stale":  # genuine, but older than the 300 s tolerance
            with lock:
                age = forger.randint(301, 3 * 86400)
            return sign_header(unit.raw, SECRET, timestamp=int(time.time()) - age)
        if unit.forged == "missing-header":
            return None
        return f"t={int(time.time())},v1={uuid.uuid4().hex}{uuid.uuid4().hex}"

    def post(raw: bytes, header: str | None) -> int | None:
        """The HTTP status, or None when the connection failed (a killed worker)."""
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["Stripe-Signature"] = header
        request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
        with lock:
            stats["http_requests"] += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            return int(exc.code)
        except (OSError, http.client.HTTPException):
            with lock:
                stats["connection_errors"] += 1
            return None

    def deliver(raw: bytes, header: str | None, barrier: threading.Barrier | None) -> None:
        """One genuine delivery, sent again (freshly signed) until acknowledged."""
        for attempt in range(MAX_TRIES):
            if attempt:
                header = sign_header(raw, SECRET)
                time.sleep(min(1.0, 0.05 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
                with lock:
                    stats["retries"] += 1
            elif barrier is not None:
                barrier.wait(timeout=60)
            status = post(raw, header)
            if status is not None and 200 <= status < 300:
                outcome = "acknowledged"
                break
            if status is not None and 400 <= status < 500:
                outcome = "valid_rejected"
                break
            if status is not None:
                with lock:
                    stats["server_errors"] += 1
        else:
            outcome = "unacknowledged"
        with lock:
            stats[outcome] += 1
            stats["deliveries"] += 1
            done["deliveries"] += 1

    def send(unit: Unit) -> None:
        if unit.forged:
            for attempt in range(MAX_TRIES):  # a forger also retries a connection error
                status = post(unit.raw, forged_header(unit))
                if status is not None and status < 500:
                    break
                time.sleep(0.05 * (attempt + 1))
            with lock:
                stats["forged_sent"] += 1
                forged_outcomes[f"{unit.forged}:{status}"] += 1
                if status is not None and 200 <= status < 300:
                    stats["forged_accepted"] += 1
            return
        header = sign_header(unit.raw, SECRET)
        if not unit.pair:
            deliver(unit.raw, header, None)
            return
        with lock:
            stats["concurrent_pairs"] += 1
        barrier = threading.Barrier(2)
        twin = threading.Thread(target=deliver, args=(unit.raw, header, barrier))
        twin.start()
        deliver(unit.raw, header, barrier)
        twin.join()

    def drop_trigger() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS bench_chaos_billing_count ON {table}")

    try:
        api = start_gunicorn(env, port=port, log_dir=log_dir, workers=4)
    except BaseException:
        drop_trigger()
        raise
    master = api.popen.pid
    stop = threading.Event()
    kills = {"worker_kills": 0}
    kill_rng = random.Random(SEED + 1)

    def chaos_monkey() -> None:
        next_kill = KILL_EVERY
        while not stop.is_set():
            time.sleep(0.02)
            with lock:
                progress = done["deliveries"]
            if progress < next_kill:
                continue
            next_kill += KILL_EVERY
            workers = gunicorn_workers(master)
            if not workers:
                continue
            try:
                os.kill(kill_rng.choice(workers), signal.SIGKILL)
            except ProcessLookupError:
                continue
            kills["worker_kills"] += 1

    monkey = threading.Thread(target=chaos_monkey, daemon=True)
    try:
        started = time.monotonic()
        monkey.start()
        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(send, units))
        elapsed = time.monotonic() - started
        stop.set()
        monkey.join()
        wait_until(lambda: len(gunicorn_workers(master)) == 4, timeout=15)
        workers_at_end = len(gunicorn_workers(master))
    finally:
        stop.set()
        api.stop()
        drop_trigger()

    # ------------------------------------------------------------------ exactly once?
    chaos_prefix = f"evt_c{run}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_id, count(*) FROM bench_chaos_billing_applications "
            "WHERE event_id LIKE %s GROUP BY event_id",
            [chaos_prefix + "%"],
        )
        applications = dict(cursor.fetchall())
        cursor.execute(
            "DELETE FROM bench_chaos_billing_applications WHERE event_id LIKE %s",
            [chaos_prefix + "%"],
        )
    rows = StripeEvent.objects.filter(event_id__startswith=chaos_prefix)
    row_count = Counter(rows.values_list("event_id", flat=True))
    row_state = {e: (s, a) for e, s, a in rows.values_list("event_id", "status", "attempts")}
    twice = {e for e, n in applications.items() if n > 1}
    twice |= {e for e, n in row_count.items() if n > 1}
    twice |= {e for e, (_, attempts) in row_state.items() if attempts > 1}
    unsettled = [
        e["id"]
        for e in chaos_events
        if row_state.get(e["id"], ("missing", 0))[0] not in ("applied", "ignored")
        or applications.get(e["id"], 0) == 0
    ]
    forged_stored = StripeEvent.objects.filter(event_id__startswith=f"evt_forged_{run}").count()

    # ------------------------------------------------------------------ the same state?
    def snapshots(side: str) -> dict[int, Any]:
        pk_to_index = {org.pk: spec.index for spec, org in zip(specs, orgs[side], strict=True)}
        out: dict[int, dict[str, Any]] = {
            i: {"subs": [], "invoices": [], "events": []} for i in pk_to_index.values()
        }
        for row in OrgBilling.objects.filter(org_id__in=pk_to_index).values_list(
            "org_id", "plan__code", "status", "stripe_customer_id", "stripe_subscription_id",
            "current_period_start", "current_period_end", "cancel_at_period_end",
            "past_due_since",
        ):  # fmt: skip
            out[pk_to_index[row[0]]]["billing"] = row[1:]
        for row in Subscription.objects.filter(org_id__in=pk_to_index).values_list(
            "org_id", "stripe_subscription_id", "stripe_customer_id", "price_id", "plan__code",
            "status", "current_period_start", "current_period_end", "cancel_at_period_end",
            "created", "state_created", "state_rank",
        ):  # fmt: skip
            out[pk_to_index[row[0]]]["subs"].append(row[1:])
        for row in Invoice.objects.filter(org_id__in=pk_to_index).values_list(
            "org_id", "stripe_invoice_id", "stripe_subscription_id", "number", "status",
            "amount_due", "amount_paid", "created", "state_created", "state_rank",
        ):  # fmt: skip
            out[pk_to_index[row[0]]]["invoices"].append(row[1:])
        for event_id, org_id in StripeEvent.objects.filter(
            event_id__startswith=f"evt_{side}{run}"
        ).values_list("event_id", "org_id"):
            index = int(event_id.split("o", 1)[1][:5])
            out[index]["events"].append((event_id, pk_to_index.get(org_id)))
        for index, snap in out.items():
            prefix = prefix_of(side, run, index)
            text = json.dumps(
                {k: sorted(v) if isinstance(v, list) else v for k, v in snap.items()},
                default=str,
                sort_keys=True,
            )
            out[index] = json.loads(text.replace(prefix, "ORG"))
        return out

    chaos_state, reference_state = snapshots("c"), snapshots("r")
    mismatched = [i for i in reference_state if chaos_state[i] != reference_state[i]]
    for index in mismatched[:5]:
        print(f"org {index} differs:")
        print(f"  chaos     {chaos_state[index]}")
        print(f"  reference {reference_state[index]}")
    if twice:
        print("applied more than once:", sorted(twice)[:10])
    if unsettled:
        print("never settled:", unsettled[:10])
    print(f"logs: {log_dir}; reference applied in {reference_s:.1f} s", flush=True)

    final_states = Counter(f"{s['billing'][0]}/{s['billing'][1]}" for s in reference_state.values())
    emit(
        {
            "events": len(chaos_events),
            "orgs": len(specs),
            "standin_orgs": STANDIN_ORGS,
            "standin_events": sum(len(t) for t in recording.templates) if recording else 0,
            "standin_unsigned": recording.unsigned if recording else 0,
            "standin_undelivered": recording.undelivered if recording else 0,
            "standin_record_s": round(recording.seconds, 1) if recording else 0,
            "deliveries": stats["deliveries"],
            "concurrent_pairs": stats["concurrent_pairs"],
            "http_requests": stats["http_requests"],
            "applied_twice": len(twice),
            "unsettled": len(unsettled),
            "state_mismatches": len(mismatched),
            "forged_sent": stats["forged_sent"],
            "forged_accepted": stats["forged_accepted"],
            "forged_stored": forged_stored,
            "forged_outcomes": dict(sorted(forged_outcomes.items())),
            "valid_rejected": stats["valid_rejected"],
            "unacknowledged": stats["unacknowledged"],
            "retries": stats["retries"],
            "connection_errors": stats["connection_errors"],
            "server_errors": stats["server_errors"],
            "worker_kills": kills["worker_kills"],
            "workers_at_end": workers_at_end,
            "final_states": dict(sorted(final_states.items())),
            "events_per_s": round(len(chaos_events) / elapsed, 1),
            "deliveries_per_s": round(stats["deliveries"] / elapsed, 1),
            "elapsed_s": round(elapsed, 1),
        }
    )


if __name__ == "__main__":
    main()
