from __future__ import annotations

from collections.abc import Iterator

import pytest

from taskscore.integrations.ai.base import AIConfig
from taskscore.integrations.ai.openai_provider import OpenAIProvider
from taskscore.integrations.ai.providers import clear_provider_cache, provider_from_config

OPENAI = AIConfig(provider="openai", model="gpt-fake", base_url="http://127.0.0.1:9/v1")


@pytest.fixture(autouse=True)
def _fresh_providers() -> Iterator[None]:
    clear_provider_cache()
    yield
    clear_provider_cache()


def test_openai_config_gives_one_shared_openai_provider() -> None:
    provider = provider_from_config(OPENAI)
    assert isinstance(provider, OpenAIProvider)
    assert (provider.name, provider.model) == ("openai", "gpt-fake")
    assert provider_from_config(AIConfig(**vars(OPENAI))) is provider


def test_a_different_config_gives_a_different_provider() -> None:
    other = AIConfig(
        provider="openai", model="gpt-fake", base_url=OPENAI.base_url, timeout_seconds=5
    )
    assert provider_from_config(other) is not provider_from_config(OPENAI)


def test_local_config_gives_the_trained_judge() -> None:
    from taskscore.integrations.ai.judge.provider import JudgeProvider

    provider = provider_from_config(AIConfig(provider="local", model=""))
    assert isinstance(provider, JudgeProvider)
    assert provider.name == "local"


def test_local_anchor_config_gives_anchor_similarity() -> None:
    from taskscore.integrations.ai.local_provider import AnchorSimilarityProvider

    provider = provider_from_config(AIConfig(provider="local-anchor", model=""))
    assert isinstance(provider, AnchorSimilarityProvider)
    assert provider.name == "local-anchor"


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown AI provider 'gemini'"):
        provider_from_config(AIConfig(provider="gemini", model="x"))
