"""The authority, its service areas, teams (as data) and staff's dated team memberships."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.core.calendar import NATIONS, WorkingDayCalendar
from casework.core.dates import long_date


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

    class Meta:
        verbose_name_plural = "authorities"

    def __str__(self) -> str:
        return self.name

    def calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(self.nation, self.closure_days.values_list("day", flat=True))


class ClosureDay(models.Model):
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
