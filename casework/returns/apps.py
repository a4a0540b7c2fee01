from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "casework.returns"
    label = "returns"
    verbose_name = "Statutory returns and exports"
    default_auto_field = "django.db.models.BigAutoField"
