"""Built-in scoring templates. A new org starts on `DEFAULT_TEMPLATE`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    criteria: list[dict[str, Any]]


def _attribute(
    key: str, label: str, weight: float, lo: float, hi: float, *, invert: bool = False
) -> dict[str, Any]:
    return {"kind": "attribute", "key": key, "label": label, "weight": weight,
            "attribute": key, "min": lo, "max": hi, "invert": invert}  # fmt: skip


def _ai(key: str, label: str, weight: float, rubric: str, high: str, low: str) -> dict[str, Any]:
    return {"kind": "ai", "key": key, "label": label, "weight": weight, "rubric": rubric,
            "high_anchor": high, "low_anchor": low}  # fmt: skip


CLARITY = _ai(
    "clarity", "Clarity", 2,
    "Is the task clearly described, with a concrete goal and a definition of done?",
    "A concrete, well-scoped change with a clear goal, the users it helps and acceptance criteria.",
    "A vague idea with no goal, no scope and no way to tell when it is done.",
)  # fmt: skip

RICE = Template(
    key="rice",
    name="RICE-like",
    description="Reach, impact and confidence raise the score; effort lowers it.",
    criteria=[
        _attribute("reach", "Reach", 2, 0, 1000),
        _attribute("impact", "Impact", 3, 0, 10),
        _attribute("confidence", "Confidence", 1, 0, 100),
        _attribute("effort", "Effort", 2, 0, 10, invert=True),
    ],
)

RICE_AI = Template(
    key="rice_ai",
    name="RICE-like + AI clarity",
    description="The RICE-like formula blended with an AI rating of how clearly the task is "
    "described.",
    criteria=[*RICE.criteria, CLARITY],
)

WSJF = Template(
    key="wsjf",
    name="WSJF-like",
    description="Cost of delay (business value, time criticality, risk reduction) over job size.",
    criteria=[
        _attribute("business_value", "Business value", 1, 1, 10),
        _attribute("time_criticality", "Time criticality", 1, 1, 10),
        _attribute("risk_reduction", "Risk reduction", 1, 1, 10),
        _attribute("job_size", "Job size", 3, 1, 10, invert=True),
    ],
)

QUALITY = Template(
    key="quality",
    name="Quality rubric",
    description="AI ratings of how well a task is written: clarity, scope and value.",
    criteria=[
        CLARITY,
        _ai(
            "scope", "Scope", 1,
            "Is the task small and well bounded enough to finish in one iteration?",
            "A small, bounded change that one person can finish in a few days.",
            "A sprawling initiative touching everything, with no boundary.",
        ),
        _ai(
            "value", "Value", 1,
            "Does the task explain the user or business value it delivers?",
            "Explains which users benefit, how, and why it matters to the business now.",
            "Gives no reason why anyone would want this.",
        ),
    ],
)  # fmt: skip

TEMPLATES: dict[str, Template] = {t.key: t for t in (RICE_AI, RICE, WSJF, QUALITY)}
DEFAULT_TEMPLATE = RICE_AI
DEFAULT_MODEL_NAME = "Default"
