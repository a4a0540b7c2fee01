from django.urls import URLPattern, path

from casework.access import views

urlpatterns: list[URLPattern] = [
    path("access/emergency/", views.emergency_access, name="emergency-access"),
    path("access/emergency/review/", views.emergency_review, name="emergency-review"),
    path("cases/<int:case_id>/access-log/", views.case_access_log, name="case-access-log"),
    path("cases/<int:case_id>/restriction/", views.case_restriction, name="case-restriction"),
]
