from django.contrib import admin
from django.urls import include, path

from taskscore.api.health import healthz, readyz
from taskscore.api.v1 import api as api_v1
from taskscore.api.v2 import api as api_v2
from taskscore.api.webhooks.stripe import stripe_webhook

urlpatterns = [
    path("healthz", healthz),
    path("readyz", readyz),
    path("api/v1/", api_v1.urls),
    path("api/v2/", api_v2.urls),
    path("api/webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("_allauth/", include("allauth.headless.urls")),
    path("admin/", admin.site.urls),
]
