from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "casework.privacy"
    label = "privacy"
    verbose_name = "Subject access requests"
    default_auto_field = "django.db.models.BigAutoField"
