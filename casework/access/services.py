"""The one write path for exceptions to need to know (X-02): emergency access and its review,
and restricting a person's records to named people. Each service checks, changes, audits and
notifies in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from casework.access.models import (
    EmergencyAccess,
    EmergencyOutcome,
    Restriction,
    RestrictionName,
)
from casework.access.policy import cases_visible_to, is_manager_for
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case, CaseStatus
from casework.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, ProblemCollector
from casework.organisation.models import MANAGER_ROLES, SERVICE_AREA_WIDE_ROLES, Membership
from casework.people.models import Person

# A reason must say something a reviewer can judge: "urgent" alone is not enough.
MIN_REASON_CHARACTERS = 15
NO_EMERGENCY_CASE = (
    "There is no case with that reference that can be opened in an emergency. Check the "
    "reference with the person who gave it to you. Some records are restricted to named "
    "people and cannot be opened this way: ask the duty manager."
)


def end_of_day(moment: dt.datetime) -> dt.datetime:
    """Midnight at the end of `moment`'s day, on the council's clock."""
    local = timezone.localtime(moment)
    next_day = local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(next_day, dt.time(0, 0)))


def managers_of(user: User) -> set[User]:
    """The managers who answer for `user`: managers of every team they are in now."""
    teams = Membership.objects.current().filter(user=user).values("team_id")
    return {
        m.user
        for m in Membership.objects.current()
        .filter(team_id__in=teams, role__in=MANAGER_ROLES)
        .exclude(user=user)
        .select_related("user")
        if m.user.is_active
    }


def _case_managers(case: Case) -> set[User]:
    return {
        m.user
        for m in Membership.objects.current()
        .filter(role__in=MANAGER_ROLES)
        .filter(
            Q(team_id=case.responsible_team_id)
            | Q(role__in=SERVICE_AREA_WIDE_ROLES, team__service_area=case.service_area)
        )
        .select_related("user")
        if m.user.is_active
    }


@transaction.atomic
def emergency_access_open(*, actor: User, case_reference: str, reason: str) -> EmergencyAccess:
    """Open a case `actor` has no need to know about, until the end of today (break-glass).

    Refused for a restricted case (indistinguishable from a missing one), and pointless for a
    case they can already see. Their managers and the case's managers are told at once."""
    problems = ProblemCollector()
    reference = case_reference.strip().upper()
    reason = reason.strip()
    problems.check(bool(reference), "case_reference", "Enter the case reference, like C00012.")
    problems.check(
        len(reason) >= MIN_REASON_CHARACTERS,
        "reason",
        "Say why you need this record now, in a sentence a manager can check "
        f"(at least {MIN_REASON_CHARACTERS} characters).",
    )
    problems.raise_if_any()
    case = Case.objects.filter(reference__iexact=reference).select_related("subject").first()
    if case is None or Restriction.objects.in_force().filter(person=case.subject_id).exists():
        raise InvalidInput(NO_EMERGENCY_CASE, "case_reference")
    if cases_visible_to(actor).filter(pk=case.pk).exists():
        raise InvalidInput(
            "You can already open this case: you do not need emergency access. "
            "Find it from your cases or your team's work.",
            "case_reference",
        )
    now = timezone.now()
    access = EmergencyAccess.objects.create(
        user=actor, case=case, reason=reason, started_at=now, expires_at=end_of_day(now)
    )
    audit_record(
        actor=actor,
        verb="access.emergency_opened",
        category=AuditCategory.ACCESS,
        obj=access,
        case=case,
        person=case.subject,
        summary=f"Emergency access opened by {actor.display_name} until the end of the day",
        reason=reason,
    )
    # Imported here: the tasks app reads access policy, so a top-level import would loop.
    from casework.tasks.services import notify_users

    ends = timezone.localtime(access.expires_at)
    notify_users(
        key=f"emergency-access:{access.pk}",
        users=managers_of(actor) | _case_managers(case),
        case=None,
        event="access.emergency_opened",
        message=(
            f"{actor.display_name} opened case {case.reference} with emergency access "
            f"(until {ends:%H:%M on %d %B}). Their reason: {reason} "
            "Record whether it was justified on the emergency access review."
        ),
        requirement="X-02",
    )
    return access


def emergency_accesses_reviewable_by(user: User) -> Q:
    """Emergency accesses `user` may review: by people in teams they manage, or to cases
    their management covers (their team's, or their service area's for senior roles)."""
    managed = Membership.objects.current().filter(user=user, role__in=MANAGER_ROLES)
    managed_teams = managed.values("team_id")
    areas = managed.filter(role__in=SERVICE_AREA_WIDE_ROLES).values("team__service_area")
    members = Membership.objects.current().filter(team_id__in=managed_teams).values("user_id")
    return (
        Q(user_id__in=members)
        | Q(case__responsible_team_id__in=managed_teams)
        | Q(case__service_area__in=areas)
    ) & ~Q(user=user)


@transaction.atomic
def emergency_access_review(
    *, actor: User, access_id: int, outcome: str, note: str
) -> EmergencyAccess:
    """A manager records whether an emergency access was justified; it then leaves the
    review report. A second review of the same access is refused (race-safe)."""
    access = (
        # Only this row is locked: PostgreSQL cannot lock the nullable side of the outer join
        # to the case (empty once the case is disposed of).
        EmergencyAccess.objects.select_for_update(of=("self",))
        .filter(emergency_accesses_reviewable_by(actor), pk=access_id)
        .select_related("case", "user")
        .first()
    )
    if access is None:
        raise NotFound("There is no emergency access with that number for you to review.")
    if access.outcome:
        raise Conflict(
            f"{access.reviewed_by} already recorded this emergency access as "
            f"{access.get_outcome_display().lower()}."
        )
    problems = ProblemCollector()
    problems.check(
        outcome in EmergencyOutcome.values, "outcome", "Select whether the access was justified."
    )
    problems.check(
        outcome != EmergencyOutcome.NOT_JUSTIFIED or bool(note.strip()),
        "note",
        "Say what you have done about access that was not justified.",
    )
    problems.raise_if_any()
    access.outcome = outcome
    access.outcome_note = note.strip()
    access.reviewed_by = actor
    access.reviewed_at = timezone.now()
    access.save(update_fields=["outcome", "outcome_note", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        verb="access.emergency_reviewed",
        category=AuditCategory.ACCESS,
        obj=access,
        case=access.case,
        # No case once it has been disposed of under the retention schedule.
        person=access.case.subject if access.case is not None else None,
        summary=(
            f"Emergency access by {access.user.display_name} reviewed: "
            f"{access.get_outcome_display().lower()}"
        ),
        reason=access.outcome_note,
    )
    return access


# --- Restricted records -------------------------------------------------------------------------


def _require_restriction_manager(actor: User, case: Case) -> None:
    if not (actor.is_superuser or is_manager_for(actor, case)):
        raise NotPermitted(
            "Only a manager of the team that holds this case can restrict it or change who "
            "may see it. Ask your team manager."
        )


@transaction.atomic
def restriction_place(*, actor: User, case: Case, reason: str) -> Restriction:
    """Restrict the case's subject's records to named people. The manager who restricts,
    and the workers allocated to the person's open cases, are named at once, so that the
    work does not stop; anyone else must be named by a named manager."""
    _require_restriction_manager(actor, case)
    person = Person.objects.select_for_update().get(pk=case.subject_id)
    if Restriction.objects.in_force().filter(person=person).exists():
        raise Conflict("This person's records are already restricted.")
    problems = ProblemCollector()
    problems.check(
        len(reason.strip()) >= MIN_REASON_CHARACTERS,
        "reason",
        "Say why these records must be restricted, for example that the person is a member "
        f"of staff (at least {MIN_REASON_CHARACTERS} characters).",
    )
    problems.raise_if_any()
    restriction = Restriction.objects.create(person=person, reason=reason.strip(), placed_by=actor)
    named = {actor} | {
        c.allocated_worker
        for c in person.cases.filter(allocated_worker__isnull=False).select_related(
            "allocated_worker"
        )
        if c.allocated_worker is not None and c.status != CaseStatus.CLOSED
    }
    for user in named:
        RestrictionName.objects.create(restriction=restriction, user=user, named_by=actor)
    audit_record(
        actor=actor,
        verb="access.restricted",
        category=AuditCategory.ACCESS,
        obj=restriction,
        case=case,
        person=person,
        summary="Records restricted to named people: "
        + ", ".join(sorted(u.display_name for u in named)),
        reason=restriction.reason,
    )
    return restriction


def _restriction_in_force(case: Case) -> Restriction:
    restriction = (
        Restriction.objects.select_for_update().in_force().filter(person=case.subject_id).first()
    )
    if restriction is None:
        raise Conflict("This person's records are not restricted (any more).")
    return restriction


@transaction.atomic
def restriction_name(*, actor: User, case: Case, user: User) -> RestrictionName:
    _require_restriction_manager(actor, case)
    restriction = _restriction_in_force(case)
    if not user.is_active:
        raise InvalidInput("That account is disabled: choose someone who works here now.", "user")
    if restriction.names.filter(user=user).exists():
        raise InvalidInput(f"{user.display_name} is already named.", "user")
    name = RestrictionName.objects.create(restriction=restriction, user=user, named_by=actor)
    audit_record(
        actor=actor,
        verb="access.restriction_named",
        category=AuditCategory.ACCESS,
        obj=restriction,
        case=case,
        person=case.subject,
        summary=f"{user.display_name} may now see these restricted records",
    )
    return name


@transaction.atomic
def restriction_unname(*, actor: User, case: Case, user: User) -> None:
    _require_restriction_manager(actor, case)
    restriction = _restriction_in_force(case)
    names = restriction.names.filter(user=user)
    if not names.exists():
        raise InvalidInput(f"{user.display_name} is not named on this restriction.", "user")
    if user == actor:
        raise InvalidInput(
            "You cannot remove yourself: you would lose sight of the record. Ask another "
            "named manager.",
            "user",
        )
    names.delete()
    audit_record(
        actor=actor,
        verb="access.restriction_unnamed",
        category=AuditCategory.ACCESS,
        obj=restriction,
        case=case,
        person=case.subject,
        summary=f"{user.display_name} may no longer see these restricted records",
    )


@transaction.atomic
def restriction_lift(*, actor: User, case: Case, reason: str) -> Restriction:
    _require_restriction_manager(actor, case)
    restriction = _restriction_in_force(case)
    if not reason.strip():
        raise InvalidInput("Say why the restriction is no longer needed.", "reason")
    restriction.lifted_by = actor
    restriction.lifted_at = timezone.now()
    restriction.lift_reason = reason.strip()
    restriction.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    audit_record(
        actor=actor,
        verb="access.restriction_lifted",
        category=AuditCategory.ACCESS,
        obj=restriction,
        case=case,
        person=case.subject,
        summary="Restriction lifted: the usual need to know applies again",
        reason=restriction.lift_reason,
    )
    return restriction
