"""The AI provider's HTTP client (`transport.JSONClient`) over loopback: kept-alive connections,
a connection the server closed, proxies from the environment and TLS through a CONNECT tunnel."""

from __future__ import annotations

import base64
import http.client
import json
import select
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from taskscore.integrations.ai.transport import JSONClient


class _Origin(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 server that echoes each POST's JSON with the connection it came on; with
    `close_after_answer`, it closes each connection a moment after answering (as a server does
    with idle kept-alive connections), without announcing it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, close_after_answer: bool = False) -> None:
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.close_after_answer = close_after_answer
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _OriginHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Origin

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1
            self.connection_number = self.server.connections

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        seen = {
            "path": self.path,
            "connection": self.connection_number,
            "body": body,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }
        with self.server.lock:
            self.server.requests.append(seen)
        answer = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()
        if self.server.close_after_answer:
            time.sleep(0.05)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[_Origin]:
    server = _Origin()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(base_url: str, **headers: str) -> JSONClient:
    return JSONClient(base_url, timeout=2.0, connect_timeout=2.0, headers=headers)


def _post(client: JSONClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post("chat/completions", json.dumps(payload).encode())
    assert response.status == 200, response.body
    answer: dict[str, Any] = json.loads(response.body)
    return answer


def test_a_thread_reuses_its_connection_and_each_thread_has_its_own(origin: _Origin) -> None:
    client = _client(f"http://127.0.0.1:{origin.port}/v1", Authorization="Bearer k")
    try:
        answers = [_post(client, {"n": n}) for n in range(3)]
        assert {a["connection"] for a in answers} == {1}
        assert [a["body"] for a in answers] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert answers[0]["path"] == "/v1/chat/completions"
        assert answers[0]["headers"]["authorization"] == "Bearer k"
        assert answers[0]["headers"]["content-type"] == "application/json"

        other: list[dict[str, Any]] = []
        thread = threading.Thread(target=lambda: other.extend(_post(client, {}) for _ in range(2)))
        thread.start()
        thread.join()
        assert {a["connection"] for a in other} == {2}
        assert origin.connections == 2
    finally:
        client.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_not_failed(
    origin: _Origin,
) -> None:
    origin.close_after_answer = True
    client = _client(f"http://127.0.0.1:{origin.port}/v1")
    try:
        first = _post(client, {"n": 1})
        time.sleep(0.3)  # the server has closed the connection meanwhile
        second = _post(client, {"n": 2})
        assert (first["connection"], second["connection"]) == (1, 2)
        # each request sent once
        assert [r["body"] for r in origin.requests] == [{"n": 1}, {"n": 2}]
    finally:
        client.close()


def test_close_closes_every_threads_connection_and_the_next_request_reopens(
    origin: _Origin,
) -> None:
    client = _client(f"http://127.0.0.1:{origin.port}/v1")
    try:
        _post(client, {})
        client.close()
        assert _post(client, {})["connection"] == 2
    finally:
        client.close()


# ------------------------------------------------------------------------------ proxies


class _Proxy(socketserver.ThreadingTCPServer):
    """A forward proxy: CONNECT tunnels bytes both ways; a request in absolute form is sent on to
    its origin (one request per upstream connection) and the answer relayed. Records each
    request line and its Proxy-Authorization."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://user:p%40ss@127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: _Proxy

    def handle(self) -> None:
        while True:
            line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                return
            headers: dict[str, str] = {}
            while (header := self.rfile.readline().decode("latin-1").rstrip("\r\n")) != "":
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.server.seen.append((line, headers.get("proxy-authorization", "")))
            method, target, _ = line.split(" ", 2)
            if method == "CONNECT":
                self._tunnel(target)
                return
            self._forward(method, target, headers)

    def _tunnel(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        ends = [self.connection, upstream]
        try:
            while True:
                readable, _, _ = select.select(ends, [], [], 5)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def _forward(self, method: str, target: str, headers: dict[str, str]) -> None:
        import http.client
        from urllib.parse import urlsplit

        body = self.rfile.read(int(headers.get("content-length", "0")))
        url = urlsplit(target)
        upstream = http.client.HTTPConnection(url.hostname or "", url.port or 80, timeout=5)
        sent = {k: v for k, v in headers.items() if k not in ("proxy-authorization", "host")}
        upstream.request(method, url.path, body=body, headers=sent)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        self.wfile.write(f"HTTP/1.1 {answer.status} {answer.reason}\r\n".encode())
        self.wfile.write(b"Content-Type: application/json\r\n")
        self.wfile.write(f"Content-Length: {len(data)}\r\n\r\n".encode())
        self.wfile.write(data)
        self.wfile.flush()


@pytest.fixture
def proxy() -> Iterator[_Proxy]:
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_a_plain_origin_is_reached_through_the_environments_http_proxy(
    origin: _Origin, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    client = _client(f"http://127.0.0.1:{origin.port}/v1")
    try:
        assert _post(client, {"via": "proxy"})["body"] == {"via": "proxy"}
        assert _post(client, {"again": True})["body"] == {"again": True}
    finally:
        client.close()
    target = f"http://127.0.0.1:{origin.port}/v1/chat/completions"
    assert proxy.seen == [(f"POST {target} HTTP/1.1", _basic("user:p@ss"))] * 2


def test_no_proxy_names_an_origin_reached_directly(
    origin: _Origin, proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = _client(f"http://127.0.0.1:{origin.port}/v1")
    try:
        _post(client, {})
    finally:
        client.close()
    assert proxy.seen == []
    assert len(origin.requests) == 1


def test_a_proxy_other_than_http_is_refused_with_its_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(ValueError, match=r"socks5://127\.0\.0\.1:1080"):
        _client("https://api.example.test/v1")


@pytest.fixture
def tls_origin(origin: _Origin, tmp_path: Path) -> tuple[_Origin, Path]:
    """`origin` behind TLS with a certificate for 127.0.0.1 made for the test; its path."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    origin.socket = context.wrap_socket(origin.socket, server_side=True)
    return origin, cert


def test_tls_is_verified_against_the_configured_authorities(
    tls_origin: tuple[_Origin, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, cert = tls_origin
    _no_proxy_env(monkeypatch)
    url = f"https://127.0.0.1:{origin.port}/v1"
    untrusted = _client(url)
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusted.post("chat/completions", b"{}")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    trusted = _client(url)
    try:
        assert _post(trusted, {"tls": True})["body"] == {"tls": True}
    finally:
        trusted.close()


def test_an_https_origin_is_reached_through_a_connect_tunnel(
    tls_origin: tuple[_Origin, Path], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, cert = tls_origin
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    client = _client(f"https://127.0.0.1:{origin.port}/v1")
    try:
        answers = [_post(client, {"n": n}) for n in range(2)]
    finally:
        client.close()
    # one tunnel, kept alive, with the proxy's credentials; the requests inside it in TLS
    assert proxy.seen == [(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.0", _basic("user:p@ss"))]
    assert [a["connection"] for a in answers] == [1, 1]
    assert answers[0]["path"] == "/v1/chat/completions"


# ------------------------------------------------------------------------------ framing


class _Scripted:
    """A server on loopback that answers each request with the next of `answers` (raw bytes),
    closing the connection after an answer marked so; records how many connections came."""

    def __init__(self, answers: list[tuple[bytes, bool]]) -> None:
        self.answers = list(answers)
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as reader:
                while self.answers:
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = reader.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    length = next(
                        int(h.split(b":")[1]) for h in head.split(b"\r\n")
                        if h.lower().startswith(b"content-length")
                    )  # fmt: skip
                    reader.read(length)
                    answer, close = self.answers.pop(0)
                    conn.sendall(answer)
                    if close:
                        break

    def close(self) -> None:
        self.listener.close()


def _scripted(answers: list[tuple[bytes, bool]]) -> tuple[_Scripted, JSONClient]:
    server = _Scripted(answers)
    return server, _client(f"http://127.0.0.1:{server.port}/v1")


def test_answers_are_read_by_length_in_chunks_and_after_a_100_continue() -> None:
    server, client = _scripted(
        [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX-A: 1\r\nx-a: 2\r\n\r\n{\"a\":1}", False),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"4;ext=1\r\n{\"b\"\r\n3\r\n:2}\r\n0\r\nX-Trailer: t\r\n\r\n", False),
            (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nContent-Length: 2\r\n"
             b"Retry-After: 3\r\n\r\n{}", False),
        ]
    )  # fmt: skip
    try:
        first = client.post("x", b"{}")
        chunked = client.post("x", b"{}")
        limited = client.post("x", b"{}")
    finally:
        client.close()
        server.close()

    assert (first.status, first.body, first.headers["x-a"]) == (200, b'{"a":1}', "1, 2")
    assert (chunked.status, chunked.body) == (200, b'{"b":2}')
    assert (limited.status, limited.headers["retry-after"], limited.body) == (429, "3", b"{}")
    assert server.connections == 1  # all three on one kept-alive connection


def test_an_answer_that_ends_its_connection_is_not_followed_on_it() -> None:
    server, client = _scripted(
        [
            (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", True),
            (b"HTTP/1.0 200 OK\r\n\r\n{\"to the end\":1}", True),  # framed by the close
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", False),
        ]
    )  # fmt: skip
    try:
        assert client.post("x", b"{}").body == b"{}"
        assert client.post("x", b"{}").body == b'{"to the end":1}'
        assert client.post("x", b"{}").status == 200
    finally:
        client.close()
        server.close()

    assert server.connections == 3


def test_a_server_that_closes_without_answering_or_mid_answer_is_an_error() -> None:
    server, client = _scripted(
        [
            (b"", True),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", True),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", False),
        ]
    )
    try:
        with pytest.raises(http.client.RemoteDisconnected):
            client.post("x", b"{}")
        with pytest.raises(http.client.IncompleteRead):
            client.post("x", b"{}")
        assert client.post("x", b"{}").body == b"{}"  # a new connection after each failure
    finally:
        client.close()
        server.close()


def test_a_header_that_would_split_the_request_is_refused() -> None:
    with pytest.raises(ValueError, match="Invalid HTTP header"):
        _client("http://127.0.0.1:9/v1", Authorization="Bearer x\r\nX-Injected: 1")
