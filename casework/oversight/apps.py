from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "casework.oversight"
    label = "oversight"
    verbose_name = "Oversight dashboards"
    default_auto_field = "django.db.models.BigAutoField"
