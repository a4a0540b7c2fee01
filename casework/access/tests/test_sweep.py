"""X-02 (issue 9, "done when"): every screen that takes an ID, swept as people with no right to
what it shows. For each URL with an integer ID in it, each way it is reached (GET and POST,
with the query strings that pick a document, a step or a request), as

- a worker and a team manager of another team in the same service area,
- a worker and the head of service of the other service area,
- the case's own allocated worker (the record's owner), after being disabled,

the answer is a 404 or a 403 (a 302 to sign-in for the disabled user, see below) whose body
holds none of the case's details, and nothing is written. A member of the case's own team
whose role is below what an action needs is refused it (403 or 404, nothing written): the
table `MANAGER_ONLY` says which actions and the role; every other ID-taking screen is listed
in `ANY_TEAM_MEMBER` or `OWNER_ONLY`, and a new one in none of them fails the sweep until
someone decides which it is.

The disabled user's session still exists, but Django no longer loads an inactive user for it,
so they are signed out: the answer is the same 302 to sign-in that anyone signed out gets,
with an empty body. A 403 or 404 would say more (that the URL is real), and there is nothing
to sign in to: the sign-in refuses inactive users.

The records swept are real and in the state each action needs (a closure agreed under
procedure 000, transfers requested, authorised and accepted under 004, a looked-after child's
placement awaiting its manager's decision), so a refusal is need to know at work, not a
missing record. They are made once for the module, inside a transaction rolled back at its
end; each test runs in its own savepoint within it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from django.utils import timezone

from casework.accounts.models import User
from casework.api.models import ApiToken
from casework.api.services import api_token_create
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.cases.services import (
    assessment_start,
    case_open,
    document_upload,
    note_add,
    plan_end,
    plan_start,
    visit_record,
)
from casework.closure.models import FurtherAction
from casework.closure.services import (
    closure_authorise,
    closure_decide,
    closure_propose,
    summary_sign,
)
from casework.closure.tests.journeys import CLOSING_SUMMARY_000, closing_000_to_authorise
from casework.organisation.models import (
    Authority,
    Membership,
    Role,
    ServiceArea,
    Team,
    TeamFunction,
)
from casework.people.services import person_create
from casework.policy.services import pack_bind
from casework.retention.models import LegalHold, RetentionReview
from casework.returns.models import ExportJob, ExportState
from casework.tasks.services import task_schedule
from casework.transfers.pathways import pathway_request
from casework.transfers.services import (
    transfer_authorise,
    transfer_decide,
    transfer_discuss,
)
from casework.transfers.tests.test_transfers import (
    AUDIT_ALL_YES,
    Staff,
    _looked_after_child,
    _requested_and_ready,
)

TODAY = timezone.localdate()
LONG_AGO = TODAY - dt.timedelta(days=730)
PASSWORD = "a-test-password-123"  # noqa: S105 - test users only

# --- Who is swept -------------------------------------------------------------------------------

OTHER_TEAM_WORKER = "another team's worker"
OTHER_TEAM_MANAGER = "another team's manager"
OTHER_AREA_WORKER = "the other service area's worker"
OTHER_AREA_HEAD = "the other service area's head of service"
DISABLED_OWNER = "the record's owner, disabled"
OUTSIDERS = [OTHER_TEAM_WORKER, OTHER_TEAM_MANAGER, OTHER_AREA_WORKER, OTHER_AREA_HEAD]
PERSONAS = [*OUTSIDERS, DISABLED_OWNER]


@dataclass
class SweptCase:
    """A case in the state some actions need, its owner (allocated worker), a social worker
    of its team who is not a manager, its team manager, and what must never appear in a
    refusal."""

    case: Case
    owner: User
    colleague: User
    manager: User
    secrets: list[str]


@dataclass
class World:
    authority: Authority
    cases: dict[str, SweptCase]
    personas: dict[str, User]
    users: dict[str, User]
    tokens: dict[int, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    owners: dict[str, User] = field(default_factory=dict)
    files: list[Any] = field(default_factory=list)

    def token_for(self, user: User) -> str:
        """The user's API token, made with the world (one made in a test would be rolled
        back with it)."""
        return self.tokens[user.pk]

    def all_secrets(self) -> list[str]:
        return sorted({s for c in self.cases.values() for s in c.secrets})


def _person(actor: User, given: str, family: str, nhs_number: str = "") -> Any:
    return person_create(
        actor=actor,
        given_name=given,
        family_name=family,
        date_of_birth=TODAY - dt.timedelta(days=9 * 365),
        sex="F",
        ethnicity="WBRI",
        ethnicity_asked=True,
        nhs_number=nhs_number,
    )


def _rename(case: Case, given: str, family: str) -> None:
    """Give a case's subject a name that appears nowhere else (the transfer builders name
    everyone "Example", a word any page may use)."""
    type(case.subject).objects.filter(pk=case.subject_id).update(
        given_name=given, family_name=family
    )
    case.subject.refresh_from_db()


def _secrets(case: Case, *more: str) -> list[str]:
    case.subject.refresh_from_db()
    subject = case.subject
    found = [case.reference, subject.given_name, subject.family_name, subject.local_id, *more]
    if subject.nhs_number:
        found.append(subject.nhs_number)
    return [s for s in found if s]


def build_world() -> World:
    """The authority, its people and the swept records (see the module's docstring)."""
    authority = Authority.objects.create(name="Sweepshire Council", la_code="931", nation="ENG")
    packs = {"closure": "000-closing-cases", "transfer": "004-transfer-and-closure"}
    for purpose, pack in packs.items():
        pack_bind(
            actor=None, authority=authority, service_area="children", purpose=purpose, pack_id=pack
        )

    def make_team(
        code: str,
        function: str = TeamFunction.ASSESSMENT_INTERVENTION,
        service_area: str = ServiceArea.CHILDREN,
        **extra: Any,
    ) -> Team:
        return Team.objects.create(
            authority=authority,
            code=code,
            name=f"Team {code.upper()}",
            service_area=service_area,
            function=function,
            **extra,
        )

    def make_staff(username: str, team: Team, role: str = Role.SOCIAL_WORKER) -> User:
        user = User.objects.create_user(
            username=username, password=PASSWORD, first_name=username.title(), last_name="Staff"
        )
        Membership.objects.create(user=user, team=team, role=role, started_on=LONG_AGO)
        return user

    staff = Staff(make_team, make_staff)
    cwd = make_team("cwd", TeamFunction.DISABILITIES)
    north = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    asm = make_team("asm", TeamFunction.OTHER, service_area=ServiceArea.ADULTS, holds_cases=False)
    bs = make_team("bs", TeamFunction.OTHER, holds_cases=False)
    users = {
        "ai_worker": make_staff("aiworker", staff.ai),
        "ai_colleague": make_staff("aicolleague", staff.ai),
        "ai_manager": staff.ai_manager,
        "sgcp_worker": staff.sgcp_worker,
        "sgcp_colleague": make_staff("sgcpcolleague", staff.sgcp),
        "sgcp_manager": staff.sgcp_manager,
        "lac_worker": staff.lac_worker,
        "lac_colleague": make_staff("laccolleague", staff.lac),
        "lac_manager": staff.lac_manager,
        "lac_admin": make_staff("lacadmin", staff.lac, Role.BUSINESS_SUPPORT),
        "data_officer": make_staff("dataofficer", bs, Role.BUSINESS_SUPPORT),
        "service_manager": make_staff("csm", bs, Role.SERVICE_MANAGER),
    }
    personas = {
        OTHER_TEAM_WORKER: make_staff("cwdworker", cwd),
        OTHER_TEAM_MANAGER: make_staff("cwdmanager", cwd, Role.TEAM_MANAGER),
        OTHER_AREA_WORKER: make_staff("northworker", north),
        OTHER_AREA_HEAD: make_staff("adultshead", asm, Role.HEAD_OF_SERVICE),
    }
    cases: dict[str, SweptCase] = {}
    world = World(authority=authority, cases=cases, personas=personas, users=users)

    # A child's case in Assessment and Intervention with a closure agreed (procedure 000),
    # a visit, a note and a document, and tasks for its worker and for its team manager.
    worker = users["ai_worker"]
    child = _person(worker, "Zephyrine", "Quillfeather", nhs_number="9434765919")
    case = case_open(
        actor=worker,
        subject=child,
        team=staff.ai,
        received_on=TODAY - dt.timedelta(days=60),
        source="2A",
        reason="School raised concerns about attendance.",
        primary_need="N1",
        allocated_worker=worker,
    )
    visit_record(
        actor=worker,
        case=case,
        visited_on=TODAY - dt.timedelta(days=2),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    note_add(
        actor=worker,
        case=case,
        occurred_on=TODAY,
        kind="general",
        title="Marmalade-kettle talk",
        body="Spoke to the family.",
    )
    document = document_upload(
        actor=worker,
        case=case,
        kind="other",
        title="Quokka-lantern safety plan",
        upload=SimpleUploadedFile("plan.txt", b"Safety plan", content_type="text/plain"),
    )
    world.files.append(document.file)
    closure = closure_propose(actor=worker, case=case, reason_id="no-longer-in-need", note="Done")
    closure_decide(
        actor=users["ai_manager"], closure=closure, outcome="agreed", note="Agreed in supervision"
    )
    # An assessment in progress and a plan that has ended, recorded after the agreement
    # (the closure's own gates are not what is swept), and a further action to point at.
    assessment = assessment_start(
        actor=worker, case=case, kind="single", started_on=TODAY - dt.timedelta(days=3)
    )
    plan = plan_start(actor=worker, case=case, kind="cin", started_on=TODAY - dt.timedelta(days=50))
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=5), outcome="Met")
    action = FurtherAction.objects.create(closure=closure, description="Tell the school")
    worker_task = task_schedule(
        key="sweep:worker",
        case=case,
        title="Visit the family",
        role=Role.SOCIAL_WORKER,
        due_on=TODAY,
        assignee=worker,
    )
    manager_task = task_schedule(
        key="sweep:manager",
        case=case,
        title="Review the plan",
        role=Role.TEAM_MANAGER,
        due_on=TODAY,
        team=staff.ai,
    )
    cases["closure"] = SweptCase(
        case,
        worker,
        users["ai_colleague"],
        users["ai_manager"],
        _secrets(case, "Marmalade-kettle talk", "Quokka-lantern safety plan"),
    )

    # Another, whose closing summary is written, authorised and signed by its worker: the
    # signed PDF exists.
    worker = users["ai_worker"]
    child = _person(worker, "Ignatius", "Fernsby-Hollow")
    case = case_open(
        actor=worker,
        subject=child,
        team=staff.ai,
        received_on=TODAY - dt.timedelta(days=90),
        source="2A",
        reason="Concerns about neglect.",
        primary_need="N1",
        allocated_worker=worker,
    )
    visit_record(
        actor=worker,
        case=case,
        visited_on=TODAY - dt.timedelta(days=1),
        subject_seen=True,
        seen_alone=True,
        home_visited=True,
    )
    closure = closing_000_to_authorise(case, worker, users["ai_manager"])
    closure_authorise(actor=users["ai_manager"], closure=closure)
    signature = summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    cases["signed"] = SweptCase(
        case,
        worker,
        users["ai_colleague"],
        users["ai_manager"],
        _secrets(case, str(CLOSING_SUMMARY_000["agreed_outcome"])),
    )

    # Looked-after children in Safeguarding and Care Planning, each with a transfer to the
    # Looked After Children team (procedure 004): requested, authorised, accepted.
    for state, (given, family) in {
        "transfer": ("Bartholomeus", "Wrenfield"),
        "transfer_authorised": ("Clementina", "Ashgrove"),
        "transfer_accepted": ("Desmondo", "Pellinore"),
    }.items():
        case = _looked_after_child(staff)
        _rename(case, given, family)
        transfer = _requested_and_ready(staff, case)
        if state != "transfer":
            transfer_discuss(actor=staff.sgcp_manager, transfer=transfer, discussed_on=TODAY)
            transfer = transfer_authorise(actor=staff.sgcp_manager, transfer=transfer)
        if state == "transfer_accepted":
            transfer_decide(
                actor=staff.lac_manager,
                transfer=transfer,
                accept=True,
                receiving_worker=staff.lac_worker,
            )
        world.files += [d.file for d in case.documents.all()]
        cases[state] = SweptCase(
            case,
            staff.sgcp_worker,
            users["sgcp_colleague"],
            staff.sgcp_manager,
            _secrets(case, "Care order made"),
        )

    # A looked-after child in the LAC team placed in another authority's area: the
    # notification letter exists and the team manager's decision is awaited.
    worker = staff.lac_worker
    child = _person(worker, "Ottoline", "Vanderquist")
    case = case_open(
        actor=worker,
        subject=child,
        team=staff.lac,
        received_on=TODAY - dt.timedelta(days=120),
        source="6",
        reason="Accommodated",
        allocated_worker=worker,
    )
    plan_start(
        actor=worker,
        case=case,
        kind="lac",
        legal_status="C2",
        started_on=TODAY - dt.timedelta(days=60),
    )
    placement = pathway_request(
        actor=worker,
        case=case,
        pathway_id="transfer-out-looked-after",
        answers={
            "host_authority": "Farshire County Council",
            "placed_on": (TODAY - dt.timedelta(days=7)).isoformat(),
            "placement_type": "Foster care",
            "placement_address": "7 Heronsgate Mews, Farton",
            "host_contact": "Children in care team",
        },
    )
    cases["placement"] = SweptCase(
        case,
        worker,
        users["lac_colleague"],
        staff.lac_manager,
        _secrets(case, "Farshire County Council", "Heronsgate Mews"),
    )

    # Records that belong to a person rather than a case: an API token, an export's file.
    token, _ = api_token_create(actor=users["ai_worker"], name="The worker's own token")
    job = ExportJob.objects.create(
        requested_by=users["data_officer"],
        authority=authority,
        kind="cin-census",
        state=ExportState.DONE,
        finished_at=timezone.now(),
    )
    job.file.save("sweep-export.xml", ContentFile(b"<Message>Zephyrine</Message>"), save=True)
    world.files.append(job.file)
    # A records review and a legal hold in children's services, for its service manager.
    # Made directly: the sweep needs only rows for the IDs to point at.
    review = RetentionReview.objects.create(
        person=cases["closure"].case.subject,
        service_area=ServiceArea.CHILDREN,
        record_class="children-in-need",
        record_class_label="Children in need",
        basis="Local retention schedule",
        trigger="closed_on",
        years=25,
        due_on=TODAY - dt.timedelta(days=1),
        listed_on=TODAY,
    )
    hold = LegalHold.objects.create(
        service_area=ServiceArea.CHILDREN,
        person=cases["closure"].case.subject,
        reason="The Quillfeather inquiry asked for every record",
        placed_by=users["service_manager"],
    )
    world.ids = {
        "task_id": worker_task.pk,
        "manager_task_id": manager_task.pk,
        "token_id": token.pk,
        "job_id": job.pk,
        "document_id": document.pk,
        "request_id": placement.pk,
        "assessment_id": assessment.pk,
        "plan_id": plan.pk,
        "action_id": action.pk,
        "signed_document_id": signature.document_id,
        "review_id": review.pk,
        "hold_id": hold.pk,
    }
    for user in User.objects.all():
        world.tokens[user.pk] = api_token_create(actor=user, name="sweep")[1]
    world.owners = {
        "task_id": users["ai_worker"],
        "token_id": users["ai_worker"],
        "job_id": users["data_officer"],
        "review_id": users["service_manager"],
        "hold_id": users["service_manager"],
    }
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The swept records, made once for the module and rolled back after it (each test's
    own changes are rolled back at its end, inside this transaction)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        built: World | None = None
        try:
            built = build_world()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            for stored in built.files if built else []:
                stored.storage.delete(stored.name)


# --- Which screens take an ID ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    ids: tuple[str, ...]


def _id_routes(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = ""
) -> Iterator[Route]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            # The API has its own sweep (casework/api/tests/test_api_sweep.py); the Django
            # admin is for administrators only (staff status) and takes no integer IDs.
            if pattern.namespace not in ("api-v1", "admin"):
                yield from _id_routes(pattern.url_patterns, pattern.namespace or namespace)
            continue
        converters = getattr(pattern.pattern, "converters", {})
        ids = tuple(n for n, c in converters.items() if isinstance(c, IntConverter))
        if ids:
            assert pattern.name, f"{pattern.pattern}: name this URL so the sweep can report it"
            yield Route(pattern.name, ids)


ROUTES = sorted(set(_id_routes()), key=lambda r: r.name)
ROUTE_NAMES = [r.name for r in ROUTES]


@dataclass(frozen=True)
class Needs:
    """What an action needs that a team member may lack: the least role, which swept case
    is in the state where the action can be taken, and what to send."""

    role: str
    case: str = "closure"
    query: str = ""
    body: dict[str, str] = field(default_factory=dict)
    # GET shows a team member what is waiting (read-only); the action is the POST.
    methods: tuple[str, ...] = ("POST",)
    # The lower role: a social worker of the case's team, or of the team asked to take it.
    lower: str = "colleague"
    ids: dict[str, str] = field(default_factory=dict)
    not_swept: str = ""


TM = Role.TEAM_MANAGER
AUDIT_BODY = {
    f"{item}-{part}": value
    for item, answer in AUDIT_ALL_YES.items()
    for part, value in (("answer", answer["answer"]), ("note", answer["note"]))
}

# Screens whose action (or whole page) needs more than membership of the case's team. Keys
# are URL names, with the query string that picks the action where one URL does several.
# Found from the services' require_manager_for / holds_role_for_case / _require_role calls.
MANAGER_ONLY: dict[str, Needs] = {
    "closure-decide": Needs(TM, body={"outcome": "agreed", "note": "Agreed"}),
    "closure-authorise": Needs(TM, body={"compliance_review": "In place"}),
    "closure-step?step=decide-complexity": Needs(TM, body={"note": "Not complex"}),
    "closure-checklist?checklist=supervisor-audit": Needs(TM, body={"complete": "1"}),
    # Withdrawing someone else's proposal (the owner may withdraw their own).
    "closure-withdraw": Needs(TM, body={"reason": "Not needed now"}),
    "closure-agreement": Needs(
        Role.SERVICE_MANAGER,
        not_swept="only procedure 002 (adults) names a gate that can be agreed past; its "
        "role check is tested in casework/closure/tests/test_requirements_002.py",
    ),
    "case-record?what=supervision": Needs(
        TM, body={"held_on": TODAY.isoformat(), "discussion": "Caseload review"}
    ),
    "case-record?what=decision": Needs(
        TM,
        body={"kind": "other", "decided_on": TODAY.isoformat(), "decision": "Agreed"},
    ),
    "task-done": Needs(TM, ids={"task_id": "manager_task_id"}),
    "case-access-log": Needs(TM, methods=("GET",)),
    "case-restriction": Needs(
        TM, methods=("GET", "POST"), body={"action": "restrict", "reason": "Staff member"}
    ),
    "transfer-discuss": Needs(TM, "transfer", body={"discussed_on": TODAY.isoformat()}),
    "transfer-audit": Needs(TM, "transfer", body=AUDIT_BODY),
    "transfer-authorise": Needs(TM, "transfer"),
    # Withdrawing someone else's request (the worker who asked may withdraw their own).
    "transfer-withdraw": Needs(TM, "transfer", body={"reason": "Not needed now"}),
    "transfer-decide": Needs(
        TM, "transfer_authorised", body={"decision": "accept"}, lower="receiving"
    ),
    "transfer-complete": Needs(TM, "transfer_accepted"),
    # Reviewing records for destruction, and legal holds, are for a service area's service
    # managers and heads of service (casework.retention); a team manager is below that.
    "retention-review": Needs(
        Role.SERVICE_MANAGER,
        methods=("GET", "POST"),
        body={"decision": "retain", "reason": "Still needed", "once": ""},
        lower="team manager",
    ),
    "retention-hold-lift": Needs(
        Role.SERVICE_MANAGER,
        methods=("GET", "POST"),
        body={"lift_reason": "The inquiry has ended"},
        lower="team manager",
    ),
    "pathway-decide?pathway=transfer-out-looked-after": Needs(
        TM, "placement", body={"outcome": "notified", "rationale": "Letter sent"}
    ),
}

# Screens any member of the team holding the case may use (the service still checks the
# state, and the step's own role where the pack names one). The three that also appear in
# MANAGER_ONLY do several things, some of which need a manager.
ANY_TEAM_MEMBER = {
    "case-detail",
    "case-documents",
    "case-record",
    "closure-tasks",
    "closure-propose",
    "closure-further-actions",
    "closure-finish",
    "closure-step",
    "closure-form",
    "closure-form-check",
    "closure-form-autosave",
    "closure-checklist",
    "closure-sign",
    "closure-pdf",
    "closure-share",
    "transfer-tasks",
    "transfer-request",
    "transfer-summary",
    "pathway-start",
    "pathway-close",
    "placement-letter",
    "re-referral",
}

# Records that belong to one person: only they may use them (the lower role here is a
# colleague in their own team).
OWNER_ONLY = {
    "task-done": "task_id",
    "api-token-revoke": "token_id",
    "export-detail": "job_id",
    "export-file": "job_id",
}

# Where a screen is reached with a query string that picks a record, sweep those too.
QUERIES: dict[str, list[str]] = {
    "case-documents": ["", "document={document_id}"],
    "case-record": ["", "what=note", "what=supervision"],
    "closure-step": ["step=decide-complexity"],
    "closure-checklist": ["checklist=supervisor-audit"],
    "closure-form": ["form=closing-summary"],
    "closure-pdf": ["document=closing-summary"],
    "placement-letter": ["request={request_id}"],
    "pathway-decide": ["pathway=transfer-out-looked-after"],
    "pathway-close": [""],
    "transfer-tasks": [""],
}

# Which swept case each screen is tried on: the one in the state where it acts.
CASE_FOR = {
    "closure-pdf": "signed",
    "closure-sign": "signed",
    "closure-share": "signed",
    "transfer-decide": "transfer_authorised",
    "transfer-complete": "transfer_accepted",
    "pathway-decide": "placement",
    "pathway-close": "placement",
    "placement-letter": "placement",
}

# A body that would get past each screen's form, so that only need to know refuses it.
PLAUSIBLE = {
    k: v for needs in MANAGER_ONLY.values() for k, v in needs.body.items() if k != "complete"
} | {
    "kind": "general",
    "title": "Forged",
    "body": "Forged",
    "occurred_on": TODAY.isoformat(),
    "reason_id": "no-longer-in-need",
    "rationale": "Forged",
    "request": "{request_id}",
    "name": "forged",
}


def case_key(name: str) -> str:
    if name in CASE_FOR:
        return CASE_FOR[name]
    return "transfer" if name.startswith("transfer-") else "closure"


def url_for(world: World, route: Route, ids: dict[str, str] | None = None) -> str:
    kwargs: dict[str, int] = {}
    for name in route.ids:
        source = (ids or {}).get(name, name)
        if name == "case_id":
            kwargs[name] = world.cases[case_key(route.name)].case.pk
        else:
            assert source in world.ids, (
                f"{route.name}: add a real record for '{name}' to the sweep's world"
            )
            kwargs[name] = world.ids[source]
    return reverse(route.name, kwargs=kwargs)


def with_query(world: World, url: str, query: str) -> str:
    return f"{url}?{query.format(**world.ids)}" if query else url


def owner_of(world: World, route: Route) -> User:
    """Whose record the URL's ID is: the case's allocated worker, the task's or token's
    holder, the export's requester."""
    for name in route.ids:
        if name in world.owners:
            return world.owners[name]
    return world.cases[case_key(route.name)].owner


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, url: str, world: World) -> HttpResponse:
    if method == "GET":
        return client.get(url)  # type: ignore[return-value]
    body = {k: v.format(**world.ids) for k, v in PLAUSIBLE.items()}
    return client.post(url, body)  # type: ignore[return-value]


def leaked(world: World, answer: Any) -> list[str]:
    content = getattr(answer, "content", b"") or b""
    if hasattr(answer, "streaming_content"):
        content = b"".join(answer.streaming_content)
    text = content.decode(errors="replace").lower()
    return [s for s in world.all_secrets() if s.lower() in text]


# --- The sweep --------------------------------------------------------------------------------


def test_x02_the_sweep_finds_the_screens_that_take_ids() -> None:
    """Guard against a sweep that quietly finds nothing."""
    assert {"case-detail", "closure-decide", "task-done", "export-file"} <= set(ROUTE_NAMES)
    assert len(ROUTES) >= 40


def test_x02_every_screen_with_an_id_is_classified() -> None:
    """A new screen that takes an ID fails here until it is listed as open to any team
    member, for a record's owner only, or in MANAGER_ONLY with the role it needs."""
    manager_only = {key.split("?")[0] for key in MANAGER_ONLY}
    unclassified = set(ROUTE_NAMES) - ANY_TEAM_MEMBER - set(OWNER_ONLY) - manager_only
    assert not unclassified, f"Classify these in {__name__}: {sorted(unclassified)}"
    assert not (manager_only | ANY_TEAM_MEMBER | set(OWNER_ONLY)) - set(ROUTE_NAMES)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_x02_every_screen_with_an_id_refuses_those_with_no_need_to_know(
    world: World, db: None, name: str, persona: str
) -> None:
    """X-02: every way into the screen, as someone with no need to know, is a 404 or 403
    with none of the record's details in it (the disabled owner is simply signed out), and
    nothing is written."""
    route = next(r for r in ROUTES if r.name == name)
    owner = owner_of(world, route)
    url = url_for(world, route)
    if persona == DISABLED_OWNER:
        client = client_for(owner)
        User.objects.filter(pk=owner.pk).update(is_active=False)
    else:
        client = client_for(world.personas[persona])
    before = AuditEvent.objects.count()
    for query in QUERIES.get(name, [""]):
        target = with_query(world, url, query)
        for method in ("GET", "POST"):
            answer = send(client, method, target, world)
            where = f"{method} {target} as {persona}"
            if persona == DISABLED_OWNER:
                assert answer.status_code == 302, (where, answer.status_code)
                assert answer["Location"].startswith(reverse("login")), where
            elif answer.status_code == 405:
                # Not a method this screen takes from anyone (require_GET / require_POST).
                assert send(client_for(owner), method, target, world).status_code == 405, where
            else:
                assert answer.status_code in (403, 404), (where, answer.status_code)
            assert not leaked(world, answer), (where, leaked(world, answer))
    assert AuditEvent.objects.count() == before


def control_user(world: World, route: Route) -> User:
    """Someone the screen is for: the record's owner, or the case's manager where even
    reading the screen needs a manager."""
    if any(k.split("?")[0] == route.name and "GET" in n.methods for k, n in MANAGER_ONLY.items()):
        needs = next(n for k, n in MANAGER_ONLY.items() if k.split("?")[0] == route.name)
        if needs.lower != "team manager":
            return world.cases[case_key(route.name)].manager
    return owner_of(world, route)


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_x02_the_swept_ids_are_real_records_their_owner_can_reach(
    world: World, db: None, name: str
) -> None:
    """The control: the same URL as someone it is for is not refused, so the refusals above
    come from need to know, not from an ID that does not exist."""
    route = next(r for r in ROUTES if r.name == name)
    client = client_for(control_user(world, route))
    target = with_query(world, url_for(world, route), QUERIES.get(name, [""])[-1])
    answer = send(client, "GET", target, world)
    if answer.status_code == 405:
        answer = send(client, "POST", target, world)
    assert answer.status_code not in (403, 404), (name, answer.status_code)
    assert not (answer.status_code == 302 and answer["Location"].startswith(reverse("login")))


def _lower_role_user(world: World, needs: Needs) -> User:
    swept = world.cases[needs.case]
    if needs.lower == "receiving":
        return world.users["lac_colleague"]
    if needs.lower == "team manager":
        return swept.manager
    return swept.colleague


@pytest.mark.parametrize("key", sorted(MANAGER_ONLY))
def test_x02_a_lower_role_in_the_team_is_refused_what_needs_a_manager(
    world: World, db: None, key: str
) -> None:
    """X-02: a social worker of the team (or of the team asked to take the case) is refused
    the manager's action, with the case in the state where a manager could take it, and
    nothing is written."""
    needs = MANAGER_ONLY[key]
    if needs.not_swept:
        pytest.skip(f"{key}: {needs.not_swept}")
    name, _, query = key.partition("?")
    route = next(r for r in ROUTES if r.name == name)
    target = with_query(world, url_for(world, route, needs.ids), query)
    client = client_for(_lower_role_user(world, needs))
    before = AuditEvent.objects.count()
    for method in needs.methods:
        if method == "GET":
            answer = client.get(target)
        else:
            answer = client.post(target, {k: v.format(**world.ids) for k, v in needs.body.items()})
        assert answer.status_code in (403, 404), (method, target, answer.status_code)
    assert AuditEvent.objects.count() == before


def test_x02_owner_only_records_are_refused_to_a_colleague(world: World, db: None) -> None:
    """A task, an API token and an export belong to one person: a colleague in the same team
    gets a 404 or 403 for each, and nothing is written."""
    before = AuditEvent.objects.count()
    for name, id_name in OWNER_ONLY.items():
        route = next(r for r in ROUTES if r.name == name)
        owner = world.owners[id_name]
        colleague = (
            world.users["ai_colleague"]
            if owner == world.users["ai_worker"]
            else world.users["lac_admin"]
        )
        client = client_for(colleague)
        url = url_for(world, route)
        for method in ("GET", "POST"):
            answer = send(client, method, url, world)
            if answer.status_code == 405:
                continue
            assert answer.status_code in (403, 404), (method, name, answer.status_code)
            assert not leaked(world, answer), (method, name)
    assert AuditEvent.objects.count() == before
    assert ApiToken.objects.filter(pk=world.ids["token_id"], revoked_at__isnull=True).exists()
