"""The Redis broker transport (taskscore.core.broker) on a real, throwaway Redis: the state a
Redis restart can leave a worker's channel in, with kombu's own transport and with ours."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection, Queue
from kombu.transport.base import StdChannel

from taskscore.core.broker import TRANSPORT
from taskscore.testing.processes import free_port, start_redis

QUEUE = "broker-transport-test"


@pytest.fixture
def broker_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = start_redis(port=port, log_dir=tmp_path)
    yield f"redis://127.0.0.1:{port}/0"
    server.stop()


def _holding_an_unacked_message(url: str, transport: str) -> tuple[Connection, StdChannel]:
    """A connection whose default channel holds one delivered, unacknowledged message, as a
    worker's does while a late-acked job runs."""
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    queue = Queue(QUEUE, channel=channel)
    queue.declare()
    connection.Producer(channel).publish({"job": 1}, routing_key=QUEUE)
    assert queue.get(no_ack=False) is not None
    return connection, channel


def _detached(connection: Connection) -> None:
    """What `Connection.collect` leaves when the channel's first close failed part-way (its
    pending BRPOP raised ConnectionError, which `maybe_close_channel` swallows): the transport
    let go of the connection while the channel is still open."""
    connection._do_close_transport()


def test_kombus_own_transport_ends_the_worker_on_a_detached_channel(broker_url: str) -> None:
    # If this fails, kombu fixed the bug upstream: taskscore.core.broker can go.
    connection, channel = _holding_an_unacked_message(broker_url, "redis")
    _detached(connection)
    with pytest.raises(AttributeError, match="hostname"):
        connection.maybe_close_channel(channel)  # not a connection error: the worker dies


def test_ours_reports_a_connection_error_that_the_reconnect_ignores(broker_url: str) -> None:
    connection, channel = _holding_an_unacked_message(broker_url, TRANSPORT)
    _detached(connection)
    connection.maybe_close_channel(channel)  # swallowed, as the consumer does before reconnecting
    assert channel.closed  # type: ignore[attr-defined]  # virtual channels have it


def test_ours_still_gives_unacked_messages_back_on_a_normal_close(broker_url: str) -> None:
    connection, _ = _holding_an_unacked_message(broker_url, TRANSPORT)
    connection.close()
    with Connection(broker_url, transport=TRANSPORT) as again:
        message = Queue(QUEUE, channel=again.default_channel).get(no_ack=True)
        assert message is not None
        assert message.payload == {"job": 1}


def _counting_clients(channel: StdChannel) -> list[object]:
    """The Redis clients the channel builds from now on (kombu builds them with `Client`)."""
    built: list[object] = []
    make = channel.Client  # type: ignore[attr-defined]  # the Redis channel's client class

    def counted(*args: object, **kwargs: object) -> object:
        built.append(client := make(*args, **kwargs))
        return client

    channel.Client = counted  # type: ignore[attr-defined]
    return built


@pytest.mark.parametrize(("transport", "clients"), [("redis", 21), (TRANSPORT, 1)])
def test_ours_builds_one_client_for_its_publishes_deliveries_and_acks(
    broker_url: str, transport: str, clients: int
) -> None:
    # kombu's own builds one for each command it sends outside the consumer's BRPOP (~90 µs of
    # CPU each): the declaration, each publish, each get (with its unacked bookkeeping), each ack.
    with Connection(broker_url, transport=transport) as connection:
        channel = connection.default_channel
        built = _counting_clients(channel)
        queue = Queue(QUEUE, channel=channel)
        queue.declare()
        producer = connection.Producer(channel)
        for n in range(5):
            producer.publish({"job": n}, routing_key=QUEUE)
        for n in range(5):
            message = queue.get(no_ack=False)
            assert message is not None
            assert message.payload == {"job": n}
            message.ack()
        assert len(built) == clients
        assert channel.client.llen(QUEUE) == 0  # type: ignore[attr-defined]
        assert channel.client.hlen(channel.unacked_key) == 0  # type: ignore[attr-defined]
        assert channel.client.zcard(channel.unacked_index_key) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", ["redis", TRANSPORT])
def test_a_message_left_unacked_past_the_visibility_timeout_is_delivered_again(
    broker_url: str, transport: str
) -> None:
    # The unacked record (index score and payload) as kombu's own restore reads it: ours writes
    # it with a script, kombu's with a pipeline; either is restored the same way.
    options = {"visibility_timeout": 1}
    with Connection(broker_url, transport=transport, transport_options=options) as worker:
        channel = worker.default_channel
        queue = Queue(QUEUE, channel=channel)
        queue.declare()
        worker.Producer(channel).publish({"job": "held"}, routing_key=QUEUE)
        assert queue.get(no_ack=False) is not None  # delivered; the worker then hangs
        assert channel.client.llen(QUEUE) == 0  # type: ignore[attr-defined]
        with Connection(broker_url, transport=transport, transport_options=options) as other:
            other_channel = other.default_channel
            other_channel.qos.restore_visible(interval=1)  # type: ignore[attr-defined]
            assert other_channel.client.llen(QUEUE) == 0  # type: ignore[attr-defined]  # not yet
            time.sleep(1.2)
            other_channel.qos.restore_visible(interval=1)  # type: ignore[attr-defined]
            message = Queue(QUEUE, channel=other_channel).get(no_ack=True)
            assert message is not None
            assert message.payload == {"job": "held"}


def test_ours_publishes_through_its_kept_client_after_redis_restarts(
    tmp_path: Path,
) -> None:
    port = free_port()
    server = start_redis(port=port, log_dir=tmp_path)
    try:
        with Connection(f"redis://127.0.0.1:{port}/0", transport=TRANSPORT) as connection:
            channel = connection.default_channel
            queue = Queue(QUEUE, channel=channel)
            queue.declare()
            producer = connection.Producer(channel)
            producer.publish({"job": "before"}, routing_key=QUEUE)
            server.stop()  # the message is lost with it: Redis keeps nothing on disk here
            server = start_redis(port=port, log_dir=tmp_path)
            producer.publish({"job": "after"}, routing_key=QUEUE, retry=True)
            message = queue.get(no_ack=True)
            assert message is not None
            assert message.payload == {"job": "after"}
    finally:
        server.stop()
