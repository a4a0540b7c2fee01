"""The authority, its service areas, teams (as data) and staff's dated team memberships."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from casework.core.calendar import NATIONS, WorkingDayCalendar
from casework.core.dates import long_date
from casework.core.models import SavedWithItsSignals


class ServiceArea(models.TextChoices):
    CHILDREN = "children", "Children's services"
    ADULTS = "adults", "Adults' services"


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", "Social worker"
    TEAM_MANAGER = "team_manager", "Team manager"
    SENIOR_FIELDWORK_MANAGER = "senior_fieldwork_manager", "Senior fieldwork manager"
    SERVICE_MANAGER = "service_manager", "Service manager"
    HEAD_OF_SERVICE = "head_of_service", "Head of service"
    BUSINESS_SUPPORT = "business_support", "Business support officer"
    REVIEWING_OFFICER = "reviewing_officer", "Reviewing officer (IRO)"
    SAFEGUARDING_UNIT_ADMIN = "safeguarding_unit_admin", "Safeguarding unit administrator"
    EARLY_HELP_DUTY_MANAGER = "early_help_duty_manager", "Early help duty manager"


# Roles that supervise others and may record managers' decisions and supervision.
MANAGER_ROLES = frozenset(
    {
        Role.TEAM_MANAGER,
        Role.SENIOR_FIELDWORK_MANAGER,
        Role.SERVICE_MANAGER,
        Role.HEAD_OF_SERVICE,
        Role.EARLY_HELP_DUTY_MANAGER,
    }
)

# Roles whose need to know spans their whole service area rather than their own team:
# senior managers agree exceptions across teams, and business support audits every case.
SERVICE_AREA_WIDE_ROLES = frozenset(
    {
        Role.SENIOR_FIELDWORK_MANAGER,
        Role.SERVICE_MANAGER,
        Role.HEAD_OF_SERVICE,
        Role.BUSINESS_SUPPORT,
    }
)


def _new_calendar_key() -> str:
    return uuid.uuid4().hex


KEPT_BY_KEY = ("calendar_key", "bindings_key")


def renew_authority_key(row: models.Model, key_field: str) -> None:
    """Give the authority of `row` (a closure day, a pack binding) a new `key_field`, one
    of KEPT_BY_KEY, so every process reads again what it kept under the old one; the
    authority object `row` was made with sees the change too. A key is never made twice,
    so what was kept under a key a rolled-back change made is never served."""
    key = _new_calendar_key()
    Authority.objects.filter(pk=row.authority_id).update(**{key_field: key})  # type: ignore[attr-defined]
    relation = type(row)._meta.get_field("authority")
    assert isinstance(relation, models.ForeignKey)  # noqa: S101 - both callers' rows have one
    if relation.is_cached(row):
        setattr(row.authority, key_field, key)  # type: ignore[attr-defined]


class Authority(models.Model):
    name = models.CharField(max_length=200)
    la_code = models.CharField(
        max_length=3, help_text="The DfE three-digit local authority code, e.g. 931."
    )
    nation = models.CharField(
        max_length=3,
        choices=list(NATIONS.items()),
        default="ENG",
        help_text="Whose bank holidays count when working days are calculated.",
    )
    # Changed (to a value never used before) whenever a closure day is saved or deleted, so
    # that each process can keep the calendar it built and know, from the authority row it
    # has read anyway, whether it is still the current one (see `calendar`).
    # Empty (a row written by hand, not through Django) means "do not keep".
    calendar_key = models.CharField(
        max_length=32, default=_new_calendar_key, db_default="", editable=False
    )
    # The same for which policy pack governs what (`policy.services.bound_pack`): a new key
    # whenever a pack binding is saved or deleted.
    bindings_key = models.CharField(
        max_length=32, default=_new_calendar_key, db_default="", editable=False
    )

    class Meta:
        verbose_name_plural = "authorities"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A copy read before a closure day or a pack binding changed must not write its
        # old key back (every process would then serve the old calendar or pack): the keys
        # are written only when the row is created, or when asked for by name
        # (`_closure_days_changed`, `policy.models._bindings_changed`).
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in KEPT_BY_KEY
            ]
        super().save(*args, **kwargs)

    def calendar(self) -> WorkingDayCalendar:
        """The authority's working-day calendar: its nation's bank holidays and its own
        closure days. Kept per process under the authority's `calendar_key`, which a change
        of closure days replaces: pages and services that count working days (every case
        page, every closure) need not read the closure days each time. A key is never
        reused, so a calendar read in a transaction that rolled back is never served."""
        key = (self.pk, self.nation, self.calendar_key)
        keep = self.pk is not None and bool(self.calendar_key)
        calendar = _CALENDARS.get(key) if keep else None
        if calendar is None:
            calendar = WorkingDayCalendar(
                self.nation, self.closure_days.values_list("day", flat=True)
            )
            if keep:
                _CALENDARS[key] = calendar
                while len(_CALENDARS) > _CALENDARS_KEPT:
                    _CALENDARS.popitem(last=False)
        return calendar


_CALENDARS: OrderedDict[tuple[int | None, str, str], WorkingDayCalendar] = OrderedDict()
_CALENDARS_KEPT = 64  # one Casework serves one authority; tests make many


class ClosureDay(SavedWithItsSignals):
    """A day the authority is closed that is not a bank holiday (e.g. an extra Christmas day)."""

    authority = models.ForeignKey(Authority, on_delete=models.CASCADE, related_name="closure_days")
    day = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "day"], name="closure_day_once"),
        ]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{long_date(self.day)}: {self.reason}"


def _closure_days_changed(instance: ClosureDay, **kwargs: Any) -> None:
    """A closure day saved or deleted (the admin, the demo) gives its authority a new
    calendar key. `QuerySet.update` and `bulk_create` send no signal: change closure days
    one by one, as the admin does."""
    renew_authority_key(instance, "calendar_key")


post_save.connect(_closure_days_changed, sender=ClosureDay, dispatch_uid="closure-day-saved")
post_delete.connect(_closure_days_changed, sender=ClosureDay, dispatch_uid="closure-day-deleted")


class TeamFunction(models.TextChoices):
    """What a team does. Routing rules in policy packs refer to teams by code; the function
    lets an authority rename teams without the product losing track of what they are for."""

    FRONT_DOOR = "front_door", "Front door (referrals)"
    ASSESSMENT_INTERVENTION = "assessment_intervention", "Assessment and intervention"
    SAFEGUARDING_CARE_PLANNING = "safeguarding_care_planning", "Safeguarding and care planning"
    EDGE_OF_CARE = "edge_of_care", "Edge of care"
    SCHOOLS = "schools", "Social workers in schools"
    WRAP_AROUND = "wrap_around", "Wrap-around support"
    LOOKED_AFTER = "looked_after", "Looked-after children"
    DISABILITIES = "disabilities", "Children with disabilities"
    EARLY_HELP = "early_help", "Early help"
    SAFEGUARDING_UNIT = "safeguarding_unit", "Safeguarding unit"
    BUSINESS_SUPPORT = "business_support", "Business support"
    DUTY_FOSTERING_ADMIN = "duty_fostering_admin", "Duty fostering admin"
    ADULTS_LOCALITY = "adults_locality", "Adults' locality team"
    OTHER = "other", "Other"


class Team(models.Model):
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="teams")
    code = models.SlugField(max_length=40, help_text="Short stable code used by policy packs.")
    name = models.CharField(max_length=200)
    service_area = models.CharField(max_length=20, choices=ServiceArea.choices)
    function = models.CharField(max_length=40, choices=TeamFunction.choices)
    holds_cases = models.BooleanField(
        default=True,
        help_text="False for teams that support cases without holding responsibility "
        "(wrap-around, business support).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="team_code_unique"),
        ]
        ordering = ["service_area", "name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self, on: dt.date | None = None) -> MembershipQuerySet:
        from django.utils import timezone

        day = on or timezone.localdate()
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day), started_on__lte=day)


class Membership(models.Model):
    """A member of staff in a team, in a role, between two dates (history is kept)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=40, choices=Role.choices)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="membership_ends_after_start",
            ),
        ]
        ordering = ["team__name", "role"]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.team}"
