from django.urls import path

from casework.retention import views

urlpatterns = [
    path("retention/", views.queue, name="retention-queue"),
    path("retention/reviews/<int:review_id>/", views.review, name="retention-review"),
    path("retention/holds/", views.holds, name="retention-holds"),
    path("retention/holds/new/", views.hold_new, name="retention-hold-new"),
    path("retention/holds/<int:hold_id>/lift/", views.hold_lift, name="retention-hold-lift"),
]
