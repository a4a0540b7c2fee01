from django.urls import URLPattern, path

from casework.oversight import views

urlpatterns: list[URLPattern] = [
    path("oversight/", views.dashboard, name="oversight-dashboard"),
]
