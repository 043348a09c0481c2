"""kombu's Redis transport, with a closed connection reported as a connection error, one Redis
client per channel instead of one per command, and the unacked bookkeeping in one script call.

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

With late acks, each delivered message is recorded in the unacked index and hash (what
`restore_visible` gives back after the visibility timeout) and removed again by its ack, both
on the consumer's one thread, which every job of the worker waits on. kombu sends each as a
MULTI/EXEC pipeline through redis-py (~100 µs of CPU for the delivery's, ~120 µs for the ack's);
`QoS` here sends each as one script call through the lean client (`core.resp`), as atomic, the
same record in the same keys (~40 µs for the ack), so kombu's own restore reads it unchanged.

Used for `redis://` and `rediss://` broker URLs (settings: CELERY_BROKER_TRANSPORT); the tests
are in core/tests/test_broker.py, and tests/test_crash_recovery.py shows the worker surviving
Redis restarts.
"""

from __future__ import annotations

from time import time
from typing import Any, cast

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

from taskscore.core.resp import RespClient, RespScript

# A delivered message's record in the unacked index and hash, written and removed in one atomic
# step as kombu's MULTI/EXEC pipelines do (KEYS: the index, the hash; ARGV: the delivery tag,
# then for the record its time and `[message, exchange, routing key]` as kombu writes it).
_UNACKED_ADD = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
"""
_UNACKED_REMOVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class QoS(kombu_redis.QoS):
    """kombu's unacked bookkeeping, each delivery's and each ack's in one script call over the
    lean client (`core.resp`) instead of a redis-py MULTI/EXEC pipeline: the two happen once a job
    on the consumer's one thread, which every job of the worker waits on."""

    def _scripts(self) -> tuple[RespScript, RespScript] | None:
        return cast("Channel", self.channel).unacked_scripts()

    def append(self, message: Any, delivery_tag: str) -> None:
        scripts = self._scripts()
        if scripts is None:
            super().append(message, delivery_tag)
            return
        delivery = message.delivery_info
        record = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        scripts[0]((self.unacked_index_key, self.unacked_key), (delivery_tag, time(), record))
        virtual.QoS.append(self, message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        scripts = self._scripts()
        if scripts is None:
            super().ack(delivery_tag)
            return
        scripts[1]((self.unacked_index_key, self.unacked_key), (delivery_tag,))
        virtual.QoS.ack(self, delivery_tag)


class Channel(kombu_redis.Channel):
    QoS = QoS

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

    _kept_scripts: tuple[Any, tuple[RespScript, RespScript]] | None = None

    def unacked_scripts(self) -> tuple[RespScript, RespScript] | None:
        """The unacked record's add and remove scripts on a lean client to this channel's
        server, or None where kombu's own way stays (keys under a global prefix)."""
        if self.global_keyprefix:
            return None
        pool = self.pool
        kept = self._kept_scripts
        if kept is None or kept[0] is not pool:
            lean = RespClient.of(self._create_client())
            kept = (pool, (lean.script(_UNACKED_ADD), lean.script(_UNACKED_REMOVE)))
            self._kept_scripts = kept
        return kept[1]


class Transport(kombu_redis.Transport):
    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
