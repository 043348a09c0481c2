"""A lean Redis client for the few commands on every request and every job.

redis-py spends ~170k CPU instructions on a GET and ~260k on a script call (its command
packing, pool, retry wrapper, event dispatch and metrics hooks); the same round trip over a
socket costs ~30k. The permission check and the rate limit of each API request, and the AI
result cache's two scripts in each scoring job, go through this client; everything else keeps
redis-py, from whose client this one takes its address, credentials, database and timeouts
(`RespClient.of`), so both always talk to the same server.

It speaks RESP2 on one connection per thread (made on first use, and again in a forked child),
and raises redis-py's own exceptions, so callers handle a failure as they did: `TimeoutError`
and `ConnectionError` (both `RedisError`) for an unreachable or slow server, `ResponseError`
(`NoScriptError` for a script the server does not hold) for an error reply. A connection that
fails is dropped; a command is sent again once, on a new connection, only when a kept
connection turned out to be closed before any of the reply arrived (the server restarted, or
closed it while idle): the command never ran then.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO

from redis import Redis
from redis.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["RespClient", "RespScript"]

Arg = bytes | str | int | float


def _encode(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, bool):
        raise TypeError("a bool is not a Redis argument; send 0 or 1")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(arg).encode()
    raise TypeError(f"a {type(arg).__name__} is not a Redis argument")


def command(*args: Arg) -> bytes:
    """One command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _encode(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Closed(Exception):
    """The connection ended before any of the reply arrived (safe to send again)."""


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: BinaryIO = sock.makefile("rb")
        self.pid = os.getpid()
        self.used = False

    def close(self) -> None:
        for closing in (self.reader.close, self.sock.close):
            with contextlib.suppress(OSError):
                closing()

    def request(self, payload: bytes) -> Any:
        try:
            self.sock.sendall(payload)
            first = self.reader.readline()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Closed from exc
        if not first:
            raise _Closed
        return self._reply(first)

    def _reply(self, line: bytes) -> Any:
        if not line.endswith(b"\r\n"):
            raise RedisConnectionError("Redis closed the connection in the middle of a reply")
        kind, body = line[:1], line[1:-2]
        if kind == b"$":
            length = int(body)
            if length < 0:
                return None
            data = self.reader.read(length + 2)
            if len(data) != length + 2:
                raise RedisConnectionError("Redis closed the connection in the middle of a reply")
            return data[:-2]
        if kind == b":":
            return int(body)
        if kind == b"*":
            count = int(body)
            return (
                None if count < 0 else [self._reply(self.reader.readline()) for _ in range(count)]
            )
        if kind == b"+":
            return body
        if kind == b"-":
            message = body.decode(errors="replace")
            if message.startswith("NOSCRIPT"):
                return NoScriptError(message)
            return ResponseError(message)
        raise RedisConnectionError(f"Redis sent an unknown reply type {kind!r}")


class RespClient:
    """RESP2 over one connection per thread to the server of a redis-py client."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        path: str = "",
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
        connect_timeout: float | None = None,
        timeout: float | None = None,
    ) -> None:
        self._host, self._port, self._path, self._db = host, port, path, db
        self._username, self._password, self._tls = username, password, tls
        self._connect_timeout, self._timeout = connect_timeout, timeout
        self._local = threading.local()

    @classmethod
    def of(cls, redis: Redis) -> RespClient:
        """A client for the server `redis` talks to, with its credentials and timeouts."""
        pool = redis.connection_pool
        kwargs = pool.connection_kwargs
        tls = None
        if issubclass(pool.connection_class, SSLConnection):
            tls = ssl.create_default_context(cafile=kwargs.get("ssl_ca_certs"))
            if kwargs.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
        unix = issubclass(pool.connection_class, UnixDomainSocketConnection)
        return cls(
            host=kwargs.get("host", "127.0.0.1"),
            port=int(kwargs.get("port", 6379)),
            path=kwargs.get("path", "") if unix else "",
            db=int(kwargs.get("db", 0) or 0),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            tls=tls,
            connect_timeout=kwargs.get("socket_connect_timeout"),
            timeout=kwargs.get("socket_timeout"),
        )

    def call(self, *args: Arg) -> Any:
        """Run one command; its reply as redis-py gives it (bytes, int, list, None)."""
        return self._send(command(*args))

    def script(self, source: str) -> RespScript:
        return RespScript(self, source)

    def close(self) -> None:
        """Close this thread's connection (the next command opens another)."""
        conn: _Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None and conn.pid == os.getpid():
            conn.close()

    def _send(self, payload: bytes) -> Any:
        for _attempt in range(2):
            conn = self._connection()
            reused = conn.used
            conn.used = True
            try:
                reply = conn.request(payload)
            except _Closed as exc:
                self.close()
                if reused:
                    continue  # a kept connection the server had closed: the command never ran
                raise RedisConnectionError("Redis closed the connection") from exc
            except TimeoutError as exc:
                self.close()
                raise RedisTimeoutError("Redis did not answer in time") from exc
            except (OSError, ValueError) as exc:
                self.close()
                raise RedisConnectionError(f"Redis connection failed: {exc}") from exc
            except RedisConnectionError:
                self.close()
                raise
            if isinstance(reply, ResponseError):
                raise reply
            return reply
        raise RedisConnectionError("Redis closed the connection")  # pragma: no cover

    def _connection(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.pid == os.getpid():
            return conn
        # None yet in this thread, or inherited through a fork: the parent's socket is not ours.
        conn = self._connect()
        self._local.conn = conn
        return conn

    def _connect(self) -> _Connection:
        try:
            if self._path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self._connect_timeout)
                sock.connect(self._path)
            else:
                sock = socket.create_connection(
                    (self._host, self._port), timeout=self._connect_timeout
                )
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._tls is not None:
                    sock = self._tls.wrap_socket(sock, server_hostname=self._host)
            sock.settimeout(self._timeout)
        except TimeoutError as exc:
            raise RedisTimeoutError(f"Timeout connecting to Redis: {exc}") from exc
        except OSError as exc:
            raise RedisConnectionError(f"Error connecting to Redis: {exc}") from exc
        conn = _Connection(sock)
        try:
            hello: list[Sequence[Arg]] = []
            if self._password is not None:
                hello.append(("AUTH", self._username, self._password) if self._username
                             else ("AUTH", self._password))  # fmt: skip
            if self._db:
                hello.append(("SELECT", self._db))
            for args in hello:
                reply = conn.request(command(*args))
                if isinstance(reply, ResponseError):
                    raise RedisConnectionError(f"Redis refused the connection: {reply}")
        except (_Closed, OSError) as exc:
            conn.close()
            raise RedisConnectionError(f"Error connecting to Redis: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn


class RespScript:
    """A Lua script called by its SHA1 (EVALSHA), sent whole (EVAL) when the server does not
    hold it yet (a new or restarted server): called as redis-py's registered scripts are."""

    def __init__(self, client: RespClient, source: str) -> None:
        self._client = client
        self._source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324 - Redis's own name

    def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Any:
        try:
            return self._client.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return self._client.call("EVAL", self._source, len(keys), *keys, *args)
