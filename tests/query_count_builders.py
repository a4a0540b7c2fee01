"""Many rows of every kind, for the query-count guards in tests/test_query_counts.py.

Each `add_*` function adds `n` more of something to an existing world, so a guard can
measure a page with N rows, add 2N more and measure it again. Lists that only read are
filled straight into the tables (fast, as the dashboards' `Build` does, which is reused
here); the records a case page and its chronology show are written through the services,
so that the chronology holds the events the services really write.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.access.log import record_access
from casework.access.models import EmergencyAccess, EmergencyOutcome
from casework.accounts.models import User
from casework.api.services import api_token_create
from casework.audit.models import AccessAction
from casework.cases.models import Assessment, Case, Plan
from casework.cases.services import (
    case_allocate,
    decision_record,
    document_upload,
    meeting_record,
    note_add,
    referral_record,
    supervision_record,
    visit_record,
)
from casework.closure.models import (
    Closure,
    ClosureState,
    FurtherAction,
    Signature,
    SignedDocument,
)
from casework.organisation.models import Role, ServiceArea, Team
from casework.oversight.tests.conftest import Build
from casework.people.models import Person
from casework.people.services import person_create, professional_contact_add, relationship_add
from casework.retention.models import LegalHold, RetentionReview, ReviewState
from casework.returns.models import ExportJob, ExportState
from casework.tasks.models import Notification
from casework.transfers.models import (
    OutOfAreaPlacement,
    PathwayRequest,
    PathwayState,
    Transfer,
    TransferState,
)

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)
CLOSURE_PACK = "003-ending-interventions"
TRANSFER_PACK = "004-transfer-and-closure"
_serial = itertools.count(1)


@dataclass
class Staff:
    """Who looks at the pages: workers and managers of two children's teams, a front-door
    worker (who searches everyone), a children's service manager (dashboards for the whole
    service area, exports, records retention) and business support."""

    ai_worker: User
    ai_worker2: User
    ai_manager: User
    sgcp_worker: User
    sgcp_manager: User
    front_door_worker: User
    senior: User
    support: User


# --- One case and everything recorded on it ---------------------------------------------------


def add_case_records(case: Case, staff: Staff, n: int, start: int) -> None:
    """`n` more of everything a case page, its documents page, its access log and the API's
    case lists show: visits, notes, meetings, supervisions, managers' decisions, contacts,
    documents, assessments, plans, allocations, relatives and professionals, looks at the
    record (the access log) and, through all of them, chronology events. `start` keeps the
    dates of each call apart from the last's."""
    worker, manager = staff.ai_worker, staff.ai_manager
    for i in range(start, start + n):
        day = TODAY - (200 - 3 * i) * DAY
        visit_record(
            actor=worker,
            case=case,
            visited_on=day,
            subject_seen=True,
            seen_alone=i % 2 == 0,
            home_visited=True,
            notes=f"Visit {i}",
        )
        note_add(
            actor=worker, case=case, title=f"Note {i}", body="Spoke to school.", occurred_on=day
        )
        meeting_record(
            actor=worker,
            case=case,
            kind="cin_meeting",
            held_on=day,
            attendees=[{"name": f"Attendee {i}", "role": "Teacher"}],
            minutes="Agreed the plan.",
        )
        supervision_record(actor=manager, case=case, held_on=day, discussion=f"Supervision {i}")
        decision_record(
            actor=manager, case=case, kind="other", decided_on=day, decision=f"Decision {i}"
        )
        referral_record(
            actor=worker, case=case, received_on=day, source="2A", reason=f"Contact {i}"
        )
        document_upload(
            actor=worker,
            case=case,
            kind="other",
            title=f"Document {i}",
            upload=SimpleUploadedFile(f"note-{i}.txt", b"A note.", content_type="text/plain"),
        )
        Assessment.objects.create(
            case=case, kind="single", started_on=day, completed_on=day + DAY, outcome="Done"
        )
        Plan.objects.create(case=case, kind="cin", started_on=day, ended_on=day + DAY)
        case_allocate(
            actor=manager,
            case=case,
            worker=(staff.ai_worker2, worker)[i % 2],
            started_on=day,
            reason="Caseloads",
        )
        relative = person_create(
            actor=worker,
            given_name=f"Relative{i}",
            family_name="Example",
            date_of_birth=dt.date(1980, 1, 1) + i * DAY,
        )
        relationship_add(actor=worker, person=relative, relative=case.subject, kind="parent")
        professional_contact_add(
            actor=worker,
            person=case.subject,
            role="school",
            organisation=f"School {i}",
            started_on=day,
            name=f"Teacher {i}",
        )
        for who in (worker, manager, staff.ai_worker2):
            record_access(
                actor=who,
                action=AccessAction.VIEWED,
                summary="Case page",
                case=case,
                url_name="case-detail",
                path=f"/cases/{case.pk}/",
            )
    # The allocation above goes back and forth; leave the case with its worker.
    case.refresh_from_db(fields=["allocated_worker"])
    if case.allocated_worker != worker:
        case_allocate(actor=manager, case=case, worker=worker, started_on=TODAY, reason="Back")


# --- Caseloads: cases, tasks and notifications --------------------------------------------------


def add_caseload(build: Build, staff: Staff, n: int) -> None:
    """`n` more open cases allocated to the A&I worker and `n` unallocated in their team, `n`
    in SGCP (for the senior manager's service-area view) and `n` closed; each with open,
    overdue and done tasks for the worker and for the team manager's role; and `n` read and
    `n` unread notifications each for the worker and the manager."""
    for _ in range(n):
        mine = build.case(
            build.ai,
            opened_on=TODAY - 30 * DAY,
            workers=[(staff.ai_worker2, TODAY - 30 * DAY), (staff.ai_worker, TODAY - 10 * DAY)],
        )
        unallocated = build.case(build.ai, opened_on=TODAY - 20 * DAY)
        theirs = build.case(
            build.sgcp, opened_on=TODAY - 40 * DAY, workers=[(staff.sgcp_worker, TODAY - 40 * DAY)]
        )
        build.case(
            build.ai,
            opened_on=TODAY - 300 * DAY,
            workers=[(staff.ai_worker, TODAY - 300 * DAY)],
            closed_on=TODAY - 100 * DAY,
        )
        for case in (mine, unallocated, theirs):
            build.task(case, due_on=TODAY + 5 * DAY, assignee=staff.ai_worker)
            build.task(case, due_on=TODAY - 4 * DAY, assignee=staff.ai_worker)
            build.task(case, due_on=TODAY - 9 * DAY, done_on=TODAY - 2 * DAY)
            build.task(case, due_on=TODAY - 3 * DAY, role=Role.TEAM_MANAGER)
            build.task(case, due_on=TODAY + 2 * DAY, role=Role.SOCIAL_WORKER)
        for who in (staff.ai_worker, staff.ai_manager):
            for read in (False, True):
                Notification.objects.create(
                    key=f"qc:{next(_serial)}",
                    recipient=who,
                    case=mine,
                    event="task.due",
                    message=f"Something about {mine.reference}",
                    requirement="X-03",
                    read_at=timezone.now() if read else None,
                )


# --- Closures waiting on managers ---------------------------------------------------------------


def _closure(build: Build, staff: Staff, state: str, *, days_ago: int) -> Closure:
    case = build.case(
        build.ai, opened_on=TODAY - 90 * DAY, workers=[(staff.ai_worker, TODAY - 90 * DAY)]
    )
    agreed = state in (ClosureState.AGREED, ClosureState.AUTHORISED)
    return Closure.objects.create(
        case=case,
        pack_id=CLOSURE_PACK,
        reason_id="no-longer-in-need",
        reason_label="No longer in need",
        national_code="RC7",
        state=state,
        proposed_by=staff.ai_worker,
        proposed_on=TODAY - days_ago * DAY,
        decided_by=staff.ai_manager if state != ClosureState.PROPOSED else None,
        decided_on=TODAY - DAY if state != ClosureState.PROPOSED else None,
        authorised_by=staff.ai_manager if state == ClosureState.AUTHORISED else None,
        authorised_on=TODAY if state == ClosureState.AUTHORISED else None,
        proposal_note="Done" if agreed else "",
    )


def add_closures(build: Build, staff: Staff, n: int) -> None:
    """`n` more closures in each state the managers' queue lists, those with further actions
    each with two actions (one done)."""
    for i in range(n):
        _closure(build, staff, ClosureState.PROPOSED, days_ago=10 + i)
        further = _closure(build, staff, ClosureState.FURTHER_ACTIONS, days_ago=20 + i)
        FurtherAction.objects.create(closure=further, description="Speak to the school")
        FurtherAction.objects.create(
            closure=further,
            description="Update the plan",
            done_by=staff.ai_worker,
            done_at=timezone.now(),
            note="Done",
        )
        _closure(build, staff, ClosureState.AGREED, days_ago=30 + i)
        _closure(build, staff, ClosureState.AUTHORISED, days_ago=40 + i)


def add_closure_documents(closure: Closure, staff: Staff, n: int) -> None:
    """`n` more further actions on one closure, and `n` more versions of its signed summary
    (each a correction of the last), each signed by the worker and the manager."""
    latest = SignedDocument.objects.filter(closure=closure).order_by("-version").first()
    version = latest.version if latest else 0
    for _ in range(n):
        FurtherAction.objects.create(
            closure=closure,
            description=f"Action {next(_serial)}",
            done_by=staff.ai_worker,
            done_at=timezone.now(),
        )
        version += 1
        latest = SignedDocument.objects.create(
            closure=closure,
            form_id="case-closure-summary",
            version=version,
            supersedes=latest,
            content={"title": "Case closure summary", "sections": []},
            content_hash=f"{version:064x}",
        )
        for role, signer in (
            ("social_worker", staff.ai_worker),
            ("team_manager", staff.ai_manager),
        ):
            Signature.objects.create(
                document=latest, role=role, signer=signer, content_hash=latest.content_hash
            )


# --- Transfers, pathway requests and the duty fostering register --------------------------------


def _transfer(build: Build, staff: Staff, *, to_ai: bool, state: str) -> Transfer:
    home, other = (build.sgcp, build.ai) if to_ai else (build.ai, build.sgcp)
    worker = staff.sgcp_worker if to_ai else staff.ai_worker
    case = build.case(home, opened_on=TODAY - 60 * DAY, workers=[(worker, TODAY - 60 * DAY)])
    return Transfer.objects.create(
        case=case,
        pack_id=TRANSFER_PACK,
        protocol_id="cin-sgcp-to-ai",
        from_team=home,
        to_team=other,
        state=state,
        rationale="The plan has ended",
        requested_by=worker,
        requested_on=TODAY - 12 * DAY,
        discussed_on=TODAY - 10 * DAY,
        authorised_by=staff.sgcp_manager if state == TransferState.AUTHORISED else None,
        authorised_on=TODAY - 2 * DAY if state == TransferState.AUTHORISED else None,
    )


def add_transfers(build: Build, staff: Staff, n: int) -> None:
    """`n` more of what the transfer queue lists for the A&I manager: transfers offered to
    A&I, transfers from A&I waiting to be authorised, and step-down requests asked of A&I;
    and `n` completed transfers of one case (for the case's own list)."""
    for _ in range(n):
        _transfer(build, staff, to_ai=True, state=TransferState.AUTHORISED)
        _transfer(build, staff, to_ai=False, state=TransferState.REQUESTED)
        case = build.case(
            build.sgcp, opened_on=TODAY - 50 * DAY, workers=[(staff.sgcp_worker, TODAY - 50 * DAY)]
        )
        PathwayRequest.objects.create(
            case=case,
            pack_id=TRANSFER_PACK,
            pathway_id="step-down-full-assessment",
            kind="step_down",
            to_team=build.ai,
            state=PathwayState.REQUESTED,
            meeting_on=TODAY + 7 * DAY,
            requested_by=staff.sgcp_worker,
            requested_on=TODAY - 3 * DAY,
        )


def add_case_transfers(case: Case, build: Build, staff: Staff, n: int) -> None:
    """`n` more completed transfers of one case and `n` more decided pathway requests on it."""
    for _ in range(n):
        Transfer.objects.create(
            case=case,
            pack_id=TRANSFER_PACK,
            from_team=build.ai,
            to_team=build.sgcp,
            state=TransferState.COMPLETED,
            rationale="Moved on",
            requested_by=staff.ai_worker,
            requested_on=TODAY - 30 * DAY,
            authorised_by=staff.ai_manager,
            authorised_on=TODAY - 25 * DAY,
            decided_by=staff.sgcp_manager,
            decided_on=TODAY - 20 * DAY,
            receiving_worker=staff.sgcp_worker,
            completed_on=TODAY - 15 * DAY,
        )
        PathwayRequest.objects.create(
            case=case,
            pack_id=TRANSFER_PACK,
            pathway_id="step-down-full-assessment",
            kind="step_down",
            to_team=build.sgcp,
            state=PathwayState.DECIDED,
            requested_by=staff.ai_worker,
            requested_on=TODAY - 9 * DAY,
            outcome="declined",
            rationale="Not yet",
            decided_by=staff.sgcp_manager,
            decided_on=TODAY - 8 * DAY,
        )


def add_placements(build: Build, staff: Staff, n: int) -> None:
    """`n` more looked-after children of A&I placed in another area, half of the host
    authorities notified."""
    for i in range(n):
        case = build.case(
            build.ai, opened_on=TODAY - 100 * DAY, workers=[(staff.ai_worker, TODAY - 100 * DAY)]
        )
        request = PathwayRequest.objects.create(
            case=case,
            pack_id=TRANSFER_PACK,
            pathway_id="transfer-out-looked-after",
            kind="transfer_out",
            state=PathwayState.DECIDED,
            requested_by=staff.ai_worker,
            requested_on=TODAY - 20 * DAY,
            answers={"host_authority": "Farshire County Council"},
        )
        OutOfAreaPlacement.objects.create(
            request=request,
            case=case,
            host_authority="Farshire County Council",
            placed_on=TODAY - (10 + i) * DAY,
            placement_type="Foster care",
            placement_address="1 Example Lane, Farton",
            host_contact="Children in care team",
            notification_sent_on=TODAY - 5 * DAY if i % 2 else None,
            recorded_by=staff.ai_worker,
        )


# --- Access: emergency accesses ---------------------------------------------------------------


def add_emergency_accesses(build: Build, staff: Staff, n: int) -> None:
    """`n` more emergency accesses to A&I cases by an SGCP worker waiting for review (each
    with pages opened under it), and `n` already reviewed by the A&I manager."""
    now = timezone.now()
    for i in range(n):
        case = build.case(
            build.ai, opened_on=TODAY - 60 * DAY, workers=[(staff.ai_worker, TODAY - 60 * DAY)]
        )
        for reviewed in (False, True):
            access = EmergencyAccess.objects.create(
                user=staff.sgcp_worker,
                case=case,
                reason=f"Out of hours call {i}",
                started_at=now - (i + 1) * dt.timedelta(hours=1),
                expires_at=now + dt.timedelta(hours=1),
                outcome=EmergencyOutcome.JUSTIFIED if reviewed else "",
                outcome_note="Fine" if reviewed else "",
                reviewed_by=staff.ai_manager if reviewed else None,
                reviewed_at=now if reviewed else None,
            )
            for _ in range(2):
                record_access(
                    actor=staff.sgcp_worker,
                    action=AccessAction.VIEWED,
                    summary="Case page",
                    case=case,
                    url_name="case-detail",
                    emergency_access=access,
                )


# --- Records retention --------------------------------------------------------------------------


def add_retention(build: Build, staff: Staff, n: int) -> None:
    """`n` more children's records due for review (closed cases), `n` decided, and `n` legal
    holds of each scope (a person, a record class, a service area) in force and `n` lifted."""
    now = timezone.now()
    for i in range(n):
        people = []
        for _ in range(2):
            person = build.child("Retained")
            build.case(
                build.ai,
                opened_on=TODAY - 9000 * DAY,
                workers=[(staff.ai_worker, TODAY - 9000 * DAY)],
                closed_on=TODAY - 8000 * DAY,
                subject=person,
            )
            people.append(person)
        due, decided = people
        common = {
            "service_area": ServiceArea.CHILDREN,
            "record_class": "children-in-need",
            "record_class_label": "Children in need",
            "basis": "Local retention schedule",
            "trigger": "closed_on",
            "years": 15,
            "due_on": TODAY - (30 + i) * DAY,
            "classes": ["children-in-need"],
            "listed_on": TODAY,
        }
        RetentionReview.objects.create(person=due, **common)
        RetentionReview.objects.create(
            person=decided,
            state=ReviewState.RETAINED,
            reason="An inquiry may need them",
            next_review_on=TODAY + 365 * DAY,
            decided_by=staff.senior,
            decided_at=now,
            **common,
        )
        for scope in ({"person": due}, {"record_class": "children-in-need"}, {}):
            for lifted in (False, True):
                LegalHold.objects.create(
                    service_area=ServiceArea.CHILDREN,
                    reference=f"Inquiry {i}",
                    reason="Keep everything",
                    placed_by=staff.senior,
                    lifted_by=staff.senior if lifted else None,
                    lifted_at=now if lifted else None,
                    lift_reason="Over" if lifted else "",
                    **scope,
                )


# --- Exports and API tokens ---------------------------------------------------------------------


def add_exports(staff: Staff, person: Person, n: int) -> None:
    """`n` more export jobs of each kind the senior manager may run, finished and running."""
    authority = Team.objects.get(code="ai").authority
    year_end = dt.date(TODAY.year - 1, 3, 31)
    for i in range(n):
        for kind, parameters in (
            ("cin-census", {"census_year_end": year_end.isoformat()}),
            ("subject-access", {"person_id": person.pk, "local_id": person.local_id}),
        ):
            ExportJob.objects.create(
                requested_by=staff.senior,
                authority=authority,
                kind=kind,
                parameters=parameters,
                state=ExportState.DONE if i % 2 else ExportState.RUNNING,
                progress_done=i,
                progress_total=10,
            )


def add_api_tokens(user: User, n: int) -> None:
    for _ in range(n):
        api_token_create(actor=user, name=f"Token {next(_serial)}")


# --- People to find -----------------------------------------------------------------------------


def add_namesakes(build: Build, staff: Staff, n: int) -> None:
    """`n` more people called Sam Smith with a case the A&I worker can see, and `n` more the
    front door knows of only as identities (no case anyone in A&I can see)."""
    for i in range(n):
        for team in (build.ai, build.adults):
            person = person_create(
                actor=staff.ai_worker,
                given_name="Sam",
                family_name="Smith",
                date_of_birth=dt.date(2012, 1, 1) + (next(_serial) % 3000) * DAY,
            )
            build.case(
                team,
                opened_on=TODAY - (50 + i) * DAY,
                workers=[(None, TODAY - 50 * DAY)],
                subject=person,
            )
