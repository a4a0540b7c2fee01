"""Disposal (X-04): destroying a person's records removes their personal data from every
table and every stored file, and leaves tombstones in the audit and access logs.

The main test builds a rich record through the services (a case with a referral, an
assessment, a child protection plan, a section 47 enquiry, visits, notes, meetings,
supervision, a manager's decision, consent, a document file, a full closure with signed
summary, tasks and notifications, a lifted restriction, emergency access, the access log, a
stored API answer, an export with its file, a session holding form data, the admin's log, a
legal hold and an earlier review), disposes of it, and then searches every column of every
table in the database, with raw SQL, for the person's identifiers.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from casework.access.log import record_access
from casework.access.models import EmergencyAccess, Restriction, RestrictionName
from casework.accounts.models import User
from casework.api.models import IdempotentRequest
from casework.audit.models import AccessEvent, AuditEvent
from casework.cases.models import Case
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    consent_record,
    decision_record,
    document_upload,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    section47_conclude,
    section47_record,
    supervision_record,
    visit_record,
)
from casework.closure.models import Closure, ClosureState, SignedDocument
from casework.closure.services import closure_authorise, summary_sign
from casework.closure.tests.test_race_and_atomicity import _ready_to_authorise
from casework.core.errors import InvalidInput
from casework.organisation.models import Authority, Team
from casework.people.models import CarerLink, Person, Relationship
from casework.people.services import (
    carer_link_add,
    key_safe_record,
    person_move_in,
    phone_number_add,
    professional_contact_add,
    relationship_add,
)
from casework.policy.services import pack_bind
from casework.retention.disposal import REDACTED_SUMMARY, dispose_of_person
from casework.retention.models import LegalHold, RetentionReview, ReviewState
from casework.retention.schedule import add_years
from casework.retention.services import (
    legal_hold_lift,
    legal_hold_place,
    retention_destroy,
    retention_retain,
    retention_sweep,
)
from casework.retention.tests.builders import D, open_case, person
from casework.returns.models import ExportJob, ExportState
from casework.transfers.models import ReReferralReview, Transfer, TransferState

TODAY = timezone.localdate()

GIVEN, FAMILY = "Zephyrine", "Quillfeather"
LOCAL_ID = "ZQX7731904"
NHS = "7319044838"
UPN = "V931277310490"
BORN = D(2013, 2, 17)
MOTHER_BORN = D(1985, 9, 23)
LINE_1, TOWN, POSTCODE = "17 Quillfeather Mews", "Zanthorpe", "ZQ9 9QZ"
PHONE = "07700 900417"


# --- Searching the whole database ------------------------------------------------------------


def _columns() -> Iterator[tuple[str, list[str]]]:
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            yield table, [c.name for c in description]


def search_everywhere(identifiers: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, identifier) where an identifier appears in any column of any
    table, as text, on a word boundary (raw SQL: SQLite and PostgreSQL alike)."""
    quote = connection.ops.quote_name
    hits = []
    with connection.cursor() as cursor:
        for table, columns in _columns():
            conditions = []
            params = []
            for column in columns:
                for identifier in identifiers:
                    conditions.append(f"UPPER(CAST({quote(column)} AS TEXT)) LIKE %s")
                    params.append(f"%{identifier.upper()}%")
            sql = (
                f"SELECT {', '.join(f'CAST({quote(c)} AS TEXT)' for c in columns)} "  # noqa: S608
                f"FROM {quote(table)} WHERE {' OR '.join(conditions)}"
            )
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    for identifier in identifiers:
                        pattern = rf"(?<![0-9A-Za-z]){re.escape(identifier)}(?![0-9A-Za-z])"
                        if value is not None and re.search(pattern, str(value), re.IGNORECASE):
                            hits.append((table, column, identifier))
    return hits


# --- Building the record ---------------------------------------------------------------------


def _build_rich_record(
    worker: User,
    manager: User,
    outsider: User,
    reviewer: User,
    team_ai: Team,
    authority: Authority,
) -> dict[str, Any]:
    subject = person(worker, GIVEN, FAMILY, born=BORN, local_id=LOCAL_ID, nhs_number=NHS)
    Person.objects.filter(pk=subject.pk).update(upn=UPN, other_names="Zeph")
    subject.refresh_from_db()
    person_move_in(
        actor=worker,
        person=subject,
        line_1=LINE_1,
        town=TOWN,
        postcode=POSTCODE,
        started_on=D(2020, 1, 6),
    )
    phone_number_add(actor=worker, person=subject, number=PHONE, label="home")
    professional_contact_add(
        actor=worker,
        person=subject,
        role="school",
        organisation="Zanthorpe Primary",
        started_on=D(2020, 1, 6),
        name="Ms Head",
    )
    key_safe_record(actor=worker, person=subject, location="By the door", code="4417")

    # The mother exists only as part of this record; the half-brother has his own case.
    mother = person(worker, "Marigold", FAMILY, born=MOTHER_BORN)
    person_move_in(
        actor=worker,
        person=mother,
        line_1=LINE_1,
        town=TOWN,
        postcode=POSTCODE,
        started_on=D(2020, 1, 6),
        address=subject.residences.get().address,
    )
    relationship_add(actor=worker, person=mother, relative=subject, kind="parent")
    carer_link_add(actor=worker, carer=mother, cared_for=subject, started_on=D(2020, 1, 6))
    brother = person(worker, "Bartholomew", "Stoneacre", born=D(2009, 11, 30))
    person_move_in(
        actor=worker,
        person=brother,
        line_1="2 Other Street",
        town="Elsewhere",
        postcode="EL1 1SE",
        started_on=D(2020, 1, 6),
    )
    brothers_case = open_case(worker, team_ai, brother, TODAY - dt.timedelta(days=30))
    relationship_add(actor=worker, person=subject, relative=brother, kind="half_sibling")

    case = open_case(worker, team_ai, subject, TODAY - dt.timedelta(days=90))
    started = TODAY - dt.timedelta(days=80)
    assessment = assessment_start(actor=worker, case=case, kind="single", started_on=started)
    assessment_complete(
        actor=worker,
        assessment=assessment,
        completed_on=started + dt.timedelta(days=10),
        outcome=f"{GIVEN} needs a plan",
    )
    enquiry = section47_record(actor=worker, case=case, started_on=started)
    section47_conclude(
        actor=worker,
        enquiry=enquiry,
        outcome="icpc",
        concluded_on=started + dt.timedelta(days=5),
        icpc_on=started + dt.timedelta(days=12),
    )
    cp = plan_start(
        actor=worker,
        case=case,
        kind="cp",
        started_on=started + dt.timedelta(days=12),
        category="NEG",
        summary=f"Keep {GIVEN} safe at home",
    )
    plan_end(actor=worker, plan=cp, ended_on=TODAY - dt.timedelta(days=25), outcome="Safe")
    visit_record(
        actor=worker,
        case=case,
        visited_on=TODAY - dt.timedelta(days=20),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
        notes=f"Saw {GIVEN} {FAMILY} at {LINE_1}",
    )
    note_add(
        actor=worker,
        case=case,
        title="Call",
        body=f"Marigold {FAMILY} rang from {PHONE}",
        occurred_on=TODAY - dt.timedelta(days=19),
    )
    meeting_record(
        actor=worker,
        case=case,
        kind="core_group",
        held_on=TODAY - dt.timedelta(days=18),
        attendees=[{"name": f"Marigold {FAMILY}", "role": "mother"}],
        minutes=f"{GIVEN} is doing well",
    )
    supervision_record(
        actor=manager,
        case=case,
        held_on=TODAY - dt.timedelta(days=17),
        discussion=f"{GIVEN}'s plan",
    )
    decision_record(
        actor=manager,
        case=case,
        kind="advise_closure",
        decided_on=TODAY - dt.timedelta(days=16),
        decision=f"Close {GIVEN}'s case",
    )
    consent_record(
        actor=worker,
        case=case,
        kind="share_information",
        given_by=f"Marigold {FAMILY}",
        given_on=TODAY - dt.timedelta(days=15),
        signed=True,
    )
    document = document_upload(
        actor=worker,
        case=case,
        kind="letter",
        title=f"Letter about {GIVEN}",
        upload=SimpleUploadedFile(
            f"{FAMILY}.txt", f"Dear Marigold {FAMILY}, about {GIVEN}.".encode(), "text/plain"
        ),
    )

    restriction = Restriction.objects.create(
        person=subject,
        reason=f"{FAMILY} family member works here",
        placed_by=manager,
        lifted_by=manager,
        lifted_at=timezone.now(),
        lift_reason="No longer works here",
    )
    RestrictionName.objects.create(restriction=restriction, user=worker, named_by=manager)
    now = timezone.now()
    EmergencyAccess.objects.create(
        user=outsider,
        case=case,
        reason=f"Police asked about {GIVEN} {FAMILY} at night",
        started_at=now,
        expires_at=now + dt.timedelta(hours=2),
    )
    record_access(
        actor=worker,
        action="viewed",
        summary="Case record",
        case=case,
        person=subject,
        url_name="case-detail",
        path=f"/cases/{case.pk}/",
    )
    record_access(
        actor=worker, action="viewed", summary="Person record", person_id=mother.pk, path="/x/"
    )
    IdempotentRequest.objects.create(
        user=worker,
        key="retry-1",
        fingerprint="0" * 64,
        path=f"/api/v1/cases/{case.pk}/closure",
        status=201,
        content=json.dumps({"case": case.reference, "subject": f"{GIVEN} {FAMILY}"}),
        content_type="application/json",
    )
    IdempotentRequest.objects.create(
        user=worker,
        key="retry-2",
        fingerprint="1" * 64,
        path=f"/api/v1/cases/{brothers_case.pk}/allocation",
        status=200,
        content=json.dumps({"case": brothers_case.reference}),
        content_type="application/json",
    )
    export = ExportJob.objects.create(
        requested_by=reviewer,
        authority=authority,
        kind="cin-census",
        state=ExportState.DONE,
        problems=[
            {
                "person": f"{GIVEN} {FAMILY} ({LOCAL_ID})",
                "field": "upn",
                "message": "Check the UPN",
                "case_reference": case.reference,
                "case_id": case.pk,
            },
            {
                "person": f"Bartholomew Stoneacre ({brother.local_id})",
                "field": "upn",
                "message": "Record a UPN",
                "case_reference": brothers_case.reference,
                "case_id": brothers_case.pk,
            },
        ],
        problem_count=2,
    )
    export.file.save(
        "census.xml",
        ContentFile(f"<Child><LAchildID>{LOCAL_ID}</LAchildID><UPN>{UPN}</UPN></Child>".encode()),
    )
    subject_access = ExportJob.objects.create(
        requested_by=reviewer,
        authority=authority,
        kind="subject-access",
        parameters={"person_id": str(subject.pk), "local_id": LOCAL_ID},
        state=ExportState.DONE,
    )
    subject_access.file.save("subject-access.zip", ContentFile(b"PK\x03\x04 compressed"))
    session = SessionStore()
    session["casework_restore"] = {"fields": {"body": f"{GIVEN} {FAMILY} said"}}
    session["_auth_user_id"] = str(worker.pk)
    session.create()
    LogEntry.objects.create(
        user=worker,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(subject.pk),
        object_repr=f"{GIVEN} {FAMILY}",
        action_flag=CHANGE,
        change_message="[]",
    )
    hold = legal_hold_place(
        actor=reviewer,
        service_area="children",
        person_local_id=LOCAL_ID,
        reason=f"Complaint from {GIVEN}'s mother",
    )
    legal_hold_lift(actor=reviewer, hold_id=hold.pk, reason=f"{GIVEN}'s complaint closed")

    # Close the case under procedure 000, with the summary signed by both.
    closure = _ready_to_authorise(case, worker, manager)
    closure = closure_authorise(actor=manager, closure=closure)
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    closure = Closure.objects.get(pk=closure.pk)
    assert closure.state == ClosureState.CLOSED
    case.refresh_from_db()
    assert case.status == "closed"
    # A transfer asked for and withdrawn; and a re-referral review on the half-brother's case
    # that read her closure summary (it cannot outlive the case it reviewed).
    Transfer.objects.create(
        case=case,
        pack_id="004-transfer-and-closure",
        from_team=team_ai,
        to_team=outsider.memberships.get().team,
        state=TransferState.WITHDRAWN,
        rationale=f"{GIVEN} needs the safeguarding team",
        requested_by=worker,
        requested_on=TODAY - dt.timedelta(days=40),
        decline_reason="Not needed after all",
    )
    ReReferralReview.objects.create(
        case=brothers_case,
        previous_case=case,
        previous_summary=SignedDocument.objects.filter(closure__case=case).first(),
        pack_id="003-ending-interventions",
        answers={"note": f"{GIVEN}'s closure summary read"},
        recorded_by=worker,
    )
    return {
        "subject": subject,
        "mother": mother,
        "brother": brother,
        "brothers_case": brothers_case,
        "case": case,
        "document": document,
        "export": export,
        "subject_access": subject_access,
        "session_key": session.session_key,
    }


@pytest.fixture
def bound_000(authority: Authority) -> None:
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="000-closing-cases",
    )


@pytest.mark.usefixtures("bound_000")
def test_x04_disposal_removes_the_person_from_every_table_and_file(
    worker: User,
    manager: User,
    outsider: User,
    reviewer: User,
    team_ai: Team,
    authority: Authority,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """X-04 (done-when): a person's records are disposed of, and then every column of every
    table is searched for their identifiers (first and last name, local ID, NHS number, UPN,
    date of birth, address, postcode, phone, case reference, and their mother's, who existed
    only as part of the record): none is found, and their files are gone from storage. The
    half-brother, who has his own case, stays; only the link to him goes. The audit log loses
    no event: those about the record are redacted tombstones, and one more records the
    disposal, without personal data."""
    built = _build_rich_record(worker, manager, outsider, reviewer, team_ai, authority)
    subject, mother, case = built["subject"], built["mother"], built["case"]
    document_name = built["document"].file.name
    export = built["export"]
    export_name = export.file.name
    subject_access = built["subject_access"]
    subject_access_name = subject_access.file.name
    storage = built["document"].file.storage
    assert storage.exists(document_name)
    assert export.file.storage.exists(export_name)
    assert SignedDocument.objects.filter(closure__case=case).exists()
    identifiers = [
        GIVEN,
        FAMILY,
        "Marigold",
        LOCAL_ID,
        mother.local_id,
        NHS,
        UPN,
        BORN.isoformat(),
        MOTHER_BORN.isoformat(),
        LINE_1,
        TOWN,
        POSTCODE,
        PHONE,
        case.reference,
    ]
    before = search_everywhere(identifiers)
    assert {t for t, _, _ in before} >= {
        "people_person",
        "people_address",
        "cases_visit",
        "audit_auditevent",
        "api_idempotentrequest",
        "returns_exportjob",
        "access_emergencyaccess",
        "closure_signeddocument",
        "django_admin_log",
        "transfers_transfer",
        "transfers_rereferralreview",
    }
    events_before = AuditEvent.objects.count()
    access_before = AccessEvent.objects.count()

    # Listed 35 years after the child protection case closed; kept a year; then destroyed.
    first_due = add_years(TODAY, 36)
    assert retention_sweep(first_due).listed == 1
    review = RetentionReview.objects.get(person=subject, state=ReviewState.DUE)
    assert review.record_class == "child-protection"
    with time_machine.travel(first_due, tick=False):
        retention_retain(
            actor=reviewer,
            review_id=review.pk,
            reason=f"{GIVEN}'s mother asked for the file; waiting for the request",
            next_review_on=first_due + dt.timedelta(days=365),
        )
    second = first_due + dt.timedelta(days=366)
    assert retention_sweep(second).listed == 1
    review = RetentionReview.objects.get(person=subject, state=ReviewState.DUE)
    with (
        time_machine.travel(second, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        report = retention_destroy(actor=reviewer, review_id=review.pk, confirmed=True)

    assert search_everywhere(identifiers) == []
    assert not storage.exists(document_name)
    assert not export.file.storage.exists(export_name)
    assert not subject_access.file.storage.exists(subject_access_name)
    assert not ExportJob.objects.filter(pk=subject_access.pk).exists()
    for session in Session.objects.all():
        assert GIVEN not in json.dumps(session.get_decoded())
    assert Session.objects.get(session_key=built["session_key"]).get_decoded()[
        "_auth_user_id"
    ] == str(worker.pk)

    assert not Person.objects.filter(pk__in=[subject.pk, mother.pk]).exists()
    assert not Case.objects.filter(pk=case.pk).exists()
    assert Person.objects.filter(pk=built["brother"].pk).exists()
    assert Case.objects.filter(pk=built["brothers_case"].pk).exists()
    assert not Relationship.objects.filter(person=built["brother"]).exists()
    assert not Relationship.objects.filter(relative=built["brother"]).exists()
    assert not CarerLink.objects.exists()
    assert not LegalHold.objects.exists()
    export.refresh_from_db()
    assert [p["case_reference"] for p in export.problems] == [built["brothers_case"].reference]
    assert export.problem_count == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["retry-2"]

    # The logs: nothing deleted; the record's events are tombstones; one event more.
    assert AuditEvent.objects.count() == events_before + 4  # listed, kept, listed, disposed
    assert AccessEvent.objects.count() == access_before
    tombstones = AuditEvent.objects.filter(summary=REDACTED_SUMMARY)
    assert tombstones.count() > 20
    assert not tombstones.exclude(reason="").exists()
    assert not tombstones.exclude(changes={}).exists()
    assert tombstones.filter(verb="relationship.added", person=built["brother"]).exists()
    assert not AuditEvent.objects.filter(case_id=case.pk).exists()
    assert not AccessEvent.objects.filter(person_id__in=[subject.pk, mother.pk]).exists()
    disposed = AuditEvent.objects.get(verb="retention.disposed")
    assert disposed.summary == (
        f"Records disposed of under the retention schedule: Child protection record "
        f"(retention review {review.pk})"
    )
    assert (disposed.actor, disposed.person, disposed.case) == (reviewer, None, None)
    assert disposed.changes["people"] == 2
    assert disposed.changes["cases"] == 1
    assert disposed.changes["rows_deleted"]["cases.Visit"] == 1
    assert report.files == 3

    review.refresh_from_db()
    assert (review.state, review.person, review.decided_by) == (
        ReviewState.DESTROYED,
        None,
        reviewer,
    )
    assert not RetentionReview.objects.exclude(reason="").exists()


@pytest.mark.usefixtures("bound_000")
def test_x04_an_emergency_access_the_access_log_points_at_is_kept_as_a_tombstone(
    worker: User,
    outsider: User,
    team_ai: Team,
) -> None:
    """X-04: the access log cannot forget that someone used emergency access. Once the
    emergency access record can outlive its case (a nullable case), disposal keeps it with
    its reason emptied and its case cleared; until then, disposal is refused in plain English
    and nothing changes."""
    subject = person(worker, GIVEN, FAMILY, born=BORN, local_id=LOCAL_ID)
    case = open_case(worker, team_ai, subject, TODAY - dt.timedelta(days=30))
    now = timezone.now()
    access = EmergencyAccess.objects.create(
        user=outsider,
        case=case,
        reason=f"Police asked about {GIVEN}",
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    record_access(
        actor=outsider,
        action="viewed",
        summary="Case record",
        case=case,
        person=subject,
        emergency_access=access,
    )
    if EmergencyAccess._meta.get_field("case").null:
        from django.db import transaction

        with transaction.atomic():
            dispose_of_person(subject)
        access.refresh_from_db()
        kept: tuple[object, ...] = (access.case_id, access.reason, access.user)
        assert kept == (None, "", outsider)
        assert AccessEvent.objects.get(emergency_access=access).summary == REDACTED_SUMMARY
    else:
        from django.db import transaction

        with pytest.raises(InvalidInput) as refused, transaction.atomic():
            dispose_of_person(subject)
        assert "the access log keeps an entry that points to a" in str(refused.value)
        assert "Nothing has been destroyed or changed" in str(refused.value)
        assert Person.objects.filter(pk=subject.pk).exists()
        assert EmergencyAccess.objects.filter(pk=access.pk, case=case).exists()
        assert AccessEvent.objects.get(emergency_access=access).summary == "Case record"
