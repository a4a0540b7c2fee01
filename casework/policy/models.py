"""Which policy pack governs what: per authority, service area and purpose."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casework.organisation.models import Authority, ServiceArea


class PackPurpose(models.TextChoices):
    CLOSURE = "closure", "Closure"
    TRANSFER = "transfer", "Transfers, step-down and escalation"


class PackBinding(models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="bindings")
    service_area = models.CharField(max_length=20, choices=ServiceArea.choices)
    purpose = models.CharField(max_length=20, choices=PackPurpose.choices)
    pack_id = models.CharField(max_length=60)
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    bound_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "service_area", "purpose"], name="one_pack_per_purpose"
            ),
        ]
        ordering = ["service_area", "purpose"]

    def __str__(self) -> str:
        area = self.get_service_area_display()
        return f"{area} {self.get_purpose_display().lower()}: {self.pack_id}"
