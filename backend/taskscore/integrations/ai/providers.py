"""Choosing the AI provider from configuration."""

from __future__ import annotations

import threading

from taskscore.integrations.ai.base import AIConfig, AIProvider

__all__ = ["clear_provider_cache", "provider_from_config"]

_lock = threading.Lock()
_providers: dict[AIConfig, AIProvider] = {}


def provider_from_config(config: AIConfig) -> AIProvider:
    """The provider `config.provider` names ("openai", "local" (the trained judge) or
    "local-anchor" (anchor similarity)), built once per distinct
    config per process so its HTTP client or model is shared by every thread.

    Raises `ValueError` for an unknown provider name.
    """
    provider = _providers.get(config)
    if provider is not None:
        return provider
    # Built under the lock so that concurrent first calls do not load a model twice.
    with _lock:
        provider = _providers.get(config)
        if provider is None:
            provider = _build(config)
            _providers[config] = provider
        return provider


def clear_provider_cache() -> None:
    """Forget the built providers (tests, or after changing configuration at run time)."""
    with _lock:
        _providers.clear()


def _build(config: AIConfig) -> AIProvider:
    if config.provider == "openai":
        from taskscore.integrations.ai.openai_provider import OpenAIProvider

        return OpenAIProvider(config)
    if config.provider == "local":
        # Imported on demand: the local model's dependencies are heavy and optional.
        from taskscore.integrations.ai.judge.provider import JudgeProvider

        return JudgeProvider(config)
    if config.provider == "local-anchor":
        from taskscore.integrations.ai.local_provider import AnchorSimilarityProvider

        return AnchorSimilarityProvider(config)
    raise ValueError(
        f"unknown AI provider {config.provider!r} (expected 'openai', 'local' or 'local-anchor')"
    )
