"""A lean HTTP client for the AI provider: JSON POSTs to one origin, over one kept-alive
connection per thread (the standard library's `http.client`).

Why not the OpenAI SDK's client (ADR 0017): a scoring job spent about 1 ms of CPU in it per call,
a quarter of the job, for a request we build and an answer we read ourselves; this costs about a
tenth of that. What it keeps of the SDK's behaviour:

- timeouts: `connect_timeout` to connect, then `timeout` for each send and each read (a server
  that stops answering mid-response times out too);
- proxies from the environment, as the SDK's client read them: `HTTPS_PROXY`/`HTTP_PROXY` (or
  `ALL_PROXY`), an `http://` proxy, with credentials in its address if it needs them, and
  `NO_PROXY` (an HTTPS origin is reached through a CONNECT tunnel, a plain one in absolute form);
- TLS verified against the system's certificate authorities (`SSL_CERT_FILE`/`SSL_CERT_DIR`
  point elsewhere);
- a connection the server closed while idle is not used again: it is checked before each request
  (no request is sent twice);
- a span for the request when tracing is on (`core.tracing.http_client_span`), whose context the
  request carries (`traceparent`).

Errors: `TimeoutError` when a timeout passes, `OSError` (or `http.client.HTTPException`) when the
connection fails or breaks; the caller maps them. The body of every answer, whatever its status,
is read whole, so the connection stays usable.

`http.client` opens each connection (TLS, the proxy's tunnel); the request and its answer are
written and read here, on its socket: `http.client`'s own request and response (the headers
parsed by the `email` package) cost more CPU than the rest of the call together (~0.35M
instructions a request). The answer is read as HTTP/1.1 frames it: by `Content-Length`, in
chunks, or to the end of the connection; a `100 Continue` before it is skipped.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import select
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from taskscore.core import tracing

__all__ = ["JSONClient", "Response"]

# Bounds on an answer, as http.client's: a line, the number of headers; and its body.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]  # names in lowercase
    body: bytes


@dataclass(frozen=True)
class _Route:
    """How a request reaches the origin: directly, or through an HTTP proxy."""

    host: str
    port: int
    tunnel: bool = False  # CONNECT through the proxy at host:port (an HTTPS origin)
    absolute: bool = False  # the request line names the whole URL (a plain origin via a proxy)
    proxy_headers: tuple[tuple[str, str], ...] = ()


def _proxy_route(scheme: str, host: str, port: int) -> _Route | None:
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if (
        not proxy
        or urllib.request.proxy_bypass(f"{host}:{port}")
        or urllib.request.proxy_bypass(host)
    ):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"Only an http:// proxy is supported for the AI API, not {proxy!r}")
    headers: tuple[tuple[str, str], ...] = ()
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        token = base64.b64encode(credentials.encode()).decode()
        headers = (("Proxy-Authorization", f"Basic {token}"),)
    return _Route(
        host=parts.hostname,
        port=parts.port or 80,
        tunnel=scheme == "https",
        absolute=scheme == "http",
        proxy_headers=headers,
    )


class JSONClient:
    """POSTs JSON to paths under `base_url`. Thread-safe: each thread has its own connection,
    opened on its first request and kept alive."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        connect_timeout: float,
        headers: dict[str, str],
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"The AI API's address must be an http(s) URL, not {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = self._port == (443 if parts.scheme == "https" else 80)
        self._authority = self._host if default_port else f"{self._host}:{self._port}"
        if ":" in self._host:  # an IPv6 literal
            self._authority = f"[{self._host}]" + ("" if default_port else f":{self._port}")
        self._origin = f"{self._scheme}://{self._authority}"
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Accept-Encoding": "identity",
        }
        self._headers.update(headers)
        self._route = _proxy_route(self._scheme, self._host, self._port) or _Route(
            host=self._host, port=self._port
        )
        if self._route.absolute:
            # Each request through a plain proxy carries the proxy's credentials.
            self._headers.update(self._route.proxy_headers)
        for name, value in self._headers.items():
            _header_check(name, value)
        self._ssl = ssl.create_default_context() if self._scheme == "https" else None
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self._origin}{self._prefix}/{path.lstrip('/')}"

    def post(self, path: str, body: bytes) -> Response:
        """POST `body` to `path` under the base URL; the answer, whatever its status."""
        target = f"{self._prefix}/{path.lstrip('/')}"
        url = self.url(path)
        with tracing.http_client_span("POST", url) as span:
            headers = dict(self._headers)
            headers.update(span.headers)
            connection = self._connection()
            try:
                lines = [
                    f"POST {url if self._route.absolute else target} HTTP/1.1",
                    f"Host: {self._authority}",
                    f"Content-Length: {len(body)}",
                    *(f"{name}: {value}" for name, value in headers.items()),
                ]
                assert connection.sock is not None
                connection.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
                response, will_close = _read_response(self._reader(connection))
            except BaseException:
                self._discard(connection)
                raise
            if will_close:
                self._discard(connection)
            span.finish(status=response.status)
            return response

    def close(self) -> None:
        """Close every thread's connection (each reopens on its next request)."""
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            _close(connection)

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and (connection.sock is None or _closed_by_peer(connection)):
            self._discard(connection)  # closed by `close()`, or by the server while idle
            connection = None
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
            with self._lock:
                self._open.add(connection)
        return connection

    def _connect(self) -> http.client.HTTPConnection:
        route = self._route
        connection: http.client.HTTPConnection
        if self._ssl is not None:
            connection = http.client.HTTPSConnection(
                route.host, route.port, timeout=self._connect_timeout, context=self._ssl
            )
        else:
            connection = http.client.HTTPConnection(
                route.host, route.port, timeout=self._connect_timeout
            )
        if route.tunnel:
            connection.set_tunnel(self._host, self._port, headers=dict(route.proxy_headers))
        connection.connect()
        assert connection.sock is not None
        # Connected: from now on each send and each read may take `timeout`.
        connection.sock.settimeout(self._timeout)
        return connection

    def _reader(self, connection: http.client.HTTPConnection) -> BinaryIO:
        """The connection's buffered reader (made once; closed with it by `_discard`)."""
        reader: BinaryIO | None = getattr(connection, "_taskscore_reader", None)
        if reader is None:
            assert connection.sock is not None
            reader = connection.sock.makefile("rb")
            connection._taskscore_reader = reader  # type: ignore[attr-defined]
        return reader

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        _close(connection)
        with self._lock:
            self._open.discard(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection became readable: the server closed it (or sent
    something unasked), so a request on it would fail or read the wrong answer."""
    assert connection.sock is not None
    poller = select.poll()  # not select(): a worker may hold more than 1,024 descriptors
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


def _close(connection: http.client.HTTPConnection) -> None:
    reader: BinaryIO | None = getattr(connection, "_taskscore_reader", None)
    if reader is not None:
        with contextlib.suppress(OSError):
            reader.close()  # the socket's file stays open while a reader holds it
    connection.close()


def _header_check(name: str, value: str) -> None:
    """Refuse a header that would split the request (as http.client refuses it)."""
    if any(c in name for c in ":\r\n") or any(c in value for c in "\r\n\0"):
        raise ValueError(f"Invalid HTTP header {name!r}")


def _line(reader: BinaryIO) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def _read_response(reader: BinaryIO) -> tuple[Response, bool]:
    """One answer from `reader`, and whether the connection ends with it."""
    while True:
        status_line = _line(reader)
        if not status_line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        try:
            version, code, *_ = status_line.decode("latin-1").split(None, 2)
            status = int(code)
        except ValueError:
            raise http.client.BadStatusLine(repr(status_line)) from None
        if not version.startswith("HTTP/1.") or not 100 <= status <= 999:
            raise http.client.BadStatusLine(repr(status_line))
        headers: dict[str, str] = {}
        while True:
            line = _line(reader)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed the connection in a header")
            if len(headers) >= _MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise http.client.HTTPException(f"malformed header line {line!r}")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if status != 100:  # `100 Continue`: the real answer follows
            break
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    will_close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(reader)
    elif "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise http.client.HTTPException("invalid Content-Length") from None
        if not 0 <= length <= _MAX_BODY:
            raise http.client.HTTPException(f"Content-Length {length} out of bounds")
        body = reader.read(length)
        if len(body) != length:
            raise http.client.IncompleteRead(body, length - len(body))
    else:  # framed by the end of the connection
        body = reader.read(_MAX_BODY + 1)
        if len(body) > _MAX_BODY:
            raise http.client.HTTPException("answer too large")
        will_close = True
    return Response(status, headers, body), will_close


def _read_chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        line = _line(reader)
        try:
            chunk = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(parts)) from None
        if chunk == 0:
            break
        size += chunk
        if size > _MAX_BODY:
            raise http.client.HTTPException("answer too large")
        data = reader.read(chunk + 2)  # the chunk and its CRLF
        if len(data) != chunk + 2:
            raise http.client.IncompleteRead(b"".join(parts) + data[:chunk])
        parts.append(data[:chunk])
    while _line(reader) not in (b"\r\n", b"\n", b""):  # trailers, then the blank line
        pass
    return b"".join(parts)
