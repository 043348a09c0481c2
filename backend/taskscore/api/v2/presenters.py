"""Domain objects → v2 response shapes."""

from __future__ import annotations

from typing import Any

from taskscore.orgs.models import Invitation, Membership, Organization
from taskscore.orgs.selectors import Account
from taskscore.scoring.models import PreviewRun, PreviewRunStatus
from taskscore.tasks.models import Task
from taskscore.tasks.selectors import task_latest_score


def task_out(task: Task) -> dict[str, Any]:
    score = task_latest_score(task)
    return {
        "id": str(task.id),
        "title": task.title,
        "description": task.description,
        "attributes": task.attributes,
        "status": task.status,
        "failure_reason": task.failure_reason or None,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "score": None
        if score is None
        else {
            "value": score.value,
            "version": score.version.number,
            "scored_at": score.created_at,
            "breakdown": score.breakdown,
        },
    }


def org_out(org: Organization, *, role: str) -> dict[str, Any]:
    return {"slug": org.slug, "name": org.name, "role": role}


def membership_org_out(membership: Membership) -> dict[str, Any]:
    """The org a membership is in, with the member's role (what joining answers)."""
    return org_out(membership.org, role=membership.role.key)


def me_out(account: Account) -> dict[str, Any]:
    return {
        "id": account.user.pk,
        "email": account.user.email,
        "email_verified": account.email_verified,
        "orgs": [
            membership_org_out(m) | {"permissions": sorted(m.role.permissions)}
            for m in account.memberships
        ],
    }


def _invited_by(invitation: Invitation) -> str:
    if invitation.invited_by is not None:
        return invitation.invited_by.email
    if invitation.invited_by_api_key is not None:
        return f'API key "{invitation.invited_by_api_key.name}"'
    return "an operator"


def _invitation_common(invitation: Invitation) -> dict[str, Any]:
    return {
        "org": {"slug": invitation.org.slug, "name": invitation.org.name},
        "role": {"key": invitation.role.key, "name": invitation.role.name},
        "invited_by": _invited_by(invitation),
        "expires_at": invitation.expires_at,
    }


def invitation_lookup_out(invitation: Invitation) -> dict[str, Any]:
    """What the emailed link shows before the invitee logs in."""
    return _invitation_common(invitation) | {"email": invitation.email}


def my_invitation_out(invitation: Invitation) -> dict[str, Any]:
    return {"id": invitation.pk} | _invitation_common(invitation)


def preview_run_out(run: PreviewRun) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "failure_reason": run.failure_reason or None,
        "items": run.items if run.status == PreviewRunStatus.DONE else [],
    }
