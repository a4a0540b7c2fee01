"""The product's URLs plus the benchmark's floor: the least a Django page can do here."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from casework.cases.models import Case
from config.urls import urlpatterns as product_urlpatterns


def floor(_request: HttpRequest, case_id: int) -> HttpResponse:
    """Read one row by its key, through the same middleware and server as every page."""
    reference = Case.objects.values_list("reference", flat=True).get(pk=case_id)
    return HttpResponse(reference, content_type="text/plain")


urlpatterns = [path("bench/floor/<int:case_id>/", floor), *product_urlpatterns]
