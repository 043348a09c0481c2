"""The stand-in's state in one object, shared by the API routes and the pages: configuration,
the ledger (localstripe's store and what the stand-in adds), sessions, delivery, and the turns
that keep each customer's changes in distinct seconds."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import localstripe.resources as ls  # type: ignore[import-untyped]

from taskscore.testing.stripe_standin.config import StandinConfig
from taskscore.testing.stripe_standin.ledger import Ledger
from taskscore.testing.stripe_standin.objects import CheckoutSession, PortalSession
from taskscore.testing.stripe_standin.webhooks import Delivery, WebhookDeliverer

logger = logging.getLogger("stripe_standin")
STATE_VERSION = 1


class Standin:
    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.ledger = Ledger(config, on_events=self._flush_soon)
        self.deliverer = WebhookDeliverer(
            attempts=config.webhook_attempts,
            backoff_seconds=config.webhook_backoff_seconds,
            timeout_seconds=config.webhook_timeout_seconds,
        )
        self.checkout_sessions: dict[str, CheckoutSession] = {}
        self.portal_sessions: dict[str, PortalSession] = {}
        self._turn_locks: dict[str, asyncio.Lock] = {}
        self._last_second: dict[str, int] = {}
        self._flush_scheduled = False
        self.is_dirty = False

    def install(self) -> None:
        """Take over localstripe's module state: its store saved only by the stand-in (not in
        localstripe's shared /tmp pickle), its events delivered by the stand-in; the state file
        loaded when there is one."""
        ls.store.dump_to_disk = lambda *args, **kwargs: None
        ls.schedule_webhook = self.ledger.localstripe_event
        self._load()
        self.ledger.prices_ensure()

    # ------------------------------------------------------------------------- state file

    def _load(self) -> None:
        path = Path(self.config.state_file) if self.config.state_file else None
        if path is None or not path.exists():
            return
        try:
            with path.open("rb") as file:
                state = pickle.load(file)  # noqa: S301 - the stand-in's own file under .local
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"state version {state.get('version')}")
        except Exception as exc:  # noqa: BLE001 - any unreadable file: start afresh, say so
            logger.warning("ignoring the state file %s (%s); starting empty", path, exc)
            return
        ls.store.clear()
        ls.store.update(state["store"])
        self.checkout_sessions.update(state["checkout_sessions"])
        self.portal_sessions.update(state["portal_sessions"])
        self.ledger.meter_events.update(state["meter_events"])
        logger.info("loaded %d objects from %s", len(ls.store), path)

    def save(self) -> None:
        """Write the state file (atomically) when there is one."""
        if not self.config.state_file:
            return
        path = Path(self.config.state_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "version": STATE_VERSION,
            "store": dict(ls.store),
            "checkout_sessions": self.checkout_sessions,
            "portal_sessions": self.portal_sessions,
            "meter_events": self.ledger.meter_events,
        }
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as file:
            pickle.dump(state, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        self.is_dirty = False

    async def save_while_running(self, interval: float = 1.0) -> None:
        """Save a changed state every `interval` seconds (and once more when cancelled)."""
        try:
            while True:
                await asyncio.sleep(interval)
                if self.is_dirty:
                    self.save()
        finally:
            if self.is_dirty:
                with suppress(OSError):
                    self.save()

    def reset(self) -> None:
        """Forget everything but the prices and the webhook endpoints."""
        ls.store.clear()
        self.checkout_sessions.clear()
        self.portal_sessions.clear()
        self.ledger.meter_events.clear()
        self.ledger.events_take()
        self.ledger.prices_ensure()
        self.is_dirty = True

    # ------------------------------------------------------------------------- events

    def flush(self) -> list[Delivery]:
        """Hand the events emitted so far to delivery, in order."""
        events = self.ledger.events_take()
        if events:
            self.is_dirty = True
        return self.deliverer.publish(events)

    def _flush_soon(self) -> None:
        """Events emitted by localstripe's own API routes are published once the route's code
        has run (a page publishes its own at once, to wait for them)."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # before the server runs (start-up): published with the next flush
        self._flush_scheduled = True

        def run() -> None:
            self._flush_scheduled = False
            self.flush()

        loop.call_soon(run)

    async def settle(self, deliveries: list[Delivery]) -> bool:
        return await self.deliverer.settle(deliveries, timeout=self.config.redirect_wait_seconds)

    # ------------------------------------------------------------------------- turns

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """One change at a time per customer (or session), each in a later second than the one
        before. Stripe's `created` has a resolution of one second and the app orders events of
        the same second by status, so two changes to one subscription in the same second (a
        fast test; no person clicks that fast) could be applied in either order."""
        lock = self._turn_locks.setdefault(key, asyncio.Lock())
        async with lock:
            last = self._last_second.get(key, 0)
            while int(time.time()) <= last:
                await asyncio.sleep(last + 1.001 - time.time())
            try:
                yield
            finally:
                self._last_second[key] = int(time.time())

    # ------------------------------------------------------------------------- lookups

    def checkout_session(self, session_id: str) -> CheckoutSession | None:
        session = self.checkout_sessions.get(session_id)
        if session is not None:
            session.refresh(int(time.time()))
        return session
