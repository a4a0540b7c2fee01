from django.urls import path

from casework.returns import views

urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/<int:job_id>/", views.export_detail, name="export-detail"),
    path("exports/<int:job_id>/file/", views.export_file, name="export-file"),
]
