"""The case view: the documented, read-only facts about a case that policy-pack conditions
(CEL expressions) are evaluated against.

`CASE_VIEW` describes every field (its type and meaning); pack loading rejects any field path
not described here, and a test checks that `build_case_view` produces exactly these fields,
so the documentation cannot drift from the data. `build_case_view` runs a fixed number of
queries whatever the size of the case.

Dates are CEL timestamps (midnight UTC). Most dated items also carry `days_ago` and
`working_days_ago`, which are easier to write conditions with than timestamp arithmetic.
Optional dates are null when absent: guard them (`plans.cp.ended && ... plans.cp.last_ended_on`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from django.db.models import Q
from django.utils import timezone

from casework.cases.models import (
    Allocation,
    Assessment,
    Case,
    CaseNote,
    CaseStatus,
    Consent,
    Document,
    ManagerDecision,
    Meeting,
    Plan,
    Referral,
    Section47Enquiry,
    SupervisionRecord,
    Visit,
)
from casework.core.calendar import WorkingDayCalendar
from casework.core.compiled import CompiledRead, first
from casework.organisation.models import Authority
from casework.people.models import (
    INVERSE_RELATIONSHIP,
    CarerLink,
    ContactRole,
    KeySafe,
    Person,
    PhoneNumber,
    ProfessionalContact,
    Relationship,
    Residence,
)


@dataclass(frozen=True)
class Leaf:
    """One fact: its CEL type and what it means."""

    type: str  # bool, int, string, timestamp, list<string>
    doc: str
    nullable: bool = False


@dataclass(frozen=True)
class ListOf:
    """A list of records, each with the fields in `item`."""

    item: dict[str, Node]
    doc: str


Node = Leaf | ListOf | dict[str, "Node"]

PLAN_KINDS = (
    "cin",
    "cp",
    "lac",
    "early_help",
    "adult_care_support",
    "adult_protection",
    "dols",
    "safety",
)


def _plan_summary(label: str) -> dict[str, Node]:
    return {
        "ever": Leaf("bool", f"The case has ever had a {label}."),
        "open": Leaf("bool", f"A {label} is open now."),
        "ended": Leaf("bool", f"At least one {label} has ended."),
        "count": Leaf("int", f"How many {label}s the case has had."),
        "last_started_on": Leaf("timestamp", f"When the latest {label} started.", True),
        "last_ended_on": Leaf("timestamp", f"When the latest ended {label} ended.", True),
        "legal_status": Leaf("string", "Legal status of the open plan (looked after), or ''."),
    }


_DATED: dict[str, Node] = {
    "days_ago": Leaf("int", "Calendar days from the date to today."),
    "working_days_ago": Leaf("int", "Working days from the date to today."),
}

CASE_VIEW: dict[str, Node] = {
    "now": Leaf("timestamp", "Today, midnight UTC."),
    "case": {
        "reference": Leaf("string", "The case reference."),
        "service_area": Leaf("string", "'children' or 'adults'."),
        "status": Leaf("string", "'open' or 'closed'."),
        "team": Leaf("string", "Code of the responsible team (e.g. 'sgcp')."),
        "team_function": Leaf("string", "What the responsible team does (e.g. 'looked_after')."),
        "opened_on": Leaf("timestamp", "When the case was opened."),
        "days_open": Leaf("int", "Calendar days since the case was opened."),
        "working_days_open": Leaf("int", "Working days since the case was opened."),
        "is_complex": Leaf("bool", "A manager decided the case is complex (false if undecided)."),
        "complexity_decided": Leaf("bool", "Someone has decided whether the case is complex."),
        "allocated": Leaf("bool", "The case has an allocated worker."),
        "risk_flags": Leaf(
            "list<string>",
            "Risk flags: high_risk, complex, self_neglect, disengaging, domestic_abuse.",
        ),
        "workers_count": Leaf("int", "How many different workers have held the case."),
        "closure_reason": Leaf("string", "The national closure code once closed, else ''."),
    },
    "subject": {
        "age": Leaf("int", "Age in whole years today (-1 if the date of birth is unknown)."),
        "is_unborn": Leaf("bool", "Only an expected date of birth is recorded."),
        "deceased": Leaf("bool", "A date of death is recorded."),
        "age_at_death": Leaf("int", "Age in whole years when they died (-1 if alive or unknown)."),
        "sex": Leaf("string", "M, F or U."),
        "ethnicity": Leaf("string", "CIN ethnicity code, or '' if not recorded."),
        "ethnicity_recorded": Leaf(
            "bool", "An ethnicity other than 'not yet obtained' is recorded."
        ),
        "ethnicity_asked": Leaf("bool", "The worker asked the person their ethnicity."),
        "has_nhs_number": Leaf("bool", "An NHS number is recorded."),
        "has_upn": Leaf("bool", "A Unique Pupil Number is recorded."),
        "has_current_address": Leaf("bool", "A current address is recorded."),
        "address_confirmed_days_ago": Leaf(
            "int", "Days since the current address started (-1 if none)."
        ),
        "has_phone": Leaf("bool", "A current phone number is recorded."),
        "has_gp": Leaf("bool", "A current GP is recorded."),
        "has_school": Leaf("bool", "A current school or nursery is recorded."),
        "has_key_safe": Leaf("bool", "A key safe is recorded."),
        "key_safe_code_recorded": Leaf("bool", "The key safe's code is recorded."),
        "carers": Leaf("int", "Current unpaid carers linked to the person."),
        "is_carer": Leaf("bool", "The person is an unpaid carer for someone."),
    },
    "household": {
        "members": ListOf(
            {
                "age": Leaf("int", "Age in years (-1 if unknown)."),
                "is_child": Leaf("bool", "Under 18."),
                "relationship": Leaf("string", "Relationship to the subject, or ''."),
                "has_school": Leaf("bool", "A current school or nursery is recorded."),
            },
            "The other people living at the subject's current address.",
        ),
        "children": Leaf("int", "Children (under 18) in the household, excluding the subject."),
        "adults": Leaf("int", "Adults in the household, excluding the subject."),
        "school_age_children_without_school": Leaf(
            "int", "Household children aged 4-16 (the subject included) with no school recorded."
        ),
    },
    "contacts": ListOf(
        {
            "role": Leaf("string", "gp, school, health_visitor, police, ..."),
            "organisation": Leaf("string", "The organisation or agency."),
            "lead": Leaf("bool", "This is the lead professional."),
        },
        "The professionals and agencies currently involved with the subject.",
    ),
    "lead_professional": {
        "exists": Leaf("bool", "A current lead professional is recorded."),
        "name": Leaf("string", "Their name ('' if none)."),
        "designation": Leaf("string", "Their designation ('' if none)."),
        "agency": Leaf("string", "Their agency ('' if none)."),
    },
    "section47": {
        "ever": Leaf("bool", "The case has ever had a section 47 enquiry."),
        "open": Leaf("bool", "A section 47 enquiry is open (no outcome yet)."),
        "count": Leaf("int", "How many section 47 enquiries the case has had."),
    },
    "plans": {
        **{kind: _plan_summary(kind.replace("_", " ") + " plan") for kind in PLAN_KINDS},
        "all": ListOf(
            {
                "kind": Leaf("string", "cin, cp, lac, early_help, adult_care_support, ..."),
                "started_on": Leaf("timestamp", "Start date."),
                "ended_on": Leaf("timestamp", "End date.", True),
                "open": Leaf("bool", "Not ended."),
                "category": Leaf("string", "Latest category of abuse (CP), or ''."),
                "legal_status": Leaf("string", "Legal status (looked after), or ''."),
            },
            "Every plan on the case, newest first.",
        ),
    },
    "visits": ListOf(
        {
            "date": Leaf("timestamp", "The visit date."),
            **_DATED,
            "seen": Leaf("bool", "The subject was seen."),
            "seen_alone": Leaf("bool", "The subject was seen alone."),
            "home_visited": Leaf("bool", "The home or accommodation was visited."),
            "face_to_face": Leaf("bool", "The visit was face to face."),
        },
        "Every visit on the case, newest first.",
    ),
    "assessments": ListOf(
        {
            "kind": Leaf("string", "single, short, cin, care_act, carer, mental_capacity, ..."),
            "started_on": Leaf("timestamp", "Start date."),
            "completed": Leaf("bool", "The assessment is complete."),
            "completed_on": Leaf("timestamp", "Completion date.", True),
            "authorised": Leaf("bool", "A manager authorised it."),
            "sent": Leaf("bool", "It was sent to the person and stakeholders."),
            "capacity": Leaf("string", "has_capacity, lacks_capacity or ''."),
            "eligible_unmet_needs": Leaf("string", "'yes', 'no' or 'unknown'."),
            "offered_and_declined": Leaf("bool", "Offered and declined."),
        },
        "Every assessment on the case, newest first.",
    ),
    "meetings": ListOf(
        {
            "kind": Leaf("string", "cin_meeting, icpc, final, transfer, care_team, ..."),
            "date": Leaf("timestamp", "When it was held."),
            **_DATED,
            "attendees": Leaf("int", "How many attended."),
            "has_minutes": Leaf("bool", "Minutes are recorded."),
        },
        "Every meeting on the case, newest first.",
    ),
    "supervisions": ListOf(
        {"date": Leaf("timestamp", "When it was held."), **_DATED},
        "Every supervision record on the case, newest first.",
    ),
    "decisions": ListOf(
        {
            "kind": Leaf("string", "advise_closure, nfa, step_down, transfer, ..."),
            "date": Leaf("timestamp", "When it was made."),
            **_DATED,
        },
        "Every manager's decision on the case, newest first.",
    ),
    "consents": ListOf(
        {
            "kind": Leaf("string", "share_information, assessment, early_help."),
            "signed": Leaf("bool", "A signed copy is on file."),
            "withdrawn": Leaf("bool", "Consent has been withdrawn."),
        },
        "Every consent recorded on the case.",
    ),
    "documents": ListOf(
        {"kind": Leaf("string", "minutes, genogram, chronology, ..."), **_DATED},
        "Every document on the case, newest first.",
    ),
    "notes": {
        "count": Leaf("int", "How many case notes there are."),
        "days_since_last": Leaf("int", "Days since the latest note (-1 if none)."),
        "closure_discussion_recorded": Leaf("bool", "A closure discussion note is recorded."),
    },
    "referrals": ListOf(
        {
            "kind": Leaf("string", "contact or referral."),
            "source": Leaf("string", "The national referral source code."),
            "date": Leaf("timestamp", "When it was received."),
            **_DATED,
            "nfa": Leaf("bool", "No further action."),
        },
        "Every contact and referral on the case, newest first.",
    ),
    "previous_case": {
        "exists": Leaf("bool", "The subject has an earlier, closed case in this service area."),
        "team": Leaf("string", "Code of the team that held it last ('' if none)."),
        "team_function": Leaf("string", "What that team does ('' if none)."),
        "closed_on": Leaf("timestamp", "When it closed.", True),
        "days_since_closed": Leaf("int", "Days since it closed (-1 if none)."),
        "closure_reason": Leaf("string", "Its closure reason code ('' if none)."),
    },
}


# Which parts of the view to build: each root wanted, with the fields of it that are read
# (None: the whole root). See `view_shape`. Only the case, the subject and the household
# build field by field (their fields cost a query each); other roots are built whole.
FIELD_BY_FIELD = frozenset({"case", "subject", "household"})
ViewShape = Mapping[str, frozenset[str] | None]


def view_shape(facts: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """The roots and first-level fields that conditions citing `facts` (`subject.deceased`,
    `plans.cp.open`, `visits`) read: a fact naming a root alone, or a root that is a list,
    wants the whole root."""
    shape: dict[str, frozenset[str] | None] = {}
    for fact in facts:
        root, _, rest = fact.partition(".")
        root = root.removesuffix("[]")
        node = CASE_VIEW.get(root)
        if node is None:
            continue  # `form`, a form's own answers, is not part of the case view
        name = rest.partition(".")[0].removesuffix("[]")
        if root in shape and shape[root] is None:
            continue
        if isinstance(node, dict) and name in node:
            shape[root] = (shape.get(root) or frozenset()) | {name}
        else:
            shape[root] = None
    return shape


def merge_shapes(*shapes: ViewShape) -> dict[str, frozenset[str] | None]:
    merged: dict[str, frozenset[str] | None] = {}
    for shape in shapes:
        for root, names in shape.items():
            if names is None or (root in merged and merged[root] is None):
                merged[root] = None
            else:
                merged[root] = (merged.get(root) or frozenset()) | names
    return merged


def _ts(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(frozen=True)
class AlreadyRead:
    """What a page has already read of a case in this request, so that building its view
    does not read it again (the case page: eight queries fewer). Each list is the whole of
    it, in the models' own order, read as the builder would read it; `case` carries its
    subject and its team's authority. Services never pass this: they build from a fresh
    read inside their transaction."""

    case: Case
    contacts: list[ProfessionalContact]  # current ones (not ended)
    residence: Residence | None  # the current one
    plans: list[Plan]
    visits: list[Visit]
    documents: list[Document]
    previous: Case | None  # the subject's latest closed case in the service, with its team
    allocations: list[Allocation]


# The record's reads, each by the case's or the subject's id, compiled once per process
# (casework.core.compiled): a closure proposal makes a dozen, and writing their SQL cost
# more than running it. Each is what the model's related manager reads, in its ordering.
_PLANS = CompiledRead(lambda case_id: Plan.objects.filter(case_id=case_id))
_VISITS = CompiledRead(lambda case_id: Visit.objects.filter(case_id=case_id))
_DOCUMENTS = CompiledRead(lambda case_id: Document.objects.filter(case_id=case_id))
_ASSESSMENTS = CompiledRead(lambda case_id: Assessment.objects.filter(case_id=case_id))
_MEETINGS = CompiledRead(lambda case_id: Meeting.objects.filter(case_id=case_id))
_SUPERVISIONS = CompiledRead(lambda case_id: SupervisionRecord.objects.filter(case_id=case_id))
_DECISIONS = CompiledRead(lambda case_id: ManagerDecision.objects.filter(case_id=case_id))
_CONSENTS = CompiledRead(lambda case_id: Consent.objects.filter(case_id=case_id))
_REFERRALS = CompiledRead(lambda case_id: Referral.objects.filter(case_id=case_id))
_SECTION47_OUTCOMES = CompiledRead(
    lambda case_id: Section47Enquiry.objects.filter(case_id=case_id).values_list(
        "outcome", flat=True
    )
)
_NOTE_DAYS_AND_KINDS = CompiledRead(
    lambda case_id: CaseNote.objects.filter(case_id=case_id).values_list("occurred_on", "kind")
)
_WORKERS = CompiledRead(
    lambda case_id: (
        Allocation.objects.filter(case_id=case_id)
        .exclude(worker=None)
        .values_list("worker_id", flat=True)
    )
)
_CURRENT_CONTACTS = CompiledRead(
    lambda person_id: ProfessionalContact.objects.filter(person_id=person_id, ended_on__isnull=True)
)
_CURRENT_RESIDENCE = CompiledRead(
    lambda person_id: first(
        Residence.objects.select_related("address").filter(
            person_id=person_id, ended_on__isnull=True
        )
    )
)
_KEY_SAFE = CompiledRead(lambda person_id: first(KeySafe.objects.filter(person_id=person_id)))
_HAS_PHONE = CompiledRead(
    lambda person_id: PhoneNumber.objects.filter(person_id=person_id, is_current=True),
    exists=True,
)
_CURRENT_CARER_LINKS = CompiledRead(
    lambda carer_id, cared_for_id: CarerLink.objects.filter(
        Q(carer_id=carer_id) | Q(cared_for_id=cared_for_id), ended_on__isnull=True
    )
)


class _Record:
    """The parts of a case's record the view is built from, each read the first time a
    section asks for it (so a view of a few roots reads only what they need), or taken from
    what the page has already read."""

    def __init__(self, case: Case, known: AlreadyRead | None) -> None:
        self.case = case
        self.subject: Person = case.subject
        self.known = known

    @cached_property
    def contacts(self) -> list[ProfessionalContact]:
        return self.known.contacts if self.known else current_contacts(self.subject)

    @cached_property
    def residence(self) -> Residence | None:
        return self.known.residence if self.known else current_residence(self.subject)

    @cached_property
    def plans(self) -> list[Plan]:
        return self.known.plans if self.known else _PLANS(self.case.pk)

    @cached_property
    def visits(self) -> list[Visit]:
        return self.known.visits if self.known else _VISITS(self.case.pk)

    @cached_property
    def documents(self) -> list[Document]:
        return self.known.documents if self.known else _DOCUMENTS(self.case.pk)

    @cached_property
    def previous(self) -> Case | None:
        return self.known.previous if self.known else previous_case(self.case)

    @cached_property
    def workers(self) -> set[int]:
        if self.known:
            return {a.worker_id for a in self.known.allocations if a.worker_id is not None}
        return set(_WORKERS(self.case.pk))

    @cached_property
    def key_safe(self) -> KeySafe | None:
        return _KEY_SAFE.one(self.subject.pk)

    @cached_property
    def has_phone(self) -> bool:
        return _HAS_PHONE.exists(self.subject.pk)

    @cached_property
    def carer_links(self) -> list[CarerLink]:
        return _CURRENT_CARER_LINKS(self.subject.pk, self.subject.pk)


@dataclass
class CaseViewBuilder:
    """Builds the view for one case in a fixed number of queries: all of it, or only the
    roots and fields `shape` asks for (a procedure's conditions read a few:
    `PolicyPack.case_view_shape`), reading only what those need."""

    case: Case
    today: dt.date = field(default_factory=timezone.localdate)
    calendar: WorkingDayCalendar | None = None
    already_read: AlreadyRead | None = None
    # `case` was read with its subject and its team's authority by the caller, in the
    # transaction the view is built for, and nothing has written to it since.
    case_is_current: bool = False
    shape: ViewShape | None = None  # None: the whole view

    def _dated(self, day: dt.date, calendar: WorkingDayCalendar) -> dict[str, Any]:
        return {
            "days_ago": (self.today - day).days,
            "working_days_ago": calendar.working_days_between(day, self.today),
        }

    def build(self) -> dict[str, Any]:
        known = self.already_read
        if known is not None and known.case.pk != self.case.pk:
            raise ValueError("The records already read are of another case.")
        if known is not None:
            case = known.case
        elif self.case_is_current:
            case = self.case
        else:
            case = Case.objects.select_related("subject", "responsible_team__authority").get(
                pk=self.case.pk
            )
        shape: ViewShape = (
            dict.fromkeys(CASE_VIEW) if self.shape is None else {"now": None, **self.shape}
        )
        unknown = shape.keys() - CASE_VIEW.keys()
        if unknown:
            raise ValueError(f"The case view has no {', '.join(sorted(unknown))}.")
        calendar = self.calendar or _calendar_for(case.responsible_team.authority)
        record = _Record(case, known)
        sections = self._sections(record, calendar)
        return {name: build(shape[name]) for name, build in sections.items() if name in shape}

    def _sections(
        self, record: _Record, calendar: WorkingDayCalendar
    ) -> dict[str, Callable[[frozenset[str] | None], Any]]:
        """Each root of the view, built when called with the fields wanted (None: all). The
        roots whose fields cost a query each (the case, the subject, the household) build
        only the fields wanted; the others are one read each, built whole."""
        case, subject, today = record.case, record.subject, self.today
        school_roles = {ContactRole.SCHOOL, ContactRole.NURSERY}
        age = subject.age_on(today)

        def only(
            fields: dict[str, Callable[[], Any]], wanted: frozenset[str] | None
        ) -> dict[str, Any]:
            return {name: value() for name, value in fields.items() if not wanted or name in wanted}

        def whole(build: Callable[[], Any]) -> Callable[[frozenset[str] | None], Any]:
            return lambda wanted: build()

        def case_section(wanted: frozenset[str] | None) -> dict[str, Any]:
            return only(
                {
                    "reference": lambda: case.reference,
                    "service_area": lambda: case.service_area,
                    "status": lambda: case.status,
                    "team": lambda: case.responsible_team.code,
                    "team_function": lambda: case.responsible_team.function,
                    "opened_on": lambda: _ts(case.opened_on),
                    "days_open": lambda: (today - case.opened_on).days,
                    "working_days_open": lambda: calendar.working_days_between(
                        case.opened_on, today
                    ),
                    "is_complex": lambda: bool(case.is_complex),
                    "complexity_decided": lambda: case.is_complex is not None,
                    "allocated": lambda: case.allocated_worker_id is not None,
                    "risk_flags": lambda: list(case.risk_flags),
                    "workers_count": lambda: len(record.workers),
                    "closure_reason": lambda: case.closure_reason,
                },
                wanted,
            )

        def subject_section(wanted: frozenset[str] | None) -> dict[str, Any]:
            def carers_of() -> int:
                return sum(1 for link in record.carer_links if link.cared_for_id == subject.pk)

            return only(
                {
                    "age": lambda: -1 if age is None else age,
                    "is_unborn": lambda: (
                        subject.date_of_birth is None and subject.expected_date_of_birth is not None
                    ),
                    "deceased": lambda: subject.date_of_death is not None,
                    "age_at_death": lambda: _age_at_death(subject),
                    "sex": lambda: subject.sex,
                    "ethnicity": lambda: subject.ethnicity,
                    "ethnicity_recorded": lambda: subject.ethnicity not in ("", "NOBT"),
                    "ethnicity_asked": lambda: subject.ethnicity_asked,
                    "has_nhs_number": lambda: bool(subject.nhs_number),
                    "has_upn": lambda: bool(subject.upn),
                    "has_current_address": lambda: record.residence is not None,
                    "address_confirmed_days_ago": lambda: (
                        (today - record.residence.started_on).days if record.residence else -1
                    ),
                    "has_phone": lambda: record.has_phone,
                    "has_gp": lambda: any(c.role == ContactRole.GP for c in record.contacts),
                    "has_school": lambda: any(c.role in school_roles for c in record.contacts),
                    "has_key_safe": lambda: record.key_safe is not None,
                    "key_safe_code_recorded": lambda: bool(
                        record.key_safe and record.key_safe.code
                    ),
                    "carers": carers_of,
                    "is_carer": lambda: any(
                        link.carer_id == subject.pk for link in record.carer_links
                    ),
                },
                wanted,
            )

        def household_section(wanted: frozenset[str] | None) -> dict[str, Any]:
            # Read on the first field asked for, once.
            household = cache(lambda: self._household(subject, record.residence))

            def part(name: str) -> Any:
                return household()[name]

            def without_school() -> int:
                subject_needs_school = (
                    age is not None
                    and 4 <= age <= 16
                    and not any(c.role in school_roles for c in record.contacts)
                )
                return int(part("_without_school")) + (1 if subject_needs_school else 0)

            return only(
                {
                    "members": lambda: part("members"),
                    "children": lambda: part("children"),
                    "adults": lambda: part("adults"),
                    "school_age_children_without_school": without_school,
                },
                wanted,
            )

        def lead_professional_section() -> dict[str, Any]:
            lead = next((c for c in record.contacts if c.is_lead_professional), None)
            return {
                "exists": lead is not None,
                "name": lead.name if lead else "",
                "designation": lead.designation if lead else "",
                "agency": lead.organisation if lead else "",
            }

        def section47_section() -> dict[str, Any]:
            outcomes = _SECTION47_OUTCOMES(case.pk)
            return {
                "ever": bool(outcomes),
                "open": any(not outcome for outcome in outcomes),
                "count": len(outcomes),
            }

        def notes_section() -> dict[str, Any]:
            notes = _NOTE_DAYS_AND_KINDS(case.pk)
            return {
                "count": len(notes),
                "days_since_last": (today - max(n[0] for n in notes)).days if notes else -1,
                "closure_discussion_recorded": any(n[1] == "closure_discussion" for n in notes),
            }

        def previous_case_section() -> dict[str, Any]:
            previous = record.previous
            return {
                "exists": previous is not None,
                "team": previous.responsible_team.code if previous else "",
                "team_function": previous.responsible_team.function if previous else "",
                "closed_on": _ts(previous.closed_on) if previous else None,
                "days_since_closed": (today - previous.closed_on).days
                if previous and previous.closed_on
                else -1,
                "closure_reason": previous.closure_reason if previous else "",
            }

        return {
            "now": whole(lambda: _ts(today)),
            "case": case_section,
            "subject": subject_section,
            "household": household_section,
            "contacts": whole(
                lambda: [
                    {"role": c.role, "organisation": c.organisation, "lead": c.is_lead_professional}
                    for c in record.contacts
                ]
            ),
            "lead_professional": whole(lead_professional_section),
            "section47": whole(section47_section),
            "plans": whole(lambda: self._plans(record.plans)),
            "visits": whole(
                lambda: [
                    {
                        "date": _ts(v.visited_on),
                        **self._dated(v.visited_on, calendar),
                        "seen": v.subject_seen,
                        "seen_alone": v.seen_alone,
                        "home_visited": v.home_visited,
                        "face_to_face": v.face_to_face,
                    }
                    for v in record.visits
                ]
            ),
            "assessments": whole(
                lambda: [
                    {
                        "kind": a.kind,
                        "started_on": _ts(a.started_on),
                        "completed": a.completed_on is not None,
                        "completed_on": _ts(a.completed_on),
                        "authorised": a.authorised_on is not None,
                        "sent": bool(a.sent_to),
                        "capacity": a.capacity,
                        "eligible_unmet_needs": _yes_no_unknown(a.eligible_unmet_needs),
                        "offered_and_declined": a.offered_and_declined,
                    }
                    for a in _ASSESSMENTS(case.pk)
                ]
            ),
            "meetings": whole(
                lambda: [
                    {
                        "kind": m.kind,
                        "date": _ts(m.held_on),
                        **self._dated(m.held_on, calendar),
                        "attendees": len(m.attendees),
                        "has_minutes": bool(m.minutes.strip()),
                    }
                    for m in _MEETINGS(case.pk)
                ]
            ),
            "supervisions": whole(
                lambda: [
                    {"date": _ts(s.held_on), **self._dated(s.held_on, calendar)}
                    for s in _SUPERVISIONS(case.pk)
                ]
            ),
            "decisions": whole(
                lambda: [
                    {
                        "kind": d.kind,
                        "date": _ts(d.decided_on),
                        **self._dated(d.decided_on, calendar),
                    }
                    for d in _DECISIONS(case.pk)
                ]
            ),
            "consents": whole(
                lambda: [
                    {"kind": c.kind, "signed": c.signed, "withdrawn": c.withdrawn_on is not None}
                    for c in _CONSENTS(case.pk)
                ]
            ),
            "documents": whole(
                lambda: [
                    {"kind": d.kind, **self._dated(timezone.localdate(d.uploaded_at), calendar)}
                    for d in record.documents
                ]
            ),
            "notes": whole(notes_section),
            "referrals": whole(
                lambda: [
                    {
                        "kind": r.kind,
                        "source": r.source,
                        "date": _ts(r.received_on),
                        **self._dated(r.received_on, calendar),
                        "nfa": r.no_further_action,
                    }
                    for r in _REFERRALS(case.pk)
                ]
            ),
            "previous_case": whole(previous_case_section),
        }

    def _household(self, subject: Person, residence: Residence | None) -> dict[str, Any]:
        if residence is None:
            return {"members": [], "children": 0, "adults": 0, "_without_school": 0}
        members = list(
            Person.objects.filter(
                residences__address_id=residence.address_id, residences__ended_on__isnull=True
            ).exclude(pk=subject.pk)
        )
        ids = [m.pk for m in members]
        relationship_of: dict[int, str] = {}
        for rel in Relationship.objects.filter(
            Q(person=subject, relative_id__in=ids) | Q(relative=subject, person_id__in=ids)
        ):
            if rel.relative_id == subject.pk:
                relationship_of[rel.person_id] = rel.kind
            else:
                relationship_of[rel.relative_id] = INVERSE_RELATIONSHIP[rel.kind]
        with_school = set(
            ProfessionalContact.objects.filter(
                person_id__in=ids,
                ended_on__isnull=True,
                role__in=[ContactRole.SCHOOL, ContactRole.NURSERY],
            ).values_list("person_id", flat=True)
        )
        rows: list[dict[str, Any]] = []
        for member in members:
            age = member.age_on(self.today)
            rows.append(
                {
                    "age": -1 if age is None else age,
                    "is_child": age is not None and age < 18,
                    "relationship": relationship_of.get(member.pk, ""),
                    "has_school": member.pk in with_school,
                }
            )
        return {
            "members": rows,
            "children": sum(1 for r in rows if r["is_child"]),
            "adults": sum(1 for r in rows if not r["is_child"]),
            "_without_school": sum(1 for r in rows if 4 <= r["age"] <= 16 and not r["has_school"]),
        }

    @staticmethod
    def _plans(plans: list[Any]) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        for kind in PLAN_KINDS:
            mine = [p for p in plans if p.kind == kind]
            ended = [p for p in mine if p.ended_on is not None]
            open_plan = next((p for p in mine if p.ended_on is None), None)
            summary[kind] = {
                "ever": bool(mine),
                "open": open_plan is not None,
                "ended": bool(ended),
                "count": len(mine),
                "last_started_on": _ts(max(p.started_on for p in mine)) if mine else None,
                "last_ended_on": _ts(max(p.ended_on for p in ended)) if ended else None,
                "legal_status": open_plan.legal_status if open_plan else "",
            }
        summary["all"] = [
            {
                "kind": p.kind,
                "started_on": _ts(p.started_on),
                "ended_on": _ts(p.ended_on),
                "open": p.ended_on is None,
                "category": p.latest_category,
                "legal_status": p.legal_status,
            }
            for p in plans
        ]
        return summary


def current_contacts(subject: Person) -> list[ProfessionalContact]:
    return _CURRENT_CONTACTS(subject.pk)


def current_residence(subject: Person) -> Residence | None:
    return _CURRENT_RESIDENCE.one(subject.pk)


def previous_case(case: Case) -> Case | None:
    """The subject's latest closed case in the same service, with its team."""
    return (
        Case.objects.filter(
            subject_id=case.subject_id, service_area=case.service_area, status=CaseStatus.CLOSED
        )
        .exclude(pk=case.pk)
        .select_related("responsible_team")
        .order_by("-closed_on", "-id")
        .first()
    )


def _age_at_death(person: Person) -> int:
    if person.date_of_death is None:
        return -1
    age = person.age_on(person.date_of_death)
    return -1 if age is None else age


def _yes_no_unknown(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _calendar_for(authority: Authority) -> WorkingDayCalendar:
    return authority.calendar()


def build_case_view(
    case: Case,
    *,
    today: dt.date | None = None,
    already_read: AlreadyRead | None = None,
    case_is_current: bool = False,
    shape: ViewShape | None = None,
) -> dict[str, Any]:
    """The view of `case`: all of it, or only the roots and fields `shape` names (and
    `now`): see `view_shape` and `PolicyPack.case_view_shape`."""
    return CaseViewBuilder(
        case=case,
        today=today or timezone.localdate(),
        already_read=already_read,
        case_is_current=case_is_current,
        shape=shape,
    ).build()
