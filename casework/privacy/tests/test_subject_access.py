"""Subject access requests (issue 9 item 7): everything held about one person, as a ZIP made by
the export jobs, itself logged (X-01 audit of the request, X-02 access log of the export).

Records are made through the services a user's actions go through; the job runs through the
registry's run service (and, once, through the production database worker)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.access.log import record_access
from casework.access.models import Restriction
from casework.accounts.models import User
from casework.audit.models import AccessEvent, AuditEvent
from casework.cases.models import Case, Document
from casework.cases.services import (
    case_open,
    document_upload,
    note_add,
    plan_start,
    visit_record,
)
from casework.closure.models import SignedDocument
from casework.closure.services import (
    closure_decide,
    closure_propose,
    form_save_draft,
    form_submit,
    summary_sign,
)
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction
from casework.people.models import Person
from casework.people.services import (
    person_create,
    person_move_in,
    phone_number_add,
    professional_contact_add,
    relationship_add,
)
from casework.privacy import subject_access
from casework.privacy.subject_access import EXCLUDED, NOT_FOUND, REFUSAL, covered_models
from casework.returns.jobs import export_job_run, export_request
from casework.returns.models import ExportJob, ExportState

TODAY = timezone.localdate()
EXPORTS = reverse("exports")
MINUTES = b"%PDF-1.4\n% the final meeting's minutes, as uploaded\n"


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


@pytest.fixture
def private_media(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def senior(make_staff: Callable[..., User], make_team: Callable[..., Team]) -> User:
    """A children's senior fieldwork manager: may prepare subject access requests."""
    team = make_team("csm", TeamFunction.OTHER, holds_cases=False)
    return make_staff("sfm", team, Role.SENIOR_FIELDWORK_MANAGER)


@dataclass
class Record:
    child: Person
    mother: Person
    case: Case
    document: Document
    signed: SignedDocument


@pytest.fixture
def record(
    open_case: Case,
    worker: User,
    manager: User,
    bind_004: Callable[..., None],
    private_media: Path,
) -> Record:
    """A child's case with a household, visits, notes, a plan, a document, a closure with a
    signed summary, and someone having looked at the record."""
    child = open_case.subject
    person_move_in(
        actor=worker,
        person=child,
        line_1="3 Example Row",
        town="Testford",
        postcode="TE3 3EX",
        started_on=days_ago(400),
    )
    phone_number_add(actor=worker, person=child, number="07700 900123", label="mobile")
    professional_contact_add(
        actor=worker,
        person=child,
        role="school",
        organisation="Testford Primary",
        started_on=days_ago(300),
        name="Head teacher",
    )
    mother = person_create(actor=worker, given_name="Jo", family_name="Example")
    phone_number_add(actor=worker, person=mother, number="07700 900999", label="mother's own")
    relationship_add(
        actor=worker, person=mother, relative=child, kind="parent", has_parental_responsibility=True
    )
    visit_record(
        actor=worker,
        case=open_case,
        visited_on=days_ago(10),
        subject_seen=True,
        seen_alone=True,
        notes="Alex showed me his new bike.",
    )
    note_add(
        actor=worker,
        case=open_case,
        title="Call from school",
        body="Attendance has improved this half term.",
        occurred_on=days_ago(8),
    )
    plan_start(actor=worker, case=open_case, kind="cin", started_on=days_ago(50))
    document = document_upload(
        actor=worker,
        case=open_case,
        kind="minutes",
        title="Final meeting minutes",
        upload=SimpleUploadedFile("minutes.pdf", MINUTES, "application/pdf"),
    )
    record_access(actor=manager, action="viewed", summary="Case page", case=open_case)

    bind_004()
    closure = closure_propose(actor=worker, case=open_case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={"reason_for_closure": "Needs met", "achieved": "School attendance 97%"},
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    signed = SignedDocument.objects.get(closure=closure)
    open_case.refresh_from_db()
    return Record(child, mother, open_case, document, signed)


def run(actor: User, person: Person) -> ExportJob:
    job = export_request(actor=actor, kind="subject-access", parameters={"person": person.local_id})
    finished = export_job_run(job.pk)
    assert finished is not None
    assert finished.state == ExportState.DONE, finished.failure
    return finished


def opened(job: ExportJob) -> zipfile.ZipFile:
    with job.file.open("rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def ids(rows: list[dict[str, Any]]) -> set[Any]:
    return {row["id"] for row in rows}


def test_a_subject_access_pack_holds_everything_about_the_person(
    record: Record, senior: User, manager: User
) -> None:
    """Issue 9 item 7: a senior manager asks for a person's subject access pack by local ID;
    the job makes a ZIP whose person.json holds the person's record and what is linked to it
    (addresses, phone numbers, relationships naming the relative but not holding the
    relative's own record, professionals) and each case with everything recorded on it
    (visits, notes, plans, documents, the closure with its form answers and signature), the
    case's audit chronology and its access log; the documents as uploaded (same bytes); the
    signed closure summary and a summary of the pack as PDFs that open; and a README."""
    job = run(senior, record.child)
    assert job.file.name.endswith(f"subject-access-{record.child.local_id}-export-{job.pk}.zip")
    assert (job.progress_done, job.progress_total) == (3, 3)  # the person, one case, the end
    assert job.problem_list() == []
    reference = record.case.reference
    with opened(job) as pack:
        names = set(pack.namelist())
        data = json.loads(pack.read("person.json"))
        document_path = f"cases/{reference}/documents/{record.document.pk}-minutes.pdf"
        closure_pdf = f"cases/{reference}/closure/closing-summary-version-1.pdf"
        assert names == {"person.json", "summary.pdf", "README.txt", document_path, closure_pdf}
        assert pack.read(document_path) == MINUTES
        signed_text = pdf_text(pack.read(closure_pdf))
        summary_text = pdf_text(pack.read("summary.pdf"))
        readme = pack.read("README.txt").decode("utf-8")

    assert data["pack"]["person"] == {"id": record.child.pk, "local_id": record.child.local_id}
    assert data["pack"]["prepared_by"]["name"] == senior.display_name
    person = data["person"]
    assert (person["given_name"], person["family_name"]) == ("Alex", "Example")
    assert person["sex_display"]

    about = data["about_the_person"]
    [residence] = about["people.residence"]
    assert residence["address"]["name"] == "3 Example Row, Testford, TE3 3EX"
    assert [p["number"] for p in about["people.phonenumber"]] == ["07700 900123"]
    [relationship] = about["people.relationship"]
    assert relationship["person"] == {"id": record.mother.pk, "name": "Jo Example"}
    assert relationship["kind_display"] == "Parent"
    assert "07700 900999" not in json.dumps(data)  # the mother's own record is not in it
    assert about["people.professionalcontact"][0]["organisation"] == "Testford Primary"
    assert "people.personnamekey" not in about
    assert {"person.created"} <= {e["verb"] for e in about["audit.auditevent"]}
    assert all(e["case"] is None for e in about["audit.auditevent"])

    [case] = data["cases"]
    assert case["case"]["reference"] == reference
    records = case["records"]
    assert records["cases.visit"][0]["notes"] == "Alex showed me his new bike."
    assert records["cases.casenote"][0]["body"] == "Attendance has improved this half term."
    assert records["cases.plan"][0]["kind"] == "cin"
    [document] = records["cases.document"]
    assert document["file"]["in_pack"] == document_path
    assert document["sha256"] == record.document.sha256
    [form] = records["closure.formresponse"]
    assert form["answers"]["achieved"] == "School attendance 97%"
    [signed] = records["closure.signeddocument"]
    assert signed["pdf_in_pack"] == closure_pdf
    assert len(records["closure.signature"]) == 2
    verbs = {e["verb"] for e in records["audit.auditevent"]}
    assert {"case.opened", "visit.recorded", "document.uploaded", "closure.proposed"} <= verbs
    [viewed] = records["audit.accessevent"]
    assert viewed["actor"]["name"] == manager.display_name
    assert viewed["action"] == "viewed"
    assert data["cases_not_included"] == []
    assert data["not_included"] == [
        {"records": label, "why": why} for label, why in sorted(EXCLUDED.items())
    ]

    assert "97%" in signed_text
    assert "Subject access request" in summary_text
    assert "Alex Example" in summary_text
    assert document_path in summary_text.replace(" ", "")
    assert "Casework does not redact" in summary_text
    assert "REVIEW BEFORE RELEASE" in readme
    assert "Alex Example" in readme


def _expected_rows(case: Case) -> dict[str, tuple[set[Any], set[Any]]]:
    """For every model with a key to a person or a case: the rows on the case (by its `case`
    key, where it has one), and the rows on the person outside any case, straight from the
    database."""
    expected: dict[str, tuple[set[Any], set[Any]]] = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        keys = [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
        case_keys = [k for k in keys if k.related_model is Case]
        person_keys = [k for k in keys if k.related_model is Person]
        if label in EXCLUDED or model in (Case, Person) or not (case_keys or person_keys):
            continue
        rows = model._base_manager.all()
        owners = [k for k in case_keys if k.name == "case"] or case_keys
        on_case: set[Any] = set()
        for key in owners:
            on_case |= set(rows.filter(**{key.name: case}).values_list("pk", flat=True))
        on_person: set[Any] = set()
        no_case = models.Q(**{f"{k.name}__isnull": True for k in case_keys})
        for key in person_keys:
            mine = rows.filter(no_case, **{key.name: case.subject})
            on_person |= set(mine.values_list("pk", flat=True))
        expected[label] = (on_case, on_person)
    return expected


def test_every_row_keyed_to_the_person_or_their_case_is_in_the_pack(
    record: Record, senior: User
) -> None:
    """Issue 9 item 7: whatever model holds it, each row with a key to the person (outside a
    case) is under about_the_person, and each row with a key to their case is under the case,
    once each: checked against the database for every such model, not a hand-kept list."""
    job = run(senior, record.child)
    with opened(job) as pack:
        data = json.loads(pack.read("person.json"))
    about = data["about_the_person"]
    [case] = data["cases"]
    # Written once the pack is complete, so not in it.
    its_own_log = {"audit.accessevent": {AccessEvent.objects.get(action="exported").pk}}
    checked = 0
    for label, (on_case, on_person) in _expected_rows(record.case).items():
        assert ids(case["records"].get(label, [])) == on_case, label
        assert ids(about.get(label, [])) == on_person - its_own_log.get(label, set()), label
        checked += bool(on_case or on_person)
    assert checked >= 10  # the fixture made rows of many kinds


def test_every_model_keyed_to_a_person_or_a_case_is_in_the_pack_or_excluded_with_a_reason() -> None:
    """Issue 9 item 7: a model added later with a foreign key to a person or a case is in the
    pack automatically; one that must not be has to be named in EXCLUDED with why. This fails
    when a model with such a key is neither."""
    covered = covered_models()
    keyed = {
        model._meta.label_lower
        for model in apps.get_models()
        for key in model._meta.concrete_fields
        if isinstance(key, models.ForeignKey) and key.related_model in (Person, Case)
    }
    assert keyed, "the search found nothing: it is broken"
    left_out = keyed - covered - set(EXCLUDED)
    assert not left_out, f"Add these to the pack or to EXCLUDED with a reason: {left_out}"
    for label, why in EXCLUDED.items():
        assert apps.get_model(label), label
        assert len(why) > 20, label
    # Spot checks that the walk goes beyond direct keys: a closure's signatures and answers.
    assert {"closure.signature", "closure.formresponse", "tasks.taskalert"} <= covered


def test_the_request_and_the_export_are_themselves_logged(record: Record, senior: User) -> None:
    """Issue 9 item 7, X-01, X-02: asking for the pack is an audit event linked to the person
    (so it is in their chronology); writing it is exactly one access log entry, by the
    requester, from the background job, for the person."""
    before = AccessEvent.objects.count()
    job = run(senior, record.child)
    [requested] = AuditEvent.objects.filter(
        verb="export.requested", object_type="returns.exportjob", object_id=str(job.pk)
    )
    assert requested.person_id == record.child.pk
    assert requested.actor == senior
    assert str(record.child.local_id) in requested.summary
    assert "Alex" not in requested.summary
    assert AccessEvent.objects.count() == before + 1
    [exported] = AccessEvent.objects.filter(action="exported")
    assert exported.person_id == record.child.pk
    assert exported.actor == senior
    assert exported.channel == "background"
    assert exported.summary == f"Subject access request export (job {job.pk})"


def test_a_pack_says_which_cases_it_leaves_out_because_the_preparer_cannot_see_them(
    record: Record,
    senior: User,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """Issue 9 item 7, X-02: a children's senior manager's pack holds the person's children's
    cases only; their adults' case is not in it (nor its chronology), and the pack, its
    summary and the job's problem list say so, with whom to ask."""
    adults = make_team("north", TeamFunction.ADULTS_LOCALITY, ServiceArea.ADULTS)
    adult_worker = make_staff("adultworker", adults)
    adult_case = case_open(
        actor=adult_worker,
        subject=record.child,
        team=adults,
        received_on=days_ago(5),
        source="3A",
        reason="Transition planning",
        allocated_worker=adult_worker,
    )
    job = run(senior, record.child)
    [problem] = job.problem_list()
    assert problem.message.startswith("1 of this person's cases in adults' services is not in")
    with opened(job) as pack:
        raw = pack.read("person.json")
        summary_text = pdf_text(pack.read("summary.pdf"))
    data = json.loads(raw)
    assert [c["case"]["reference"] for c in data["cases"]] == [record.case.reference]
    assert data["cases_not_included"][0]["service_area"] == "adults"
    assert adult_case.reference.encode() not in raw
    assert "Transition planning" not in raw.decode()
    assert "This pack is not complete" in summary_text


def test_only_senior_managers_who_can_see_the_person_may_ask(
    record: Record,
    senior: User,
    manager: User,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """Issue 9 item 7, X-02: a team manager or business support is refused in plain English;
    a senior manager who cannot see the person (another service, or a restricted record they
    are not named on) is told there is no one with that ID they can see. Nothing is recorded."""
    support = make_staff("cbs", make_team("cbs", holds_cases=False), Role.BUSINESS_SUPPORT)
    for user in (manager, support):
        with pytest.raises(NotPermitted) as refused:
            export_request(
                actor=user, kind="subject-access", parameters={"person": record.child.local_id}
            )
        assert str(refused.value) == REFUSAL
    adults_head = make_staff(
        "ahos",
        make_team("asm", TeamFunction.OTHER, ServiceArea.ADULTS, holds_cases=False),
        Role.HEAD_OF_SERVICE,
    )
    with pytest.raises(InvalidInput) as unseen:
        export_request(
            actor=adults_head, kind="subject-access", parameters={"person": record.child.local_id}
        )
    assert str(unseen.value) == NOT_FOUND
    Restriction.objects.create(person=record.child, reason="A colleague's child", placed_by=manager)
    with pytest.raises(InvalidInput, match="no one with that local ID"):
        export_request(
            actor=senior, kind="subject-access", parameters={"person": str(record.child.pk)}
        )
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(verb="export.requested").exists()


def test_the_person_is_found_by_local_id_or_casework_id(
    child: Person, open_case: Case, senior: User
) -> None:
    """Issue 9 item 7: the form takes the local ID shown on the person's page (in any case) or
    the Casework ID; the job keeps both, and describes the person by ID, not by name."""
    for typed in (child.local_id, child.local_id.lower(), str(child.pk), f" {child.pk} "):
        assert subject_access.find_person(senior, typed) == child
    job = export_request(actor=senior, kind="subject-access", parameters={"person": str(child.pk)})
    assert job.parameters == {"person_id": str(child.pk), "local_id": child.local_id}
    assert subject_access.describe(job.parameters) == (
        f"person {child.local_id} (Casework ID {child.pk})"
    )


def _sar_form(client: Client) -> str:
    page = client.get(EXPORTS)
    assert page.status_code == 200
    [token] = [t for kind, _form, t in page.context["kinds"] if kind.slug == "subject-access"]
    return str(token)


def test_the_exports_page_offers_it_and_refuses_a_person_one_cannot_see_on_the_form(
    record: Record, senior: User, make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> None:
    """Issue 9 item 7: the Exports page has a Subject access request form for a senior manager;
    an ID they cannot see is shown on the field in the GOV.UK error summary and starts
    nothing; their own person's ID starts the job."""
    client = Client()
    other = make_staff(
        "ahos",
        make_team("asm", TeamFunction.OTHER, ServiceArea.ADULTS, holds_cases=False),
        Role.HEAD_OF_SERVICE,
    )
    client.force_login(other)
    token = _sar_form(client)
    page = client.post(
        EXPORTS,
        {"kind": "subject-access", "once": token, "subject-access-person": record.child.local_id},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Error: Exports" in html
    assert 'href="#id_subject-access-person">There is no one with that local ID' in html
    assert not ExportJob.objects.exists()

    client.force_login(senior)
    token = _sar_form(client)
    done = client.post(
        EXPORTS,
        {"kind": "subject-access", "once": token, "subject-access-person": record.child.local_id},
        follow=True,
    )
    assert "Export started: Subject access request, person" in done.content.decode()
    assert ExportJob.objects.get().requested_by == senior


@pytest.mark.django_db(transaction=True)
def test_the_worker_makes_the_pack_and_only_the_requester_downloads_it(
    record: Record, senior: User, make_staff: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    """Issue 9 item 7: run by the production worker like every export; the requester
    downloads a ZIP; another senior manager who can see the person gets a 404."""
    job = export_request(
        actor=senior, kind="subject-access", parameters={"person": record.child.local_id}
    )
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    job.refresh_from_db()
    assert job.state == ExportState.DONE, job.failure
    client = Client()
    client.force_login(senior)
    response = client.get(reverse("export-file", kwargs={"job_id": job.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert "person.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    colleague = make_staff("sm", make_team("csm2", holds_cases=False), Role.SERVICE_MANAGER)
    client.force_login(colleague)
    assert client.get(reverse("export-file", kwargs={"job_id": job.pk})).status_code == 404


def test_a_big_document_is_streamed_in_pieces(
    open_case: Case, worker: User, senior: User, private_media: Path
) -> None:
    """Issue 9 item 7: the ZIP is yielded a piece at a time, so a person with many large
    documents does not fill the memory: a 3 MB document comes out in pieces of about a
    megabyte, never whole."""
    big = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)  # random: deflate cannot shrink it
    document_upload(
        actor=worker,
        case=open_case,
        kind="report",
        title="A long report",
        upload=SimpleUploadedFile("report.pdf", big, "application/pdf"),
    )
    seen: list[tuple[int, int]] = []
    pieces: Iterator[bytes] = subject_access.subject_access_zip(
        open_case.responsible_team.authority,
        {"person_id": str(open_case.subject.pk)},
        senior,
        lambda done, total: seen.append((done, total)),
    )
    sizes = []
    whole = bytearray()
    for piece in pieces:
        sizes.append(len(piece))
        whole += piece
    assert max(sizes) < 2 * subject_access.CHUNK
    assert sum(1 for size in sizes if size >= subject_access.CHUNK // 2) >= 3
    with zipfile.ZipFile(io.BytesIO(bytes(whole))) as pack:
        [name] = [n for n in pack.namelist() if n.endswith("report.pdf")]
        assert pack.read(name) == big
    assert seen[0] == (0, 3)
    assert seen[-1] == (3, 3)


def test_a_missing_file_is_listed_not_fatal(record: Record, senior: User) -> None:
    """Issue 9 item 7: a document whose file has gone from storage does not stop the pack; the
    JSON marks it missing and the summary lists it for the administrator."""
    record.document.file.storage.delete(record.document.file.name)
    job = run(senior, record.child)
    with opened(job) as pack:
        data = json.loads(pack.read("person.json"))
        summary_text = pdf_text(pack.read("summary.pdf"))
        assert not [n for n in pack.namelist() if "/documents/" in n]
    [document] = data["cases"][0]["records"]["cases.document"]
    assert document["file"]["missing"] is True
    assert "Final meeting minutes: the file is not in storage" in summary_text
