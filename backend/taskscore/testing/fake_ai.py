"""A fake OpenAI-compatible chat-completions server on loopback, for tests and benchmarks.

It answers `POST /v1/chat/completions` (and `/chat/completions`) in the OpenAI response shape.
The content is `{"rating": r, "rationale": "..."}` with `r = expected_rating(user message)`, so
tests can predict it. Faults: a latency range, a script of behaviours consumed one per request,
and a seeded random failure rate. The request's `response_format` is accepted (any shape) and
recorded, not enforced.

Request log: the last `REQUEST_LOG_SIZE` completion requests that carried a user message, oldest
first, each a `FakeAIRequest` dict: `model`, `messages` (each `role` and `content` as sent),
`system` (the first system message's content, "" if none), `user` (the last user message's
content), `response_format` (as sent, None if absent) and `behaviour` (the scripted or drawn
answer). `reset()` clears it.

Script behaviours:
    "ok"                 a normal completion
    "429" / "429:<v>"    429 Too Many Requests with `Retry-After: <v>` (default: `retry_after`)
    "500", "503", "400"  that status with an OpenAI-style error body
    "malformed"          200 whose body is not JSON
    "nonsense"           a valid completion whose content is prose with an out-of-range rating
    "content:<text>"     a valid completion whose content is exactly <text>
    "hang"               no answer until `hang_seconds` pass or the server stops

In-process:
    with FakeAIServer(latency=(0, 0)) as server:
        server.url            # "http://127.0.0.1:PORT/v1"
        server.script(["429", "ok"])
        server.stats().calls
        server.requests()[-1]["response_format"]

As a process (control endpoints `GET /_control/stats`, `GET /_control/requests` (the request log
as a JSON list), `POST /_control/script` with a JSON list, `POST /_control/reset`,
`POST /_control/config` with `latency` and/or `fail_rate`):
    python -m taskscore.testing.fake_ai --port 8099 --latency 0.2:2.0 --fail-rate 0.1 --seed 1
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import random
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypedDict

__all__ = [
    "REQUEST_LOG_SIZE",
    "FakeAIRequest",
    "FakeAIServer",
    "FakeAIStats",
    "count_tokens",
    "expected_content",
    "expected_rating",
    "main",
]

_COMPLETION_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
REQUEST_LOG_SIZE = 1000
_NONSENSE = "I would rate this task 42 out of 10, because it is extremely important to everyone!"


def expected_rating(user_content: str) -> int:
    """The rating the server gives a request whose (last) user message is `user_content`."""
    return int(hashlib.sha256(user_content.encode("utf-8")).hexdigest(), 16) % 11


def expected_content(user_content: str) -> str:
    """The completion content the server returns for `user_content` on an "ok" answer."""
    rating = expected_rating(user_content)
    digest = _prompt_id(user_content)[:8]
    rationale = f"Fake assessment {digest}: rated {rating} of 10."
    return json.dumps({"rating": rating, "rationale": rationale})


def count_tokens(text: str) -> int:
    """The server's token count for a text: one token per started 4 characters, at least 1."""
    return max(1, math.ceil(len(text) / 4))


@dataclass(frozen=True)
class FakeAIStats:
    """What the server has seen since it started or was last reset."""

    calls: int  # completion requests, faulty ones included
    unique_prompts: int  # distinct user messages
    max_calls_per_prompt: int
    in_flight: int
    peak_in_flight: int
    by_behaviour: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FakeAIRequest(TypedDict):
    """One logged completion request (see the module docstring)."""

    model: str
    messages: list[dict[str, Any]]
    system: str
    user: str
    response_format: Any
    authorization: str  # the Authorization header as sent
    traceparent: str  # the W3C trace context header as sent (tracing on), else ""
    behaviour: str


@dataclass
class _Config:
    latency: tuple[float, float]
    fail_rate: float
    retry_after: str
    hang_seconds: float


class _State:
    """Configuration, script and counters, shared by the handler threads under one lock. The
    lock is never held while a request sleeps."""

    def __init__(self, config: _Config, seed: int) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.config = config
        self.random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self.script: deque[str] = deque()
        self.calls = 0
        self.per_prompt: Counter[str] = Counter()
        self.by_behaviour: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.requests: deque[FakeAIRequest] = deque(maxlen=REQUEST_LOG_SIZE)

    def begin(
        self, user_content: str | None, request: dict[str, Any] | None = None
    ) -> tuple[str, float]:
        """Count a request (and log it, when it is a well-formed `request`); its behaviour and
        latency."""
        with self.lock:
            self.calls += 1
            if user_content is not None:
                self.per_prompt[_prompt_id(user_content)] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            if self.script:
                behaviour = self.script.popleft()
            elif self.config.fail_rate > 0 and self.random.random() < self.config.fail_rate:
                behaviour = self.random.choice(["500", "429"])
            else:
                behaviour = "ok"
            self.by_behaviour[behaviour.split(":", 1)[0]] += 1
            if request is not None and user_content is not None:
                self.requests.append(_logged(request, user_content, behaviour))
            low, high = self.config.latency
            delay = self.random.uniform(low, high) if high > 0 else 0.0
            return behaviour, delay

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def stats(self) -> FakeAIStats:
        with self.lock:
            return FakeAIStats(
                calls=self.calls,
                unique_prompts=len(self.per_prompt),
                max_calls_per_prompt=max(self.per_prompt.values(), default=0),
                in_flight=self.in_flight,
                peak_in_flight=self.peak_in_flight,
                by_behaviour=dict(self.by_behaviour),
            )

    def calls_for(self, user_content: str) -> int:
        with self.lock:
            return self.per_prompt[_prompt_id(user_content)]

    def logged_requests(self) -> list[FakeAIRequest]:
        with self.lock:
            return copy.deepcopy(list(self.requests))

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.script.clear()
            self.calls = 0
            self.per_prompt.clear()
            self.by_behaviour.clear()
            self.peak_in_flight = self.in_flight

    def add_script(self, behaviours: Iterable[str]) -> None:
        items = [str(b) for b in behaviours]
        for item in items:
            _check_behaviour(item)
        with self.lock:
            self.script.extend(items)

    def configure(
        self,
        *,
        latency: tuple[float, float] | None = None,
        fail_rate: float | None = None,
        seed: int | None = None,
    ) -> None:
        with self.lock:
            if latency is not None:
                self.config.latency = _check_latency(latency)
            if fail_rate is not None:
                self.config.fail_rate = _check_fail_rate(fail_rate)
            if seed is not None:
                self.random.seed(seed)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse pooled connections
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    timeout = 120  # idle keep-alive connections release their thread eventually
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: hundreds of requests a second would flood the test output."""

    def do_GET(self) -> None:
        if self.path == "/_control/stats":
            self._send_json(200, self.server.state.stats().as_dict())
        elif self.path == "/_control/requests":
            self._send_json(200, self.server.state.logged_requests())
        else:
            self._send_error(404, "not found", "not_found_error")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path in _COMPLETION_PATHS:
            self._completion(body)
            return
        try:
            payload = json.loads(body) if body else None
            if self.path == "/_control/script":
                if not isinstance(payload, list):
                    raise ValueError("expected a JSON list of behaviours")
                self.server.state.add_script(payload)
            elif self.path == "/_control/reset":
                self.server.state.reset()
            elif self.path == "/_control/config":
                if not isinstance(payload, dict):
                    raise ValueError("expected a JSON object")
                latency = payload.get("latency")
                self.server.state.configure(
                    latency=None if latency is None else _parse_latency(latency),
                    fail_rate=None if payload.get("fail_rate") is None else payload["fail_rate"],
                    seed=payload.get("seed"),
                )
            else:
                self._send_error(404, "not found", "not_found_error")
                return
        except (ValueError, TypeError) as exc:
            self._send_error(400, str(exc), "invalid_request_error")
            return
        self._send_json(200, {"ok": True})

    def _completion(self, body: bytes) -> None:
        state = self.server.state
        try:
            request = json.loads(body)
            messages = request["messages"]
            model = str(request.get("model") or "fake-model")
            user_content = next(
                str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"
            )
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            state.begin(None)
            state.end()
            self._send_error(400, "fake: the request has no user message", "invalid_request_error")
            return
        # The credential the client sent, for a test to check (the request log is in memory).
        request["authorization"] = self.headers.get("Authorization", "")
        request["traceparent"] = self.headers.get("traceparent", "")
        behaviour, delay = state.begin(user_content, request)
        try:
            if state.stopping.wait(delay):
                self.close_connection = True
                return
            self._answer(behaviour, model, messages, user_content)
        finally:
            state.end()

    def _answer(
        self, behaviour: str, model: str, messages: list[dict[str, Any]], user_content: str
    ) -> None:
        kind, _, argument = behaviour.partition(":")
        if kind == "ok":
            self._send_completion(model, messages, expected_content(user_content))
        elif kind == "content":
            self._send_completion(model, messages, argument)
        elif kind == "nonsense":
            self._send_completion(model, messages, _NONSENSE)
        elif kind == "malformed":
            self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")
        elif kind == "429":
            retry_after = argument or self.server.state.config.retry_after
            self._send_error(
                429, "fake: rate limited", "rate_limit_exceeded", {"Retry-After": retry_after}
            )
        elif kind in {"500", "503"}:
            self._send_error(int(kind), f"fake: scripted {kind}", "server_error")
        elif kind == "400":
            self._send_error(400, "fake: scripted bad request", "invalid_request_error")
        elif kind == "hang":
            self.server.state.stopping.wait(self.server.state.config.hang_seconds)
            self.close_connection = True
        else:  # unreachable: behaviours are checked when scripted
            self._send_error(500, f"fake: unknown behaviour {behaviour!r}", "server_error")

    def _send_completion(self, model: str, messages: list[dict[str, Any]], content: str) -> None:
        prompt_tokens = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        completion_tokens = count_tokens(content)
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def _send_error(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        error = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        self._send_json(status, error, headers)

    def _send_json(
        self, status: int, payload: object, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, json.dumps(payload).encode("utf-8"), "application/json", headers)

    def _send_raw(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connection bursts (hundreds of concurrent clients).
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        self.state = state
        super().__init__(address, _Handler)


class FakeAIServer:
    """The fake server in a background thread. Use as a context manager or `start()`/`stop()`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: tuple[float, float] = (0.0, 0.0),
        fail_rate: float = 0.0,
        seed: int = 0,
        retry_after: float = 1,
        hang_seconds: float = 600.0,
    ) -> None:
        config = _Config(
            latency=_check_latency(latency),
            fail_rate=_check_fail_rate(fail_rate),
            retry_after=f"{retry_after:g}",
            hang_seconds=hang_seconds,
        )
        self._state = _State(config, seed)
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeAIServer:
        """Bind and serve in a daemon thread."""
        self._state.stopping.clear()
        self._server = _Server(self._address, self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-ai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging and sleeping requests end without an answer."""
        self._state.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake AI server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The OpenAI base URL, e.g. "http://127.0.0.1:PORT/v1"."""
        return f"http://{self._address[0]}:{self.port}/v1"

    def script(self, behaviours: Sequence[str]) -> None:
        """Queue behaviours for the next requests, one each (see the module docstring)."""
        self._state.add_script(behaviours)

    def configure(
        self,
        *,
        latency: tuple[float, float] | None = None,
        fail_rate: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Change the latency range, the random failure rate or reseed the fault generator."""
        self._state.configure(latency=latency, fail_rate=fail_rate, seed=seed)

    def stats(self) -> FakeAIStats:
        return self._state.stats()

    def calls_for(self, user_content: str) -> int:
        """How many completion requests had `user_content` as their user message."""
        return self._state.calls_for(user_content)

    def requests(self) -> list[FakeAIRequest]:
        """The request log, oldest first (a copy; see the module docstring)."""
        return self._state.logged_requests()

    def reset(self) -> None:
        """Clear the counters, the script and the request log (the configuration stays)."""
        self._state.reset()


def _logged(request: dict[str, Any], user_content: str, behaviour: str) -> FakeAIRequest:
    messages = [
        {"role": str(m.get("role") or ""), "content": m.get("content")}
        for m in request["messages"]
        if isinstance(m, dict)
    ]
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    return FakeAIRequest(
        model=str(request.get("model") or ""),
        messages=messages,
        system=str(system or ""),
        user=user_content,
        response_format=request.get("response_format"),
        authorization=str(request.get("authorization") or ""),
        traceparent=str(request.get("traceparent") or ""),
        behaviour=behaviour,
    )


def _prompt_id(user_content: str) -> str:
    return hashlib.sha256(user_content.encode("utf-8")).hexdigest()


def _check_behaviour(behaviour: str) -> None:
    kind = behaviour.partition(":")[0]
    if kind not in {"ok", "429", "500", "503", "400", "malformed", "nonsense", "content", "hang"}:
        raise ValueError(f"unknown fake AI behaviour {behaviour!r}")


def _check_latency(latency: tuple[float, float]) -> tuple[float, float]:
    low, high = float(latency[0]), float(latency[1])
    if not 0 <= low <= high:
        raise ValueError(f"latency must be 0 <= min <= max, got {latency!r}")
    return low, high


def _check_fail_rate(fail_rate: float) -> float:
    rate = float(fail_rate)
    if not 0 <= rate <= 1:
        raise ValueError(f"fail_rate must be within [0, 1], got {fail_rate!r}")
    return rate


def _parse_latency(value: object) -> tuple[float, float]:
    """A latency from "0.2:2.0", "0.5" or a [min, max] list."""
    if isinstance(value, str):
        low, _, high = value.partition(":")
        return _check_latency((float(low), float(high or low)))
    if isinstance(value, list | tuple) and len(value) == 2:
        return _check_latency((float(value[0]), float(value[1])))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _check_latency((float(value), float(value)))
    raise ValueError(f"latency must be 'min:max' or [min, max], got {value!r}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=_parse_latency, default=(0.0, 0.0), help="min:max s")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="0..1, a 500/429 mix")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=1.0, help="seconds, on a 429")
    args = parser.parse_args(argv)
    config = _Config(
        latency=args.latency,
        fail_rate=_check_fail_rate(args.fail_rate),
        retry_after=f"{args.retry_after:g}",
        hang_seconds=600.0,
    )
    state = _State(config, args.seed)
    server = _Server((args.host, args.port), state)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
