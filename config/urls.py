from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from casework.accounts.forms import SignInForm
from casework.api.api import api


def health(_request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=SignInForm
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
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
]
