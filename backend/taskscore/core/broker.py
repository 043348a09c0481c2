"""kombu's Redis transport, with a closed connection reported as a connection error, and one
Redis client per channel instead of one per command.

When Redis goes away under a worker (a restart, a failover, a network cut), Celery's consumer
closes the broken connection twice: once while collecting it (`Connection.collect`), and again
with `connection.close()`. If the first close of the default channel fails part-way (reading the
pending BRPOP raises `ConnectionError`, which `maybe_close_channel` swallows), the channel stays
open while the transport is already detached from its connection (`transport.client = None`). The
second close then tries to give the unacknowledged messages back, builds a new Redis pool for
that, and kombu reads the hostname from the detached connection: `AttributeError: 'NoneType'
object has no attribute 'hostname'`. An AttributeError is not one of the connection errors the
consumer ignores while reconnecting, so it ends the worker ("Unrecoverable error"; the same
family as celery/kombu#582 and #970, still present in kombu 5.7).

Here the channel reports that state as what it is, a `redis.ConnectionError`: the consumer
ignores it and reconnects, and the worker lives. Nothing is lost by not restoring those messages
at that moment: a Redis that restarted has lost them anyway and one that did not keeps them in
its unacked index, which `restore_visible` gives back after the visibility timeout; either way,
the tasks those messages carried are still `queued` in Postgres and the sweeper re-enqueues them
(`tasks.sweep_stale`), and a job that is still running finishes once (the claim in Postgres).

kombu's channel builds a new `redis.Redis` for every command it sends outside its consumer's
BRPOP (`conn_or_acquire()`): each publish, and each delivered message's unacked bookkeeping and
its ack. Building one costs about as much CPU as the command it sends (~90 µs here: the client
fills its table of ~170 reply callbacks), three times a job. The client holds no connection of
its own (it checks one out of the channel's pool for each command, and is safe across threads),
so here the channel keeps the one it built for as long as it keeps that pool.

Used for `redis://` and `rediss://` broker URLs (settings: CELERY_BROKER_TRANSPORT); a fault
test in tests/test_broker_redis_restart.py shows the worker surviving Redis restarts.
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # unstubbed

    _kept_client: tuple[Any, Any] | None = None  # (the pool, the client built on it)

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:  # the consumer's own client (BRPOP), built once by kombu already
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # unstubbed
        pool = self.pool
        kept = self._kept_client
        if kept is None or kept[0] is not pool:  # a new pool after a disconnect: a new client
            kept = (pool, super()._create_client())  # type: ignore[misc]  # unstubbed
            self._kept_client = kept
        return kept[1]


class Transport(kombu_redis.Transport):
    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
