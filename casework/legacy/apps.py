from django.apps import AppConfig


class LegacyConfig(AppConfig):
    name = "casework.legacy"
    label = "legacy"
    verbose_name = "Legacy import"
    default_auto_field = "django.db.models.BigAutoField"
