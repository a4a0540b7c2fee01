from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "casework.tasks"
    label = "tasks"
    verbose_name = "Deadlines and notifications"
    default_auto_field = "django.db.models.BigAutoField"
