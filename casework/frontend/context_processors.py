"""Template context available on every page."""

from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, str]:
    """The service's name, shown in the header and page titles; each council sets its own."""
    return {"service_name": settings.CASEWORK_SERVICE_NAME}
