"""Which policy pack governs what: per authority, service area and purpose."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete, post_save

from casework.core.models import SavedWithItsSignals
from casework.organisation.models import Authority, ServiceArea, renew_authority_key


class PackPurpose(models.TextChoices):
    CLOSURE = "closure", "Closure"
    TRANSFER = "transfer", "Transfers, step-down and escalation"


class PackBinding(SavedWithItsSignals):
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


def _bindings_changed(instance: PackBinding, **kwargs: Any) -> None:
    """A binding saved or deleted (`pack_bind`, the admin) gives its authority a new
    bindings key, so every process reads the bindings again (`bound_pack`).
    `QuerySet.update` and `bulk_create` send no signal: change bindings one by one."""
    renew_authority_key(instance, "bindings_key")


post_save.connect(_bindings_changed, sender=PackBinding, dispatch_uid="pack-binding-saved")
post_delete.connect(_bindings_changed, sender=PackBinding, dispatch_uid="pack-binding-deleted")
