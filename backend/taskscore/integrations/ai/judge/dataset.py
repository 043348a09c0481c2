"""The labelled tasks (data/tasks-*.jsonl) and their fixed train/held-out split."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
RUBRIC_KEYS = ("clarity", "scope", "value")
# The questions people rated the tasks on (the built-in templates' AI criteria; a test checks that
# they are the templates' own). A rubric with one of these questions is rated by its trained head.
BUILTIN_QUESTIONS = {
    "clarity": "Is the task clearly described, with a concrete goal and a definition of done?",
    "scope": "Is the task small and well bounded enough to finish in one iteration?",
    "value": "Does the task explain the user or business value it delivers?",
}
# Their anchors, as the templates give them.
BUILTIN_ANCHORS = {
    "clarity": (
        "A concrete, well-scoped change with a clear goal, the users it helps and acceptance "
        "criteria.",
        "A vague idea with no goal, no scope and no way to tell when it is done.",
    ),
    "scope": (
        "A small, bounded change that one person can finish in a few days.",
        "A sprawling initiative touching everything, with no boundary.",
    ),
    "value": (
        "Explains which users benefit, how, and why it matters to the business now.",
        "Gives no reason why anyone would want this.",
    ),
}
# The share of groups held out: the judge never trains on them; `make calibrate` reports on them.
HELD_OUT_SHARE = 0.2


@dataclass(frozen=True)
class LabelledTask:
    id: str
    group: str
    title: str
    description: str
    domain: str
    ratings: dict[str, int]

    @property
    def text(self) -> str:
        """As the AI reads a task: `title\\n\\ndescription` (scoring.ai.task_text)."""
        return f"{self.title.strip()}\n\n{self.description.strip()}".strip()


def is_held_out(group: str) -> bool:
    """A stable split by group (variants of one idea stay on one side), independent of order."""
    digest = hashlib.sha256(group.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HELD_OUT_SHARE


def load_tasks(data_dir: Path = DATA_DIR) -> list[LabelledTask]:
    tasks = []
    for path in sorted(data_dir.glob("tasks-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                tasks.append(
                    LabelledTask(
                        id=row["id"],
                        group=row["group"],
                        title=row["title"],
                        description=row["description"],
                        domain=row["domain"],
                        ratings={k: int(row["ratings"][k]) for k in RUBRIC_KEYS},
                    )
                )
    return tasks


def split(tasks: list[LabelledTask]) -> tuple[list[LabelledTask], list[LabelledTask]]:
    """(train, held out)."""
    train = [t for t in tasks if not is_held_out(t.group)]
    held_out = [t for t in tasks if is_held_out(t.group)]
    return train, held_out


def data_fingerprint(data_dir: Path = DATA_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("tasks-*.jsonl")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
