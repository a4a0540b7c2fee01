"""Binding packs in the Django admin goes through the same service as everywhere else, so a
switch is validated (the pack must load and fit) and audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from casework.accounts.models import User
from casework.policy.loader import available_packs
from casework.policy.models import PackBinding
from casework.policy.services import pack_bind, pack_binding_problem


class PackBindingForm(forms.ModelForm[PackBinding]):
    pack_id = forms.ChoiceField(label="Policy pack")

    class Meta:
        model = PackBinding
        fields = ["authority", "service_area", "purpose", "pack_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pack_id"].choices = [  # type: ignore[attr-defined]
            (pack_id, f"{spec.title} ({pack_id})")
            for pack_id, spec in sorted(available_packs().items())
            if spec.governs
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        problem = pack_binding_problem(
            cleaned.get("service_area", ""), cleaned.get("purpose", ""), cleaned.get("pack_id", "")
        )
        if problem:
            raise forms.ValidationError(problem)
        return cleaned


@admin.register(PackBinding)
class PackBindingAdmin(admin.ModelAdmin[PackBinding]):
    form = PackBindingForm
    list_display = ["authority", "service_area", "purpose", "pack_id", "bound_by", "bound_at"]

    def save_model(self, request: HttpRequest, obj: PackBinding, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)  # noqa: S101 - admin requires a signed-in user
        # The form's clean() already ran the same checks, so this does not refuse.
        binding = pack_bind(
            actor=request.user,
            authority=obj.authority,
            service_area=obj.service_area,
            purpose=obj.purpose,
            pack_id=obj.pack_id,
        )
        # The admin links to and logs the object it saved: point it at the real row.
        obj.pk = binding.pk

    def has_delete_permission(self, request: HttpRequest, obj: PackBinding | None = None) -> bool:
        return False
