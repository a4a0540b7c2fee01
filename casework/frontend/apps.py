from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "casework.frontend"
    label = "frontend"
    verbose_name = "Front end"
