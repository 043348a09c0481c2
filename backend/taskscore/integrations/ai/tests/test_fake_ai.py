"""The fake OpenAI server itself: its shape, faults, stats, concurrency and process mode."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from taskscore.testing.fake_ai import FakeAIServer, expected_content, expected_rating

BACKEND_DIR = Path(__file__).resolve().parents[4]


def _post(
    port: int, path: str, payload: object, connection: http.client.HTTPConnection | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"}
    )
    response = conn.getresponse()
    body = response.read()
    if connection is None:
        conn.close()
    return response.status, dict(response.getheaders()), body


def _completion_request(user_content: str) -> dict[str, Any]:
    return {
        "model": "gpt-fake",
        "messages": [
            {"role": "system", "content": "Rate it."},
            {"role": "user", "content": user_content},
        ],
    }


def test_answers_in_the_openai_shape_with_a_predictable_rating() -> None:
    with FakeAIServer() as server:
        status, headers, body = _post(server.port, "/v1/chat/completions", _completion_request("x"))
    completion = json.loads(body)
    assert status == 200
    assert headers["Content-Length"] == str(len(body))
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "gpt-fake"
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["choices"][0]["message"]["content"] == expected_content("x")
    assert json.loads(expected_content("x"))["rating"] == expected_rating("x")
    assert set(completion["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with FakeAIServer() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        statuses = [
            _post(server.port, "/chat/completions", _completion_request(str(i)), conn)[0]
            for i in range(3)
        ]
        conn.close()
        stats = server.stats()
    assert statuses == [200, 200, 200]
    assert (stats.calls, stats.unique_prompts) == (3, 3)


def test_the_random_failure_rate_is_reproducible_with_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        with FakeAIServer(fail_rate=0.5, seed=seed) as server:
            return [
                _post(server.port, "/v1/chat/completions", _completion_request("x"))[0]
                for _ in range(20)
            ]

    first = statuses(1)
    assert first == statuses(1)
    assert set(first) == {200, 429, 500}


def test_hundreds_of_concurrent_requests_wait_in_parallel() -> None:
    with FakeAIServer(latency=(0.3, 0.3)) as server:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=200) as pool:
            results = list(
                pool.map(
                    lambda i: _post(
                        server.port, "/v1/chat/completions", _completion_request(f"t{i % 50}")
                    )[0],
                    range(200),
                )
            )
        elapsed = time.monotonic() - started
        stats = server.stats()
    assert results == [200] * 200
    assert elapsed < 2.0
    assert (stats.calls, stats.unique_prompts, stats.max_calls_per_prompt) == (200, 50, 4)
    assert stats.peak_in_flight > 100


def test_reset_clears_counters_and_script() -> None:
    with FakeAIServer() as server:
        server.script(["500", "500"])
        _post(server.port, "/v1/chat/completions", _completion_request("x"))
        server.reset()
        status = _post(server.port, "/v1/chat/completions", _completion_request("x"))[0]
        assert status == 200
        assert server.stats().calls == 1


def test_unknown_behaviours_are_refused() -> None:
    with FakeAIServer() as server, pytest.raises(ValueError, match="unknown fake AI behaviour"):
        server.script(["teapot"])


def test_runs_as_a_process_with_control_endpoints() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "taskscore.testing.fake_ai", "--port", "0", "--latency", "0:0"],
        cwd=BACKEND_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])

        assert _post(port, "/_control/script", ["503"])[0] == 200
        assert _post(port, "/_control/config", {"latency": "0:0", "fail_rate": 0})[0] == 200
        assert _post(port, "/v1/chat/completions", _completion_request("a"))[0] == 503
        assert _post(port, "/v1/chat/completions", _completion_request("a"))[0] == 200

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/_control/stats")
        stats = json.loads(conn.getresponse().read())
        conn.close()
        assert (stats["calls"], stats["unique_prompts"]) == (2, 1)
        assert stats["by_behaviour"] == {"503": 1, "ok": 1}

        assert _post(port, "/_control/reset", None)[0] == 200
        assert _post(port, "/_control/script", {"not": "a list"})[0] == 400
    finally:
        process.terminate()
        process.wait(timeout=5)
