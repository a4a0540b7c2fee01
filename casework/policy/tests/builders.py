"""Builders for the policy-pack tests: a child's case in a given state, made only through
the services a worker's actions go through, so every pack is tested against data recorded the
way it really is.

`CaseStory` tells a case's history one dated step at a time and then shows the case view as
it stood on a chosen day. Dates are explicit days in 2025, long past, so the services accept
them, and each view is built "as of" a fixed day: working-day counts (which depend on bank
holidays) come out the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from django.core.files.uploadedfile import SimpleUploadedFile

from casework.accounts.models import User
from casework.cases.models import Case, PlanKind
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_close_imported,
    case_complexity_decide,
    case_open,
    decision_record,
    document_upload,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    referral_record,
    supervision_record,
    visit_record,
)
from casework.people.models import Address, Person
from casework.people.services import (
    person_create,
    person_move_in,
    person_update,
    phone_number_add,
    professional_contact_add,
    relationship_add,
)
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext

D = dt.date

# The default day the case view is looked at, and the default history around it.
AS_OF = D(2025, 6, 2)
OPENED = D(2025, 1, 6)
BORN = D(2016, 3, 14)  # 9 years old on AS_OF

ATTENDEES = [
    {"name": "Jo Taylor", "role": "Mother"},
    {"name": "Priya Shah", "role": "Class teacher"},
]


def make_person(actor: User, given_name: str, family_name: str, born: dt.date) -> Person:
    return person_create(
        actor=actor, given_name=given_name, family_name=family_name, date_of_birth=born
    )


def move_away(actor: User, person: Person, on: dt.date) -> None:
    """`person` leaves the household for an address elsewhere on `on`."""
    person_move_in(
        actor=actor,
        person=person,
        line_1="3 Far Road",
        town="Elsewhere",
        postcode="EL1 1AA",
        started_on=on,
    )


class CaseStory:
    """One child's case, recorded step by step through the services. Each method records one
    thing and returns the story, so a test reads as the case's history."""

    def __init__(self, case: Case, worker: User, manager: User) -> None:
        self.case = case
        self.worker = worker
        self.manager = manager
        self.address: Address | None = None

    @classmethod
    def open(
        cls,
        worker: User,
        manager: User,
        *,
        opened_on: dt.date = OPENED,
        born: dt.date = BORN,
        given_name: str = "Sam",
        family_name: str = "Taylor",
        reason: str = "School raised concerns about neglect and attendance.",
        child: Person | None = None,
    ) -> CaseStory:
        """Open a case in the worker's team (the manager's team too), allocated to the worker."""
        subject = child or make_person(worker, given_name, family_name, born)
        membership = worker.memberships.get()
        case = case_open(
            actor=worker,
            subject=subject,
            team=membership.team,
            received_on=opened_on,
            source="2A",
            reason=reason,
            primary_need="N1",
            allocated_worker=worker,
        )
        return cls(case, worker, manager)

    @property
    def child(self) -> Person:
        return self.case.subject

    # Plans -----------------------------------------------------------------------------

    def plan(
        self,
        kind: str,
        started_on: dt.date,
        *,
        ended_on: dt.date | None = None,
        category: str = "",
        legal_status: str = "",
        outcome: str = "",
    ) -> Self:
        plan = plan_start(
            actor=self.worker,
            case=self.case,
            kind=kind,
            started_on=started_on,
            category=category,
            legal_status=legal_status,
        )
        if ended_on is not None:
            plan_end(actor=self.worker, plan=plan, ended_on=ended_on, outcome=outcome)
        return self

    def cp_plan(self, started_on: dt.date, ended_on: dt.date | None = None) -> Self:
        return self.plan(PlanKind.CHILD_PROTECTION, started_on, ended_on=ended_on, category="NEG")

    def cin_plan(
        self, started_on: dt.date, ended_on: dt.date | None = None, outcome: str = ""
    ) -> Self:
        return self.plan(PlanKind.CHILD_IN_NEED, started_on, ended_on=ended_on, outcome=outcome)

    def looked_after(self, started_on: dt.date, ended_on: dt.date | None = None) -> Self:
        return self.plan(PlanKind.LOOKED_AFTER, started_on, ended_on=ended_on, legal_status="V2")

    # Contact with the child --------------------------------------------------------------

    def visit(
        self,
        on: dt.date,
        *,
        seen: bool = True,
        alone: bool = False,
        home: bool = False,
    ) -> Self:
        visit_record(
            actor=self.worker,
            case=self.case,
            visited_on=on,
            subject_seen=seen,
            seen_alone=alone,
            home_visited=home,
        )
        return self

    def assessment(
        self,
        kind: str,
        started_on: dt.date,
        *,
        completed_on: dt.date | None = None,
        authorised: bool = False,
    ) -> Self:
        assessment = assessment_start(
            actor=self.worker, case=self.case, kind=kind, started_on=started_on
        )
        if completed_on is not None:
            assessment_complete(
                actor=self.manager if authorised else self.worker,
                assessment=assessment,
                completed_on=completed_on,
                outcome="Needs identified and met by the plan.",
                authorise=authorised,
            )
        return self

    def meeting(
        self,
        kind: str,
        held_on: dt.date,
        *,
        attendees: list[dict[str, str]] | None = None,
        minutes: str = "",
    ) -> Self:
        meeting_record(
            actor=self.worker,
            case=self.case,
            kind=kind,
            held_on=held_on,
            attendees=ATTENDEES if attendees is None else attendees,
            minutes=minutes,
        )
        return self

    def note(self, on: dt.date, *, kind: str = "general", title: str = "Home visit") -> Self:
        note_add(
            actor=self.worker,
            case=self.case,
            title=title,
            body="Recorded for the test.",
            occurred_on=on,
            kind=kind,
        )
        return self

    def referral(self, on: dt.date, *, source: str, reason: str) -> Self:
        referral_record(
            actor=self.worker,
            case=self.case,
            received_on=on,
            source=source,
            reason=reason,
            kind="referral",
        )
        return self

    # Management ---------------------------------------------------------------------------

    def decision(self, kind: str, on: dt.date, *, decision: str = "Agreed.") -> Self:
        decision_record(
            actor=self.manager, case=self.case, kind=kind, decided_on=on, decision=decision
        )
        return self

    def supervision(self, on: dt.date, *, discussion: str = "Caseload review.") -> Self:
        supervision_record(actor=self.manager, case=self.case, held_on=on, discussion=discussion)
        return self

    def complexity(self, is_complex: bool) -> Self:
        case_complexity_decide(
            actor=self.manager,
            case=self.case,
            is_complex=is_complex,
            reason="Several agencies and a long history." if is_complex else "Single issue.",
        )
        return self

    def document(self, kind: str, title: str) -> Self:
        upload = SimpleUploadedFile(f"{kind}.txt", b"Minutes of the meeting.", "text/plain")
        document_upload(actor=self.worker, case=self.case, kind=kind, title=title, upload=upload)
        return self

    def close_imported(self, on: dt.date, reason_code: str) -> Self:
        case_close_imported(
            actor=self.worker,
            case=self.case,
            closed_on=on,
            reason_code=reason_code,
            note="Closed before the test's evaluation.",
        )
        self.case.refresh_from_db()
        return self

    # The child and their household ----------------------------------------------------------

    def lives_at(
        self, on: dt.date, line_1: str = "12 Mill Lane", postcode: str = "TS1 4AB"
    ) -> Self:
        """The child moves to a new address on `on` (others join with `lives_with`)."""
        residence = person_move_in(
            actor=self.worker,
            person=self.child,
            line_1=line_1,
            town="Testbury",
            postcode=postcode,
            started_on=on,
        )
        self.address = residence.address
        return self

    def lives_with(
        self, person: Person, relationship: str, on: dt.date, *, record_relationship: bool = True
    ) -> Self:
        """`person` joins the child's household on `on`; `relationship` is what they are to
        the child (e.g. 'parent' or 'sibling')."""
        assert self.address is not None, "record the child's address first (lives_at)"
        person_move_in(
            actor=self.worker,
            person=person,
            line_1="",
            town="",
            postcode="",
            started_on=on,
            address=self.address,
        )
        if record_relationship:
            relationship_add(
                actor=self.worker, person=person, relative=self.child, kind=relationship
            )
        return self

    def phone(self, number: str = "07700 900982") -> Self:
        phone_number_add(actor=self.worker, person=self.child, number=number, label="Mother")
        return self

    def professional(
        self,
        role: str,
        organisation: str,
        on: dt.date,
        *,
        name: str = "",
        designation: str = "",
        lead: bool = False,
    ) -> Self:
        professional_contact_add(
            actor=self.worker,
            person=self.child,
            role=role,
            organisation=organisation,
            started_on=on,
            name=name,
            designation=designation,
            is_lead_professional=lead,
        )
        return self

    def died(self, on: dt.date) -> Self:
        person_update(actor=self.worker, person=self.child, reason="Notified", date_of_death=on)
        self.case.refresh_from_db()
        return self

    # Looking at the case ---------------------------------------------------------------------

    def view(self, on: dt.date = AS_OF) -> dict[str, Any]:
        """The case view as it stood on `on`."""
        return build_case_view(self.case, today=on)

    def context(self, on: dt.date = AS_OF) -> EvaluationContext:
        return EvaluationContext(self.view(on))
