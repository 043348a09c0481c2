"""v2's OpenAPI links: which answer names what another operation takes (see common/links.py)."""

from __future__ import annotations

from taskscore.api.common.links import SAME_ORG, Link


def _from(source: str, status: int, targets: list[str], **parameters: str) -> list[Link]:
    return [
        Link(source, status, target, {"path.org": SAME_ORG, **parameters}) for target in targets
    ]


_TASK = ["task_get", "task_rescore", "task_scores", "task_override_list", "task_override_create"]
_VERSION = [
    "scoring_version_get",
    "scoring_version_publish",
    "scoring_version_activate",
    "scoring_version_calibration",
]
# A list's next page: its `next_cursor`, with the same filters and sort (a cursor continues the
# order it was made for).
_PAGES = ["api_key_list", "audit_list", "invitation_list", "member_list", "org_export_list"]

LINKS: list[Link] = [
    # tasks and their reviews
    *_from("task_create", 201, _TASK, **{"path.task_id": "$response.body#/id"}),
    *_from("task_create_batch", 201, _TASK, **{"path.task_id": "$response.body#/items/0/id"}),
    *_from("task_list", 200, _TASK, **{"path.task_id": "$response.body#/items/0/id"}),
    *_from(
        "task_rescore", 202, ["task_get", "task_scores"], **{"path.task_id": "$response.body#/id"}
    ),
    *_from(
        "task_get",
        200,
        ["task_score_get"],
        **{"path.task_id": "$response.body#/id", "path.score_id": "$response.body#/score/id"},
    ),
    *_from(
        "task_override_create",
        201,
        ["task_override_clear"],
        **{"path.task_id": "$request.path.task_id", "path.override_id": "$response.body#/id"},
    ),
    *_from(
        "task_override_list",
        200,
        ["task_override_clear"],
        **{"path.task_id": "$request.path.task_id", "path.override_id": "$response.body#/0/id"},
    ),
    Link(
        "task_list",
        200,
        "task_list",
        {
            "path.org": SAME_ORG,
            "query.cursor": "$response.body#/next_cursor",
            "query.sort": "$request.query.sort",
            "query.status": "$request.query.status",
            "query.overridden": "$request.query.overridden",
            "query.q": "$request.query.q",
        },
        "The next page.",
    ),
    # scoring models and versions
    *_from(
        "scoring_model_create",
        201,
        ["scoring_model_get", "scoring_version_create"],
        **{"path.model_id": "$response.body#/id"},
    ),
    *_from(
        "scoring_model_create",
        201,
        _VERSION,
        **{
            "path.model_id": "$response.body#/id",
            "path.number": "$response.body#/versions/0/number",
        },
    ),
    *_from(
        "scoring_model_list",
        200,
        ["scoring_model_get", "scoring_version_create"],
        **{"path.model_id": "$response.body#/0/id"},
    ),
    *_from(
        "scoring_version_create",
        201,
        _VERSION,
        **{"path.model_id": "$response.body#/model_id", "path.number": "$response.body#/number"},
    ),
    *_from(
        "scoring_version_publish",
        200,
        ["scoring_version_activate", "scoring_version_calibration"],
        **{"path.model_id": "$response.body#/model_id", "path.number": "$response.body#/number"},
    ),
    *_from(
        "scoring_version_active",
        200,
        ["scoring_version_get", "scoring_version_calibration"],
        **{"path.model_id": "$response.body#/model_id", "path.number": "$response.body#/number"},
    ),
    *_from(
        "scoring_version_active",
        200,
        ["scoring_version_create"],
        **{"path.model_id": "$response.body#/model_id"},
    ),
    *_from(
        "scoring_preview_run_create",
        202,
        ["scoring_preview_run_get"],
        **{"path.run_id": "$response.body#/id"},
    ),
    # members, invitations, roles, API keys
    *_from("api_key_create", 201, ["api_key_revoke"], **{"path.key_id": "$response.body#/id"}),
    *_from(
        "invitation_create",
        201,
        ["invitation_revoke"],
        **{"path.invitation_id": "$response.body#/id"},
    ),
    *_from(
        "role_create", 201, ["role_update", "role_delete"], **{"path.key": "$response.body#/key"}
    ),
    *_from(
        "member_list",
        200,
        ["member_role_change"],
        **{"path.member_id": "$response.body#/items/0/id"},
    ),
    # the org's data
    *_from(
        "org_export_create",
        202,
        ["org_export_get", "org_export_download"],
        **{"path.export_id": "$response.body#/id"},
    ),
    *_from(
        "org_export_list",
        200,
        ["org_export_get", "org_export_download"],
        **{"path.export_id": "$response.body#/items/0/id"},
    ),
    *(
        Link(
            page,
            200,
            page,
            {"path.org": SAME_ORG, "query.cursor": "$response.body#/next_cursor"},
            "The next page.",
        )
        for page in _PAGES
    ),
    # the account
    Link(
        "my_invitation_list",
        200,
        "my_invitation_accept",
        {"path.invitation_id": "$response.body#/0/id"},
    ),
    Link(
        "my_invitation_list",
        200,
        "my_invitation_decline",
        {"path.invitation_id": "$response.body#/0/id"},
    ),
    *(
        Link("org_create", 201, target, {"path.org": "$response.body#/slug"})
        for target in ["member_list", "task_list", "billing_get"]
    ),
]
