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
"""

from __future__ import annotations

import base64
import http.client
import select
import ssl
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from taskscore.core import tracing

__all__ = ["JSONClient", "Response"]


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
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self._headers.update(headers)
        self._route = _proxy_route(self._scheme, self._host, self._port) or _Route(
            host=self._host, port=self._port
        )
        if self._route.absolute:
            # Each request through a plain proxy carries the proxy's credentials.
            self._headers.update(self._route.proxy_headers)
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
                connection.request(
                    "POST", url if self._route.absolute else target, body=body, headers=headers
                )
                answer = connection.getresponse()
                headers_in = {name.lower(): value for name, value in answer.getheaders()}
                response = Response(answer.status, headers_in, answer.read())
            except BaseException:
                self._discard(connection)
                raise
            if answer.will_close:
                self._discard(connection)
            span.finish(status=response.status)
            return response

    def close(self) -> None:
        """Close every thread's connection (each reopens on its next request)."""
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is not None and _closed_by_peer(connection):
            self._discard(connection)
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

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
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
