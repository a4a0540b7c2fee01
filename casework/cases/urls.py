from django.urls import path

from casework.cases import views

urlpatterns = [
    path("", views.my_cases, name="my-cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
]
