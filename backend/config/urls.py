from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.defaults import server_error

from taskscore.api.common.problems import problem_response
from taskscore.api.dev import outbox_list, outbox_message
from taskscore.api.health import healthz, readyz
from taskscore.api.metrics import metrics_view
from taskscore.api.v1 import api as api_v1
from taskscore.api.v2 import api as api_v2
from taskscore.api.webhooks.stripe import stripe_webhook
from taskscore.core.errors import ProblemType

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
    # Prometheus, for the holder of METRICS_TOKEN only (404 while it is unset).
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", api_v1.urls),
    path("api/v2/", api_v2.urls),
    path("api/webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    # Local runs' mail outbox (404 unless MAIL_OUTBOX_DIR is set; production refuses it).
    path("api/dev/outbox", outbox_list, name="dev-outbox"),
    path("api/dev/outbox/<str:message_id>", outbox_message, name="dev-outbox-message"),
    path("_allauth/", include("allauth.headless.urls")),
    path("admin/", admin.site.urls),
]


def handler500(request: HttpRequest) -> HttpResponse:
    """A crash outside an endpoint (e.g. in middleware): problem JSON for the API, HTML else."""
    if request.path.startswith("/api/"):
        return problem_response(
            ProblemType.INTERNAL_ERROR,
            detail="Something went wrong on our side; it has been logged.",
            instance=request.path,
        )
    return server_error(request)
