from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from casework.accounts.models import User


@admin.register(User)
class StaffAdmin(UserAdmin[User]):
    list_display = ["username", "first_name", "last_name", "job_title", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Job", {"fields": ("job_title",)}))
