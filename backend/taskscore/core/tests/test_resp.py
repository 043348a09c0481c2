"""The lean Redis client against the real server: replies, scripts, errors, and connections
that die under it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from taskscore.core.resp import RespClient, command


@pytest.fixture
def redis() -> Iterator[Redis]:
    client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    yield client
    client.close()


@pytest.fixture
def key(redis: Redis) -> Iterator[str]:
    name = f"test-resp-{uuid.uuid4().hex}"
    yield name
    redis.delete(name, f"{name}:2")


def test_a_command_is_an_array_of_bulk_strings() -> None:
    assert command("SET", "k", 10, 1.5, b"\x00") == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n10\r\n$3\r\n1.5\r\n$1\r\n\x00\r\n"
    )
    with pytest.raises(TypeError):
        command("SET", "k", True)


def test_replies_read_as_redis_py_reads_them(redis: Redis, key: str) -> None:
    client = RespClient.of(redis)

    assert client.call("SET", key, "caf\u00e9\r\nbar") == b"OK"
    assert client.call("MGET", key, f"{key}:2") == ["caf\u00e9\r\nbar".encode(), None]
    assert client.call("INCR", f"{key}:2") == 1
    assert client.call("GET", f"{key}:missing") is None
    assert redis.get(key) == "caf\u00e9\r\nbar".encode()


def test_an_error_reply_raises_and_the_connection_stays_usable(redis: Redis, key: str) -> None:
    client = RespClient.of(redis)
    client.call("SET", key, "text")

    with pytest.raises(ResponseError, match="not an integer"):
        client.call("INCR", key)

    assert client.call("GET", key) == b"text"


def test_a_script_the_server_lacks_is_sent_whole_then_called_by_its_hash(
    redis: Redis, key: str
) -> None:
    client = RespClient.of(redis)
    # A source no server holds yet (unique to this test): the first call meets NOSCRIPT.
    script = client.script(f"-- {key}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert redis.script_exists(script.sha) == [False]

    assert script(keys=[key], args=[2]) == 2
    assert redis.script_exists(script.sha) == [True]
    assert script(keys=[key], args=[3]) == 5  # each call ran once


def test_the_database_and_timeouts_come_from_the_redis_py_client(key: str) -> None:
    url = urlsplit(settings.REDIS_URL)
    other_db = Redis.from_url(urlunsplit(url._replace(path="/3")), socket_timeout=0.25)
    try:
        client = RespClient.of(other_db)
        client.call("SET", key, "in db 3")

        assert other_db.get(key) == b"in db 3"
        assert Redis.from_url(urlunsplit(url._replace(path="/0"))).get(key) is None
        assert client._timeout == 0.25
    finally:
        other_db.delete(key)
        other_db.close()


def test_a_connection_the_server_closed_is_replaced_and_the_command_runs_once(
    redis: Redis, key: str
) -> None:
    client = RespClient.of(redis)
    own_id = client.call("CLIENT", "ID")
    redis.client_kill_filter(_id=own_id)  # as a restart or an idle timeout closes it

    assert client.call("INCR", key) == 1
    assert client.call("CLIENT", "ID") != own_id
    assert redis.get(key) == b"1"


def test_an_unreachable_server_is_a_redis_error_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = RespClient(port=port, connect_timeout=0.5, timeout=0.5)

    with pytest.raises(RedisConnectionError):
        client.call("PING")


def test_a_server_that_does_not_answer_times_out_and_is_not_sent_the_command_again() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        client = RespClient(port=silent.getsockname()[1], connect_timeout=0.5, timeout=0.2)

        with pytest.raises(RedisTimeoutError):
            client.call("INCR", "counter")
        accepted, _ = silent.accept()
        with accepted:
            accepted.settimeout(0.5)
            received = accepted.recv(1024)

    assert received == command("INCR", "counter")  # once: a timeout is never retried
    assert issubclass(RedisTimeoutError, RedisError)  # what the callers catch


def test_each_thread_and_each_forked_child_has_its_own_connection(redis: Redis) -> None:
    client = RespClient.of(redis)
    main_id = client.call("CLIENT", "ID")
    ids: list[int] = []
    thread = threading.Thread(target=lambda: ids.append(client.call("CLIENT", "ID")))
    thread.start()
    thread.join()

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, the parent's left open
        try:
            os.write(write, str(client.call("CLIENT", "ID")).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_id = int(os.read(read, 64))
    os.close(read)

    assert ids[0] != main_id
    assert child_id not in (main_id, ids[0])
    assert client.call("CLIENT", "ID") == main_id  # still the parent's own, working


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A redis-server of its own on loopback speaking TLS only, with a password: its port and
    the certificate that signs it."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
         "--requirepass", "s3cret", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port, cert
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_tls_a_password_and_a_database_come_from_a_rediss_url(
    tls_redis: tuple[int, Path],
) -> None:
    port, cert = tls_redis
    url = f"rediss://:s3cret@127.0.0.1:{port}/2"
    redis = Redis.from_url(url, ssl_ca_certs=str(cert), socket_timeout=2)
    client = RespClient.of(redis)

    assert client.call("SET", "k", "over tls") == b"OK"
    assert redis.get("k") == b"over tls"
    assert client.call("CLIENT", "INFO").split(b" db=")[1].startswith(b"2 ")
    unverified = RespClient.of(Redis.from_url(url, socket_timeout=2))  # the system's CAs only
    with pytest.raises(RedisConnectionError):
        unverified.call("PING")
    wrong_password = RespClient.of(
        Redis.from_url(f"rediss://:nope@127.0.0.1:{port}/0", ssl_ca_certs=str(cert))
    )
    with pytest.raises(RedisConnectionError, match="refused"):
        wrong_password.call("PING")
    redis.close()
