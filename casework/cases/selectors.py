"""Reads for case pages and lists. Each starts from the access-scoped selector and runs a
fixed number of queries however many rows a case has (guarded by tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from casework.access.policy import case_for, cases_visible_to, need_to_know
from casework.accounts.models import User
from casework.audit.models import AuditCategory, AuditEvent
from casework.cases.models import Allocation, Case, CaseStatus, Document, Plan, Visit
from casework.core.planning import planned_for_each_run
from casework.people.genogram import Relative, genogram_svg
from casework.people.models import (
    INVERSE_RELATIONSHIP,
    Person,
    ProfessionalContact,
    Relationship,
    RelationshipKind,
    Residence,
)
from casework.policy.caseview import (
    AlreadyRead,
    current_contacts,
    current_residence,
    previous_case,
)

CHRONOLOGY_PAGE = 50
CHRONOLOGY_MAX = 2000
VISITS_SHOWN = 20


@dataclass(frozen=True)
class RelativeRow:
    person: Person
    kind: str
    relationship: str
    in_household: bool
    has_parental_responsibility: bool


@dataclass
class CasePage:
    # The case's own records, whole, as read once for the page and for the panels that
    # reuse them (the closure readiness panel's case view, the re-referral panel).
    already_read: AlreadyRead
    household: list[Person]
    relatives: list[RelativeRow]
    chronology: list[AuditEvent]
    chronology_has_more: bool = False
    chronology_category: str = ""
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def case(self) -> Case:
        return self.already_read.case

    @property
    def current_residence(self) -> Residence | None:
        return self.already_read.residence

    @property
    def contacts(self) -> list[ProfessionalContact]:
        return self.already_read.contacts

    @property
    def plans(self) -> list[Plan]:
        return self.already_read.plans

    @property
    def visits(self) -> list[Visit]:
        """The latest VISITS_SHOWN visits (the case view has them all)."""
        return self.already_read.visits[:VISITS_SHOWN]

    @property
    def allocations(self) -> list[Allocation]:
        return self.already_read.allocations

    @property
    def documents(self) -> list[Document]:
        return self.already_read.documents

    def genogram(self) -> str:
        """The family as an SVG drawing (see casework.people.genogram)."""
        return genogram_svg(
            self.case.subject,
            [Relative(r.person, r.kind, r.relationship, r.in_household) for r in self.relatives],
            subject_at_home=self.current_residence is not None,
        )

    @property
    def chronology_categories(self) -> list[tuple[str, str]]:
        return list(AuditCategory.choices)

    @property
    def last_visit(self) -> Visit | None:
        return self.visits[0] if self.visits else None

    @property
    def subject_age(self) -> int | None:
        return self.case.subject.age_on(self.today)

    @property
    def household_not_related(self) -> list[Person]:
        related = {row.person.pk for row in self.relatives}
        return [p for p in self.household if p.pk not in related]

    @property
    def open_plans(self) -> list[Plan]:
        return [p for p in self.plans if p.ended_on is None]


def case_page(
    user: User, case_id: int, *, category: str = "", whole_chronology: bool = False
) -> CasePage:
    """The case page's data. `category` filters the chronology (an unknown one is ignored);
    `whole_chronology` shows up to CHRONOLOGY_MAX entries instead of the latest page."""
    case = case_for(
        user,
        case_id,
        related=("subject", "responsible_team__authority", "allocated_worker"),
    )
    subject = case.subject
    residence = current_residence(subject)
    household: list[Person] = []
    if residence is not None:
        household = list(
            Person.objects.filter(
                residences__address_id=residence.address_id, residences__ended_on__isnull=True
            )
            .exclude(pk=subject.pk)
            .order_by("date_of_birth")
        )
    household_ids = {p.pk for p in household}
    relationships = Relationship.objects.select_related("person", "relative").filter(
        Q(person=subject) | Q(relative=subject)
    )
    relatives: list[RelativeRow] = []
    for rel in relationships:
        if rel.relative_id == subject.pk:
            # "mother is parent of subject": seen from the subject, she is their parent.
            other, kind = rel.person, rel.kind
        else:
            other, kind = rel.relative, INVERSE_RELATIONSHIP[rel.kind]
        relatives.append(
            RelativeRow(
                person=other,
                kind=kind,
                relationship=RelationshipKind(kind).label,
                in_household=other.pk in household_ids,
                has_parental_responsibility=rel.has_parental_responsibility
                and rel.relative_id == subject.pk,
            )
        )
    contacts = current_contacts(subject)
    plans = list(case.plans.all())
    # Every visit, not only those shown: the closure readiness panel's case view uses them.
    visits = list(case.visits.select_related("visited_by"))
    allocations = list(case.allocations.select_related("team", "worker"))
    category = category if category in AuditCategory.values else ""
    chronology = AuditEvent.objects.filter(case=case).select_related("actor")
    if category:
        chronology = chronology.filter(category=category)
    limit = CHRONOLOGY_MAX if whole_chronology else CHRONOLOGY_PAGE
    events = list(chronology[: limit + 1])
    documents = list(case.documents.select_related("uploaded_by"))
    return CasePage(
        already_read=AlreadyRead(
            case=case,
            contacts=contacts,
            residence=residence,
            plans=plans,
            visits=visits,
            documents=documents,
            previous=previous_case(case),
            allocations=allocations,
        ),
        household=household,
        relatives=relatives,
        chronology=events[:limit],
        chronology_has_more=len(events) > limit,
        chronology_category=category,
    )


def my_open_cases(user: User) -> QuerySet[Case]:
    return (
        cases_visible_to(user)
        .filter(allocated_worker=user, status=CaseStatus.OPEN)
        .select_related("subject", "responsible_team")
        .order_by("-opened_on", "-id")
    )


@planned_for_each_run()
def team_open_cases(
    user: User,
    *,
    after: tuple[dt.date, int] | None = None,
    limit: int = 25,
    unallocated: bool = False,
) -> tuple[list[Case], tuple[dt.date, int] | None]:
    """Open cases in the user's teams (only those with no allocated worker if
    `unallocated`), newest first, by keyset: pass the last row's (opened_on, id) as `after`
    to get the next page. Returns rows and the next key."""
    # The user's teams as plain values, so the database reads the list off its index.
    team_ids = sorted(need_to_know(user).team_ids)
    rows = (
        cases_visible_to(user)
        .filter(status=CaseStatus.OPEN, responsible_team_id__in=team_ids)
        .select_related("subject", "responsible_team", "allocated_worker")
        .order_by("-opened_on", "-id")
    )
    if unallocated:
        rows = rows.filter(allocated_worker__isnull=True)
    if after is not None:
        opened_on, last_id = after
        # The first condition is implied by the second; it is there for the database, which
        # can start reading the index at that date instead of filtering every newer case.
        rows = rows.filter(opened_on__lte=opened_on).filter(
            Q(opened_on__lt=opened_on) | Q(opened_on=opened_on, id__lt=last_id)
        )
    page = list(rows[: limit + 1])
    next_key = (page[limit - 1].opened_on, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_key
