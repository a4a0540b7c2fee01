from django.apps import AppConfig


class ClosureConfig(AppConfig):
    name = "casework.closure"
    label = "closure"
    default_auto_field = "django.db.models.BigAutoField"
