"""Developer tools served by local runs only, outside both API versions (no OpenAPI entry).

`GET /api/dev/outbox` and `GET /api/dev/outbox/<id>`: the mail the app sent, as kept by the
outbox mail backend (`taskscore.integrations.mail.outbox`) in `MAIL_OUTBOX_DIR`. With no outbox
configured (always in production) both answer 404 problem JSON."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from taskscore.api.common.problems import problem_response
from taskscore.core.errors import ProblemType
from taskscore.integrations.mail.outbox import outbox_dir, outbox_message_get, outbox_messages

OUTBOX_PAGE = 100


def _not_found(request: HttpRequest, detail: str) -> HttpResponse:
    return problem_response(ProblemType.NOT_FOUND, detail=detail, instance=request.path)


_OFF = "The mail outbox is off; set MAIL_OUTBOX_DIR (local runs only)."


@require_GET
def outbox_list(request: HttpRequest) -> HttpResponse:
    """The newest messages (at most 100), newest first."""
    directory = outbox_dir()
    if directory is None:
        return _not_found(request, _OFF)
    return JsonResponse({"items": outbox_messages(directory, limit=OUTBOX_PAGE)})


@require_GET
def outbox_message(request: HttpRequest, message_id: str) -> HttpResponse:
    directory = outbox_dir()
    if directory is None:
        return _not_found(request, _OFF)
    message = outbox_message_get(directory, message_id)
    if message is None:
        return _not_found(request, "No such message in the outbox.")
    return JsonResponse(message)
