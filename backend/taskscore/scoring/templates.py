"""Built-in criteria a new org starts with."""

from __future__ import annotations

from typing import Any

DEFAULT_VERSION_NAME = "RICE-like (default)"

# Reach, impact and confidence raise the score; effort lowers it.
DEFAULT_CRITERIA: list[dict[str, Any]] = [
    {
        "kind": "attribute",
        "key": "reach",
        "label": "Reach",
        "weight": 2,
        "attribute": "reach",
        "min": 0,
        "max": 1000,
        "invert": False,
    },
    {
        "kind": "attribute",
        "key": "impact",
        "label": "Impact",
        "weight": 3,
        "attribute": "impact",
        "min": 0,
        "max": 10,
        "invert": False,
    },
    {
        "kind": "attribute",
        "key": "confidence",
        "label": "Confidence",
        "weight": 1,
        "attribute": "confidence",
        "min": 0,
        "max": 100,
        "invert": False,
    },
    {
        "kind": "attribute",
        "key": "effort",
        "label": "Effort",
        "weight": 2,
        "attribute": "effort",
        "min": 0,
        "max": 10,
        "invert": True,
    },
]
