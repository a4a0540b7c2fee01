"""Pre-fill sources: what a form heading can be filled with from the record, so workers
never re-type what Casework already knows. Each source is computed in a fixed number of
queries and returned as text the worker can edit, plus the records it came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from casework.cases.models import Case, MeetingKind
from casework.people.models import (
    INVERSE_RELATIONSHIP,
    Person,
    ProfessionalContact,
    Relationship,
    RelationshipKind,
    Residence,
)
from casework.policy.vocabulary import PREFILL_SOURCES


@dataclass(frozen=True)
class Prefill:
    text: str
    sources: list[str] = field(default_factory=list)


def _fmt(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "date not known"


def _household_members(case: Case) -> Prefill:
    subject = case.subject
    residence = Residence.objects.filter(person=subject, ended_on__isnull=True).first()
    if residence is None:
        return Prefill("No current address is recorded, so no household is known.")
    members = list(
        Person.objects.filter(
            residences__address_id=residence.address_id, residences__ended_on__isnull=True
        )
        .exclude(pk=subject.pk)
        .order_by("date_of_birth")
    )
    relationship_of: dict[int, str] = {}
    for rel in Relationship.objects.filter(
        Q(person=subject, relative__in=members) | Q(relative=subject, person__in=members)
    ):
        if rel.relative_id == subject.pk:
            relationship_of[rel.person_id] = RelationshipKind(rel.kind).label.lower()
        else:
            kind = INVERSE_RELATIONSHIP[rel.kind]
            relationship_of[rel.relative_id] = RelationshipKind(kind).label.lower()
    lines = [f"{subject.full_name} (born {_fmt(subject.date_of_birth)}), the subject"]
    for member in members:
        relation = relationship_of.get(member.pk, "no recorded relationship")
        lines.append(f"{member.full_name} (born {_fmt(member.date_of_birth)}), {relation}")
    return Prefill("\n".join(lines), [f"people.person:{m.pk}" for m in members])


def _agencies_involved(case: Case) -> Prefill:
    contacts = list(ProfessionalContact.objects.filter(person=case.subject, ended_on__isnull=True))
    if not contacts:
        return Prefill("No professionals or agencies are recorded as involved.")
    lines = [
        f"{c.get_role_display()}: {c.organisation}"
        + (f" ({c.name})" if c.name else "")
        + (" – lead professional" if c.is_lead_professional else "")
        for c in contacts
    ]
    return Prefill("\n".join(lines), [f"people.professionalcontact:{c.pk}" for c in contacts])


def _period_covered(case: Case) -> Prefill:
    end = case.closed_on or timezone.localdate()
    return Prefill(f"{_fmt(case.opened_on)} to {_fmt(end)}", [f"cases.case:{case.pk}"])


def _contact_frequency(case: Case) -> Prefill:
    visits = list(case.visits.filter(subject_seen=True).values_list("visited_on", flat=True))
    if not visits:
        return Prefill("No visits at which the person was seen are recorded.")
    first, last = min(visits), max(visits)
    weeks = max(1, ((case.closed_on or timezone.localdate()) - case.opened_on).days // 7)
    every = weeks / len(visits)
    rate = "about weekly" if every <= 1.5 else f"about every {round(every)} weeks"
    return Prefill(
        f"Seen {len(visits)} times between {_fmt(first)} and {_fmt(last)}: {rate}.",
        [f"cases.visit:count={len(visits)}"],
    )


def _lead_professional(case: Case) -> Prefill:
    lead = ProfessionalContact.objects.filter(
        person=case.subject, ended_on__isnull=True, is_lead_professional=True
    ).first()
    if lead is None:
        return Prefill("No lead professional is recorded.")
    parts = [p for p in (lead.name, lead.designation, lead.organisation) if p]
    return Prefill(", ".join(parts), [f"people.professionalcontact:{lead.pk}"])


def _current_address(case: Case) -> Prefill:
    residence = (
        Residence.objects.select_related("address")
        .filter(person=case.subject, ended_on__isnull=True)
        .first()
    )
    if residence is None:
        return Prefill("No current address is recorded.")
    return Prefill(str(residence.address), [f"people.residence:{residence.pk}"])


def _last_visit(case: Case) -> Prefill:
    visit = case.visits.first()
    if visit is None:
        return Prefill("No visits are recorded.")
    details = ["seen" if visit.subject_seen else "not seen"]
    if visit.seen_alone:
        details.append("seen alone")
    if visit.home_visited:
        details.append("home visited")
    return Prefill(f"{_fmt(visit.visited_on)}: {', '.join(details)}", [f"cases.visit:{visit.pk}"])


def _final_meeting_date(case: Case) -> Prefill:
    meeting = case.meetings.filter(kind=MeetingKind.FINAL).first()
    if meeting is None:
        return Prefill("")
    return Prefill(meeting.held_on.isoformat(), [f"cases.meeting:{meeting.pk}"])


def _plans_and_outcomes(case: Case) -> Prefill:
    plans = list(case.plans.all())
    if not plans:
        return Prefill("No plans are recorded.")
    lines = [
        f"{p.get_kind_display()}: {_fmt(p.started_on)} to "
        f"{_fmt(p.ended_on) if p.ended_on else 'now'}"
        + (f". Outcome: {p.outcome}" if p.outcome else "")
        for p in plans
    ]
    return Prefill("\n".join(lines), [f"cases.plan:{p.pk}" for p in plans])


def _reasons_for_involvement(case: Case) -> Prefill:
    referrals = list(case.referrals.order_by("received_on"))
    lines = [f"{_fmt(r.received_on)} ({r.get_source_display()}): {r.reason}" for r in referrals]
    return Prefill("\n".join(lines), [f"cases.referral:{r.pk}" for r in referrals])


SOURCES: dict[str, Callable[[Case], Prefill]] = {
    "household_members": _household_members,
    "agencies_involved": _agencies_involved,
    "period_covered": _period_covered,
    "contact_frequency": _contact_frequency,
    "lead_professional": _lead_professional,
    "current_address": _current_address,
    "last_visit": _last_visit,
    "final_meeting_date": _final_meeting_date,
    "plans_and_outcomes": _plans_and_outcomes,
    "reasons_for_involvement": _reasons_for_involvement,
}

assert set(SOURCES) == set(PREFILL_SOURCES), "every documented source has a function"  # noqa: S101


def prefill(source: str, case: Case) -> Prefill:
    return SOURCES[source](case)
