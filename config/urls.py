from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from casework.api.api import api


def health(_request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    # Signing in and out, and each person's two-factor settings.
    path("", include("casework.accounts.urls")),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("casework.cases.urls")),
    path("", include("casework.closure.urls")),
    path("", include("casework.transfers.urls")),
    path("", include("casework.tasks.urls")),
    path("", include("casework.api.urls")),
    path("", include("casework.returns.urls")),
    path("", include("casework.oversight.urls")),
    path("", include("casework.access.urls")),
    path("", include("casework.retention.urls")),
    path("", include("casework.privacy.urls")),
]
