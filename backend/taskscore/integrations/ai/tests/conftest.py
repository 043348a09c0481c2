"""Fixtures for the AI integration tests: the fake OpenAI server on loopback, providers pointed
at it, and the real Redis under a key prefix unique to each test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskscore.integrations.ai.base import AIConfig
from taskscore.integrations.ai.openai_provider import OpenAIProvider
from taskscore.testing.fake_ai import FakeAIServer

PRICE_INPUT_PER_MTOK = 0.15
PRICE_OUTPUT_PER_MTOK = 0.60

MakeProvider = Callable[..., OpenAIProvider]


@pytest.fixture
def ai_server() -> Iterator[FakeAIServer]:
    with FakeAIServer(latency=(0.0, 0.0)) as server:
        yield server


@pytest.fixture
def make_provider(ai_server: FakeAIServer) -> Iterator[MakeProvider]:
    """Builds `OpenAIProvider`s against the fake server; closes them at teardown."""
    built: list[OpenAIProvider] = []

    def make(*, timeout_seconds: float = 2.0, model: str = "gpt-fake") -> OpenAIProvider:
        provider = OpenAIProvider(
            AIConfig(
                provider="openai",
                model=model,
                base_url=ai_server.url,
                api_key="sk-test",
                timeout_seconds=timeout_seconds,
                price_input_per_mtok=PRICE_INPUT_PER_MTOK,
                price_output_per_mtok=PRICE_OUTPUT_PER_MTOK,
            )
        )
        built.append(provider)
        return provider

    yield make
    for provider in built:
        provider.close()


@pytest.fixture
def redis_client() -> Iterator[Redis]:
    # No client-side retries: a test failure should show at once, not after backoff.
    client = Redis(
        host="127.0.0.1",
        port=6379,
        socket_connect_timeout=1,
        socket_timeout=2,
        retry=Retry(NoBackoff(), 0),
    )
    client.ping()
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client: Redis) -> Iterator[str]:
    """A key prefix unique to the test; its keys are deleted afterwards."""
    prefix = f"test-ai-{uuid.uuid4().hex}"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}:*"))
    if keys:
        redis_client.delete(*keys)
