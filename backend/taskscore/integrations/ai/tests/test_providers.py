from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskscore.integrations.ai.base import AIConfig
from taskscore.integrations.ai.openai_provider import OpenAIProvider
from taskscore.integrations.ai.providers import clear_provider_cache, provider_from_config

BACKEND = Path(__file__).resolve().parents[4]
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


def test_a_starting_worker_imports_the_configured_provider_before_any_job() -> None:
    # given a fresh process with the Celery app loaded, configured for the OpenAI provider
    script = (
        "import sys\n"
        "from celery import signals\n"
        "from config.celery import app\n"
        "module = 'taskscore.integrations.ai.openai_provider'\n"
        "before = module in sys.modules\n"
        # when a worker starts, as Celery's WorkController does before it consumes: the loader
        # imports the jobs' modules (Django is set up), then worker_init is sent
        "app.loader.init_worker()\n"
        "signals.worker_init.send(sender=type('Worker', (), {'app': app})())\n"
        "print(before, module in sys.modules)\n"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test", "AI_PROVIDER": "openai",
        "AI_BASE_URL": "http://127.0.0.1:9/v1", "AI_MODEL": "gpt-fake",
    }  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=BACKEND, capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    # then the SDK's provider was imported by the start, not left to the first job
    assert out.stdout.split() == ["False", "True"], out.stderr
