"""The Django admin manages configuration only (authority, teams, staff and memberships).
Case records are never edited here: they change only through the audited services."""

from django.contrib import admin

from casework.organisation.models import Authority, ClosureDay, Membership, Team


class ClosureDayInline(admin.TabularInline[ClosureDay, Authority]):
    model = ClosureDay
    extra = 0


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin[Authority]):
    list_display = ["name", "la_code", "nation"]
    inlines = [ClosureDayInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "code", "service_area", "function", "holds_cases", "active"]
    list_filter = ["service_area", "function", "active"]
    search_fields = ["name", "code"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "team", "role", "started_on", "ended_on"]
    list_filter = ["team", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "team"]
