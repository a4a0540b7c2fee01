from django.contrib.auth import views as auth_views
from django.urls import path

from casework.accounts import views

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", views.two_factor_status, name="two-factor"),
    path("account/two-factor/set-up/", views.two_factor_setup, name="two-factor-setup"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    path("sign-in/code/", views.two_factor_verify, name="two-factor-verify"),
]
