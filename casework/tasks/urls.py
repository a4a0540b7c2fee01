from django.urls import path

from casework.tasks import views

urlpatterns = [
    path("tasks/<int:task_id>/done/", views.task_done, name="task-done"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
