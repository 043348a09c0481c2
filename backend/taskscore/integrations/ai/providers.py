"""Choosing the AI provider from configuration."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

from taskscore.integrations.ai.base import AIConfig, AIProvider

__all__ = ["clear_provider_cache", "provider_from_config", "provider_preload"]

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


# Each provider's code, imported on demand: the local model's dependencies are heavy (and
# optional), and a process loads only the one it is configured with.
_IMPLEMENTATIONS = {
    "openai": ("taskscore.integrations.ai.openai_provider", "OpenAIProvider"),
    "local": ("taskscore.integrations.ai.judge.provider", "JudgeProvider"),
    "local-anchor": ("taskscore.integrations.ai.local_provider", "AnchorSimilarityProvider"),
}


def provider_class(name: str) -> Callable[[AIConfig], AIProvider]:
    """The class of the provider called `name`, its module imported (once per process; a
    worker does it at start, `provider_preload`). ValueError for an unknown name."""
    if name not in _IMPLEMENTATIONS:
        raise ValueError(
            f"unknown AI provider {name!r} (expected 'openai', 'local' or 'local-anchor')"
        )
    module, attribute = _IMPLEMENTATIONS[name]
    cls: Callable[[AIConfig], AIProvider] = getattr(importlib.import_module(module), attribute)
    return cls


def provider_preload(config: AIConfig) -> None:
    """Import the configured provider's code now, so that the first job does not: an import
    holds the GIL (the OpenAI SDK's took half a second, the local judge's numpy and tokenizers
    more), during which a worker's other threads wait."""
    provider_class(config.provider)


def _build(config: AIConfig) -> AIProvider:
    return provider_class(config.provider)(config)
