"""Writes to scoring: models and their versions (`versions`), task scores (`scores`) and draft
previews over an org's tasks (`previews`). Import from here; the modules are its parts."""

from taskscore.scoring.services.previews import (
    JOB_PREVIEW_PURGE,
    JOB_PREVIEW_RUN,
    JOB_PREVIEW_SWEEP,
    PREVIEW_KEEP,
    PREVIEW_LIMIT_MAX,
    preview_run_claim,
    preview_run_create,
    preview_run_execute,
    preview_runs_purge,
    preview_runs_requeue_stuck,
)
from taskscore.scoring.services.scores import (
    score_preview,
    score_row,
    task_score_record,
)
from taskscore.scoring.services.versions import (
    org_open,
    scoring_model_create,
    version_activate,
    version_active_get_or_create,
    version_create,
    version_publish,
)

__all__ = [
    "JOB_PREVIEW_PURGE",
    "JOB_PREVIEW_RUN",
    "JOB_PREVIEW_SWEEP",
    "PREVIEW_KEEP",
    "PREVIEW_LIMIT_MAX",
    "org_open",
    "preview_run_claim",
    "preview_run_create",
    "preview_run_execute",
    "preview_runs_purge",
    "preview_runs_requeue_stuck",
    "score_preview",
    "score_row",
    "scoring_model_create",
    "task_score_record",
    "version_activate",
    "version_active_get_or_create",
    "version_create",
    "version_publish",
]
