"""When a person's record reaches the end of its retention period (X-04).

The schedule is data: each service area's bound policy pack lists its `retention` classes
(docs/policy-packs.md, "Retention"), each with a condition over the case view, a trigger
date and a number of years, and exceptions (`instead`) such as the looked-after child who
died before 18. This module supplies what the pack leaves to code: which pack a case is read
under, the date each trigger names, and how the dates of a person's cases combine.

- **The pack**: the authority's bound closure pack for the case's service area, else its
  transfer pack, else the built-in common pack of the service area (`children-common`,
  `adults-common`), which every built-in pack extends. The first class whose condition holds
  is the case's class (packs list the longest-kept first: adoption, looked after, child
  protection, then child in need).
- **The unit is the person**: their record is due when every case is closed and the latest
  due date across their cases has passed. Across cases the longest period wins, so a child
  protection case followed by a looked-after case is kept to the 75th birthday, and a
  looked-after case never shortens a longer child protection period.
- **Trigger dates that are not recorded**: Casework has no adoption order date, and a date of
  birth may be missing. The case's closure date stands in, with a note saying so: it is never
  earlier than the missing date (a child is born before their case closes; a case closed as
  adopted closes on or after the order), so a stand-in never brings destruction forward.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import Max

from casework.cases.models import Case, CaseNote, CaseStatus, Meeting, Referral, Visit
from casework.core.calendar import WorkingDayCalendar
from casework.core.codes import CinClosureReason
from casework.organisation.models import Authority, ServiceArea
from casework.people.models import Person
from casework.policy.caseview import CaseViewBuilder
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import retention_class
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.models import PackPurpose
from casework.policy.services import bound_pack
from casework.policy.vocabulary import RETENTION_TRIGGERS

# The built-in pack each service area falls back to when no pack is bound.
COMMON_PACKS = {ServiceArea.CHILDREN: "children-common", ServiceArea.ADULTS: "adults-common"}

TRIGGER_WORDS = {
    "date_of_birth": "the date of birth",
    "date_of_death": "the date of death",
    "case_closed": "the case's closure",
    "adoption_order": "the adoption order",
    "end_of_care": "the end of care and support",
    "last_contact": "the last contact",
}
assert set(TRIGGER_WORDS) == set(RETENTION_TRIGGERS)  # noqa: S101 - a new trigger needs words

NO_DATE_OF_BIRTH = "Date of birth not recorded: counted from the case's closure, which is later."
NO_DATE_OF_DEATH = "Date of death not recorded: counted from the case's closure instead."
ADOPTION_FROM_CLOSURE = (
    "The adoption order date is not recorded: counted from the case's closure as adopted, "
    "which is on or after the order."
)
ADOPTION_NOT_RECORDED = (
    "The adoption order date is not recorded and the case did not close as adopted: counted "
    "from the case's closure."
)


class ScheduleProblem(Exception):
    """A case no class of the schedule covers, or a pack that cannot be read."""


def add_years(day: dt.date, years: int) -> dt.date:
    """`years` after `day`; 29 February moves to 28 February in a year without one."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def describe_period(trigger: str, years: int) -> str:
    """e.g. "75 years from the date of birth"."""
    unit = "year" if years == 1 else "years"
    return f"{years} {unit} from {TRIGGER_WORDS.get(trigger, trigger)}"


@dataclass(frozen=True)
class CaseDate:
    """One closed case: its class, the date its period runs from, and when it ends."""

    case_id: int
    reference: str
    service_area: str
    closed_on: dt.date
    class_id: str
    class_label: str
    basis: str
    trigger: str
    years: int
    trigger_on: dt.date
    due_on: dt.date
    note: str = ""

    @property
    def period(self) -> str:
        return describe_period(self.trigger, self.years)


@dataclass(frozen=True)
class RecordDate:
    """A person's whole record: due when every case is closed and the latest date passed."""

    person_id: int
    open_cases: int
    cases: tuple[CaseDate, ...] = ()

    @property
    def deciding(self) -> CaseDate | None:
        """The case whose date is latest, which sets the record's date (ties: the first)."""
        if self.open_cases or not self.cases:
            return None
        latest = max(c.due_on for c in self.cases)
        return next(c for c in self.cases if c.due_on == latest)

    @property
    def due_on(self) -> dt.date | None:
        deciding = self.deciding
        return deciding.due_on if deciding else None

    @property
    def class_ids(self) -> list[str]:
        return sorted({c.class_id for c in self.cases})

    @property
    def service_areas(self) -> list[str]:
        return sorted({c.service_area for c in self.cases})

    def is_due(self, today: dt.date) -> bool:
        due_on = self.due_on
        return due_on is not None and due_on <= today


@dataclass
class Schedule:
    """Reads cases against their packs, remembering packs and calendars between cases (a
    sweep reads thousands)."""

    today: dt.date
    _packs: dict[tuple[int, str], PolicyPack] = field(default_factory=dict)
    _calendars: dict[int, WorkingDayCalendar] = field(default_factory=dict)

    def pack_for(self, authority: Authority, service_area: str) -> PolicyPack:
        key = (authority.pk, service_area)
        if key not in self._packs:
            self._packs[key] = schedule_pack(authority, service_area)
        return self._packs[key]

    def _calendar(self, authority: Authority) -> WorkingDayCalendar:
        if authority.pk not in self._calendars:
            self._calendars[authority.pk] = authority.calendar()
        return self._calendars[authority.pk]

    def case_date(self, case: Case) -> CaseDate:
        """The class and due date of one closed case (`case.subject` and
        `case.responsible_team.authority` should be loaded)."""
        if case.status != CaseStatus.CLOSED or case.closed_on is None:
            raise ValueError(f"case {case.pk} is open: an open case has no retention date")
        authority = case.responsible_team.authority
        pack = self.pack_for(authority, case.service_area)
        view = CaseViewBuilder(
            case=case, today=self.today, calendar=self._calendar(authority)
        ).build()
        decision = retention_class(pack, EvaluationContext(view))
        if decision is None:
            raise ScheduleProblem(
                f"No retention class of the {pack.id} pack covers case {case.reference}: "
                'add a class that applies to every case (applies_when: "true") at the end.'
            )
        trigger_on, note = trigger_date(decision.trigger, case, case.subject)
        return CaseDate(
            case_id=case.pk,
            reference=case.reference,
            service_area=case.service_area,
            closed_on=case.closed_on,
            class_id=decision.record_class.id,
            class_label=decision.record_class.label,
            basis=decision.record_class.basis,
            trigger=decision.trigger,
            years=decision.years,
            trigger_on=trigger_on,
            due_on=add_years(trigger_on, decision.years),
            note=note,
        )

    def record_date(self, person: Person) -> RecordDate:
        cases = list(
            Case.objects.filter(subject=person)
            .select_related("subject", "responsible_team__authority")
            .order_by("opened_on", "id")
        )
        open_cases = sum(1 for c in cases if c.status != CaseStatus.CLOSED)
        if open_cases:
            return RecordDate(person.pk, open_cases)
        return RecordDate(person.pk, 0, tuple(self.case_date(c) for c in cases))

    def fingerprint(self, authorities: list[Authority]) -> str:
        """Changes when any schedule in use changes (a pack is bound or edited), so that the
        sweep's estimates are worked out again."""
        parts = []
        for authority in authorities:
            for area in ServiceArea.values:
                pack = self.pack_for(authority, area)
                classes = [c.model_dump(mode="json") for c in pack.spec.retention]
                parts.append([authority.pk, area, pack.id, classes])
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def schedule_pack(authority: Authority, service_area: str) -> PolicyPack:
    """The pack whose `retention` section governs `service_area`'s records."""
    for purpose in (PackPurpose.CLOSURE, PackPurpose.TRANSFER):
        pack = bound_pack(authority, service_area, purpose)
        if pack is not None and pack.spec.retention:
            return pack
    return load_pack(COMMON_PACKS[ServiceArea(service_area)])


def _last_contact(case: Case) -> dt.date | None:
    dates = [
        Visit.objects.filter(case=case).aggregate(d=Max("visited_on"))["d"],
        CaseNote.objects.filter(case=case).aggregate(d=Max("occurred_on"))["d"],
        Meeting.objects.filter(case=case).aggregate(d=Max("held_on"))["d"],
        Referral.objects.filter(case=case).aggregate(d=Max("received_on"))["d"],
    ]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def trigger_date(trigger: str, case: Case, subject: Person) -> tuple[dt.date, str]:
    """The date `trigger` names for a closed case, and a note if a stand-in was used."""
    closed = case.closed_on
    assert closed is not None  # noqa: S101 - only closed cases are dated
    if trigger == "date_of_birth":
        if subject.date_of_birth is None:
            return closed, NO_DATE_OF_BIRTH
        return subject.date_of_birth, ""
    if trigger == "date_of_death":
        if subject.date_of_death is None:
            return closed, NO_DATE_OF_DEATH
        return subject.date_of_death, ""
    if trigger == "adoption_order":
        if case.closure_reason == CinClosureReason.RC1:
            return closed, ADOPTION_FROM_CLOSURE
        return closed, ADOPTION_NOT_RECORDED
    if trigger == "last_contact":
        return _last_contact(case) or closed, ""
    # case_closed, and end_of_care: care and support end when the case closes.
    return closed, ""
