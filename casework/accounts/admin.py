from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.accounts import two_factor
from casework.accounts.lockout import sign_in_unlock
from casework.accounts.models import User


@admin.register(User)
class StaffAdmin(UserAdmin[User]):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "job_title",
        "is_active",
        "has_two_factor",
    ]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Job", {"fields": ("job_title",)}))
    actions = ["unlock_sign_in", "reset_two_factor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(two_factor_on=Exists(devices))

    @admin.display(boolean=True, description="Two-factor", ordering="two_factor_on")
    def has_two_factor(self, user: User) -> bool:
        return bool(getattr(user, "two_factor_on", False))

    @admin.action(description="Unlock sign-in (clear failed sign-ins) for the selected staff")
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        cleared = sum(sign_in_unlock(user.username) for user in queryset)
        self.message_user(
            request,
            f"Sign-in unlocked for {queryset.count()} staff ({cleared} failed-attempt records "
            "cleared). They can sign in again now.",
            messages.SUCCESS,
        )

    @admin.action(description="Reset two-factor authentication for the selected staff")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            two_factor.devices_remove(user=user)
        self.message_user(
            request,
            f"Two-factor authentication reset for {queryset.count()} staff. They sign in with "
            "their password and, where it is required, set up an authenticator app again.",
            messages.SUCCESS,
        )
