"""Procedure 004 (Transfer and Closure of Cases, children), evaluated against real children's
cases built through the services: the teams, the transfer summary and its audit, routing to
the receiving team, the wrap-around, looked-after and CiN transfer protocols, escalation from
and step-down to Early Help, transfers in and out of the authority, Business Support audits,
and the count of workers a child has had."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_allocate,
    case_close_imported,
    case_open,
    decision_record,
    document_upload,
    meeting_record,
    plan_end,
    plan_start,
    visit_record,
)
from casework.core.codes import CinClosureReason
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.models import Person
from casework.people.services import person_create, person_move_in, relationship_add
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import (
    GateResult,
    checklist_results,
    due_date,
    evaluate_gate,
    notifications_for,
    route,
)
from casework.policy.loader import (
    BUILT_IN_PACKS,
    PackError,
    PackRegistry,
    PolicyPack,
    load_pack,
)
from casework.policy.schema import Pathway, Protocol, Task

TODAY = timezone.localdate()
PACK_ID = "004-transfer-and-closure"
D = dt.date


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def context_for(case: Case, *, today: dt.date | None = None) -> EvaluationContext:
    return EvaluationContext(build_case_view(case, today=today))


def gate(pack: PolicyPack, gate_id: str, case: Case) -> GateResult:
    return evaluate_gate(pack, gate_id, context_for(case))


def protocol(pack: PolicyPack, protocol_id: str) -> Protocol:
    assert pack.spec.transfer is not None
    return next(p for p in pack.spec.transfer.protocols if p.id == protocol_id)


def pathway(pack: PolicyPack, pathway_id: str) -> Pathway:
    assert pack.spec.transfer is not None
    return next(p for p in pack.spec.transfer.pathways if p.id == pathway_id)


def holds(pack: PolicyPack, expression: str, case: Case) -> bool:
    return pack.condition(expression).evaluate(context_for(case)).holds


def recommended(pack: PolicyPack, trigger: str, case: Case) -> tuple[str, str] | None:
    """The team a trigger routes this case to, and the rule that chose it."""
    found = route(pack, trigger, context_for(case))
    return None if found is None else (found.team, found.rule.id)


def upload(actor: User, case: Case, kind: str) -> None:
    document_upload(
        actor=actor,
        case=case,
        kind=kind,
        title=f"{kind.title()} for transfer",
        upload=SimpleUploadedFile("g.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
    )


def assess(actor: User, case: Case, kind: str, *, authorise: bool = False) -> None:
    """An assessment started 40 days ago and completed 30 days ago."""
    started = assessment_start(actor=actor, case=case, kind=kind, started_on=days_ago(40))
    assessment_complete(
        actor=actor,
        assessment=started,
        completed_on=days_ago(30),
        outcome="Needs identified; plan agreed.",
        authorise=authorise,
    )


@dataclass(frozen=True)
class Staff:
    worker: User
    manager: User


@pytest.fixture
def pack() -> PolicyPack:
    return load_pack(PACK_ID)


@pytest.fixture
def ai(worker: User, manager: User) -> Staff:
    return Staff(worker, manager)


@pytest.fixture
def sgcp(make_staff: Callable[..., User], team_sgcp: Team) -> Staff:
    return Staff(
        make_staff("sgcp-worker", team_sgcp),
        make_staff("sgcp-manager", team_sgcp, Role.TEAM_MANAGER),
    )


@pytest.fixture
def team_eh(make_team: Callable[..., Team]) -> Team:
    return make_team("eh", TeamFunction.EARLY_HELP)


@pytest.fixture
def eh(make_staff: Callable[..., User], team_eh: Team) -> Staff:
    return Staff(
        make_staff("eh-worker", team_eh),
        make_staff("eh-manager", team_eh, Role.TEAM_MANAGER),
    )


def open_in(
    staff: Staff, subject: Person, *, opened: int = 200, source: str = "2A", reason: str = ""
) -> Case:
    """A case for `subject` opened `opened` days ago in the worker's own team."""
    team = staff.worker.memberships.get().team
    return case_open(
        actor=staff.worker,
        subject=subject,
        team=team,
        received_on=days_ago(opened),
        source=source,
        reason=reason or "Concerns about neglect reported by the school.",
        allocated_worker=staff.worker,
    )


def closed_in(staff: Staff, subject: Person, *, opened: int, closed: int, code: str) -> Case:
    """An earlier case held by the worker's team, closed `closed` days ago."""
    case = open_in(staff, subject, opened=opened)
    return case_close_imported(
        actor=staff.manager,
        case=case,
        closed_on=days_ago(closed),
        reason_code=code,
        note="Closed before the records came into Casework.",
    )


def child_aged(actor: User, years: int, name: str = "Sam") -> Person:
    return person_create(
        actor=actor,
        given_name=name,
        family_name="Example",
        date_of_birth=TODAY - dt.timedelta(days=years * 365 + 100),
        sex="F",
    )


# --- R004-01 teams are data ---------------------------------------------------------------


def test_r004_01_the_pack_names_every_team_in_the_procedure(pack: PolicyPack) -> None:
    """R004-01: the front door, A&I, SGCP, Edge of Care, SWIS, Wrap Around, LAC, CWD, Early
    Help, the Safeguarding Unit, Business Support and Duty Fostering admin are all teams."""
    teams = pack.spec.teams
    assert set(teams) >= {
        "irt",
        "ai",
        "sgcp",
        "eoc",
        "swis",
        "wrap",
        "lac",
        "cwd",
        "eh",
        "su",
        "cbs",
        "dfa",
    }
    assert "Integrated Referral Team" in teams["irt"]
    assert teams["su"] == "Safeguarding Unit"
    assert "Business Support" in teams["cbs"]
    assert teams["dfa"] == "Duty Fostering Admin"


def _authority_pack(folder: Path, body: dict[str, Any]) -> PolicyPack:
    header = {
        "pack": "testshire-transfers",
        "title": "Testshire transfers",
        "implements": "Testshire's local variation of procedure 004.",
        "service_area": "children",
        "governs": ["transfer"],
        "extends": [PACK_ID],
    }
    (folder / "testshire.yaml").write_text(yaml.safe_dump({**header, **body}), encoding="utf-8")
    return PackRegistry.from_directories([BUILT_IN_PACKS, folder]).load("testshire-transfers")


MASH_TRANSFER: dict[str, Any] = {
    "summary_form": "transfer-summary",
    "audit_checklist": "transfer-audit",
    "authorised_by": "team_manager",
    "accepted_by": "team_manager",
    "routing": [
        {
            "id": "new-referral",
            "trigger": "new_referral",
            "to_team": "mash",
            "explanation": "New referrals come to the MASH.",
        }
    ],
}


def test_r004_01_an_authority_renames_and_adds_teams_in_its_own_pack(
    tmp_path: Path, open_case: Case
) -> None:
    """R004-01: an authority's pack extending 004 renames the front door and adds a MASH;
    the inherited routing keeps working, and its own rule can send referrals to the MASH."""
    renamed = _authority_pack(
        tmp_path,
        {"teams": {"irt": "Children's Front Door", "mash": "Multi-Agency Safeguarding Hub"}},
    )
    assert renamed.spec.teams["irt"] == "Children's Front Door"
    assert renamed.spec.teams["mash"] == "Multi-Agency Safeguarding Hub"
    assert recommended(renamed, "new_referral", open_case) == ("irt", "new-referral")
    with_mash = _authority_pack(
        tmp_path, {"teams": {"mash": "Multi-Agency Safeguarding Hub"}, "transfer": MASH_TRANSFER}
    )
    assert recommended(with_mash, "new_referral", open_case) == ("mash", "new-referral")


def test_r004_01_a_rule_naming_an_undeclared_team_is_refused(tmp_path: Path) -> None:
    """R004-01: a routing rule to a team the pack does not declare is refused on load, with
    the place and the fix."""
    with pytest.raises(PackError) as refused:
        _authority_pack(tmp_path, {"transfer": MASH_TRANSFER})
    assert "transfer.routing[0](new-referral).to_team" in str(refused.value)
    assert "'mash' is not a known team code (declare it under teams:)" in str(refused.value)


# --- R004-02 transfer summary and audit ---------------------------------------------------


def _household(actor: User, child: Person, *, related: bool) -> None:
    """The child lives with an adult: their mother (relationship recorded) or a lodger whose
    relationship to the child nobody has recorded."""
    home = person_move_in(
        actor=actor,
        person=child,
        line_1="12 Birch Road",
        town="Testshire",
        postcode="TS3 1BR",
        started_on=days_ago(1000),
    )
    adult = person_create(
        actor=actor, given_name="Jo", family_name="Example", date_of_birth=days_ago(35 * 365)
    )
    person_move_in(
        actor=actor,
        person=adult,
        line_1="",
        town="",
        postcode="",
        started_on=days_ago(1000),
        address=home.address,
    )
    if related:
        relationship_add(actor=actor, person=adult, relative=child, kind="parent")


def test_r004_02_a_well_kept_record_passes_the_transfer_gates_and_audit(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-02: recording in the last 20 working days, everyone in the household related to
    the child and a genogram on file: the transfer gates are met and every audit item
    (chronology, recording, relationships, genogram) passes."""
    _household(ai.worker, open_case.subject, related=True)
    visit_record(actor=ai.worker, case=open_case, visited_on=days_ago(3), subject_seen=True)
    upload(ai.worker, open_case, "genogram")
    assert pack.spec.transfer is not None
    results = [gate(pack, g, open_case) for g in pack.spec.transfer.gates]
    assert [(r.gate_id, r.passed) for r in results] == [
        ("recording-up-to-date", True),
        ("relationships-up-to-date", True),
        ("current-genogram", True),
    ]
    audit = checklist_results(pack, pack.spec.transfer.audit_checklist, context_for(open_case))
    assert [(r.item.id, r.passed) for r in audit] == [
        ("chronology", True),
        ("recording", True),
        ("relationships", True),
        ("genogram", True),
    ]


def test_r004_02_a_transfer_is_blocked_until_the_record_is_brought_up_to_date(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-02: a lodger with no recorded relationship, no genogram and nothing recorded for
    six weeks block the transfer, each with its reason, and fail the audit."""
    _household(ai.worker, open_case.subject, related=False)
    visit_record(actor=ai.worker, case=open_case, visited_on=days_ago(45), subject_seen=True)
    assert pack.spec.transfer is not None
    results = [gate(pack, g, open_case) for g in pack.spec.transfer.gates]
    assert all(r.blocks for r in results)
    reasons = " ".join(r.explanation for r in results)
    assert "not up to date" in reasons
    assert "no recorded relationship" in reasons
    assert "genogram" in reasons
    audit = checklist_results(pack, "transfer-audit", context_for(open_case))
    assert [r.passed for r in audit] == [False, False, False, False]


def test_r004_02_a_genogram_over_a_year_old_is_not_current(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-02: the genogram uploaded today is current; looked at 13 months on, it is not."""
    upload(ai.worker, open_case, "genogram")
    assert gate(pack, "current-genogram", open_case).passed
    later = TODAY + dt.timedelta(days=400)
    stale = evaluate_gate(pack, "current-genogram", context_for(open_case, today=later))
    assert stale.blocks
    assert "last 12 months" in stale.explanation


def test_r004_02_an_old_uploaded_chronology_is_not_up_to_date(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-02: with no recent recording, a chronology uploaded two months before the audit
    does not make the chronology "up to date"; one uploaded this week does."""
    upload(ai.worker, open_case, "chronology")
    two_months_on = TODAY + dt.timedelta(days=60)
    old = checklist_results(pack, "transfer-audit", context_for(open_case, today=two_months_on))
    assert next(r for r in old if r.item.id == "chronology").passed is False
    fresh = checklist_results(pack, "transfer-audit", context_for(open_case))
    assert next(r for r in fresh if r.item.id == "chronology").passed is True


def test_r004_02_the_transfer_summary_is_authorised_by_a_manager(pack: PolicyPack) -> None:
    """R004-02: every transfer has a summary (with its rationale) and the audit checklist,
    authorised by the sending team manager."""
    transfer = pack.spec.transfer
    assert transfer is not None
    assert transfer.authorised_by == "team_manager"
    assert transfer.audit_checklist == "transfer-audit"
    summary = pack.spec.forms[transfer.summary_form]
    assert summary.fields[0].id == "rationale"
    assert summary.fields[0].required


# --- R004-03 routing ---------------------------------------------------------------------


def test_r004_03_a_cp_plan_made_at_icpc_goes_to_sgcp(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-03: when the initial conference makes a CP plan on an A&I case, SGCP is
    recommended, with the rule's explanation."""
    meeting_record(
        actor=ai.worker,
        case=open_case,
        kind="icpc",
        held_on=days_ago(5),
        attendees=[{"name": "Chair", "role": "IRO"}],
    )
    plan_start(actor=ai.worker, case=open_case, kind="cp", started_on=days_ago(5), category="NEG")
    found = route(pack, "cp_plan_made_at_icpc", context_for(open_case))
    assert found is not None
    assert (found.team, found.rule.id) == ("sgcp", "cp-plan-at-icpc")
    assert found.explanation == "SGCP takes child protection plans made at the initial conference."


def test_r004_03_a_cp_plan_ending_in_a_cin_plan_stays_with_sgcp(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-03: a CP plan that ends in a CiN plan stays with SGCP (exceptionally A&I, which
    the explanation says and a manager may choose by override)."""
    case = open_in(sgcp, child)
    cp = plan_start(
        actor=sgcp.worker, case=case, kind="cp", started_on=days_ago(150), category="EMO"
    )
    plan_end(actor=sgcp.worker, plan=cp, ended_on=days_ago(10))
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(10))
    found = route(pack, "cp_plan_ended_cin_plan_made", context_for(case))
    assert found is not None
    assert found.team == "sgcp"
    assert "exceptionally it moves to A&I" in found.explanation


@pytest.mark.parametrize(
    ("closed", "expected"),
    [(30, ("sgcp", "re-referral-after-sgcp")), (92, ("sgcp", "re-referral-after-sgcp")),
     (93, None), (200, None)],
)  # fmt: skip
def test_r004_03_a_re_referral_within_three_months_of_sgcp_closing_goes_back_to_sgcp(
    pack: PolicyPack,
    sgcp: Staff,
    ai: Staff,
    child: Person,
    closed: int,
    expected: tuple[str, str] | None,
) -> None:
    """R004-03: SGCP closed the child's case (stepped down to Early Help); a re-referral up
    to 92 days later goes back to SGCP, but not one 93 or 200 days later."""
    closed_in(sgcp, child, opened=400, closed=closed, code="RC9")
    new = open_in(ai, child, opened=1)
    assert recommended(pack, "re_referral", new) == expected


def test_r004_03_a_re_referral_after_an_ai_closure_does_not_go_to_sgcp(
    pack: PolicyPack, ai: Staff, child: Person
) -> None:
    """R004-03: the three-month rule is about SGCP's closures: a re-referral 30 days after
    A&I closed the case gets no SGCP recommendation."""
    closed_in(ai, child, opened=300, closed=30, code="RC8")
    assert recommended(pack, "re_referral", open_in(ai, child, opened=1)) is None


def test_r004_03_a_child_accommodated_by_ai_moves_to_sgcp_at_the_first_review(
    pack: PolicyPack,
    ai: Staff,
    open_case: Case,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R004-03: at the first looked-after review of a child A&I accommodated, SGCP is
    recommended; the same trigger on an Edge of Care case (which keeps children it
    accommodates while rehabilitation is realistic) recommends nothing."""
    plan_start(
        actor=ai.worker, case=open_case, kind="lac", started_on=days_ago(25), legal_status="V2"
    )
    meeting_record(
        actor=ai.worker,
        case=open_case,
        kind="lac_review",
        held_on=days_ago(2),
        attendees=[{"name": "IRO", "role": "Reviewing officer"}],
    )
    assert recommended(pack, "first_looked_after_review", open_case) == (
        "sgcp",
        "accommodated-by-ai",
    )
    team_eoc = make_team("eoc", TeamFunction.EDGE_OF_CARE)
    eoc = Staff(
        make_staff("eoc-worker", team_eoc), make_staff("eoc-tm", team_eoc, Role.TEAM_MANAGER)
    )
    eoc_case = open_in(eoc, child_aged(eoc.worker, 14))
    assert recommended(pack, "first_looked_after_review", eoc_case) is None


def test_r004_03_a_letter_before_proceedings_moves_ai_cases_to_sgcp(
    pack: PolicyPack, open_case: Case, sgcp: Staff
) -> None:
    """R004-03: a letter before proceedings on an A&I case recommends SGCP; on a case SGCP
    already holds there is nothing to move."""
    assert recommended(pack, "letter_before_proceedings", open_case) == (
        "sgcp",
        "letter-before-proceedings",
    )
    held = open_in(sgcp, child_aged(sgcp.worker, 12, "Robin"))
    assert recommended(pack, "letter_before_proceedings", held) is None


@pytest.mark.parametrize(
    ("trigger", "legal_status", "rule"),
    [
        ("care_order_made", "C2", "care-order"),
        ("section20_long_term_fostering", "V2", "section20-long-term-fostering"),
    ],
)
def test_r004_03_care_orders_and_section_20_long_term_fostering_go_to_lac(
    pack: PolicyPack,
    sgcp: Staff,
    child: Person,
    trigger: str,
    legal_status: str,
    rule: str,
) -> None:
    """R004-03: a care order at the end of proceedings, or section 20 with long-term
    fostering agreed at legal gateway, recommends the Looked After Children team."""
    case = open_in(sgcp, child)
    plan_start(
        actor=sgcp.worker,
        case=case,
        kind="lac",
        started_on=days_ago(100),
        legal_status=legal_status,
    )
    found = route(pack, trigger, context_for(case))
    assert found is not None
    assert (found.team, found.rule.id) == ("lac", rule)
    assert "LAC team" in found.explanation


def test_r004_03_a_disabled_child_goes_to_cwd_with_siblings(
    pack: PolicyPack, open_case: Case
) -> None:
    """R004-03: a disabled child meeting the criteria goes to CWD, and the recommendation
    says CWD takes any siblings referred too."""
    found = route(pack, "disabled_child_meets_criteria", context_for(open_case))
    assert found is not None
    assert (found.team, found.rule.with_siblings) == ("cwd", True)
    assert "siblings" in found.explanation


def test_r004_03_a_court_report_on_a_closed_case_goes_to_the_team_that_held_it(
    pack: PolicyPack, sgcp: Staff, ai: Staff, child: Person
) -> None:
    """R004-03: a section 7/37 report ordered for a child whose case SGCP closed goes to
    SGCP, whether routed on the closed case or on the new case opened for the report."""
    closed = closed_in(sgcp, child, opened=400, closed=100, code="RC7")
    assert recommended(pack, "court_report_ordered", closed) == (
        "sgcp",
        "court-report-closed-case",
    )
    new = open_in(ai, child, opened=2, source="7", reason="Court directed a section 37 report.")
    found = route(pack, "court_report_ordered", context_for(new))
    assert found is not None
    assert found.team == "sgcp"
    assert ("previous_case.team", "sgcp") in found.facts


def test_r004_03_a_court_report_goes_to_the_team_that_held_the_latest_closed_case(
    pack: PolicyPack, sgcp: Staff, ai: Staff, child: Person
) -> None:
    """R004-03: A&I closed the child's first case years ago and SGCP their latest; a report
    ordered on the latest closed case goes to SGCP, the team that last held it."""
    closed_in(ai, child, opened=1500, closed=1200, code="RC8")
    latest = closed_in(sgcp, child, opened=400, closed=60, code="RC7")
    assert recommended(pack, "court_report_ordered", latest) == (
        "sgcp",
        "court-report-closed-case",
    )


def test_r004_03_a_court_report_with_no_link_to_a_current_team_goes_to_ai(
    pack: PolicyPack,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
    ai: Staff,
    child: Person,
) -> None:
    """R004-03: the child's last case was held by the old IRAT team, which no longer exists
    in the structure: the report goes to A&I."""
    irat = make_team("irat", TeamFunction.ASSESSMENT_INTERVENTION)
    old = Staff(make_staff("irat-worker", irat), make_staff("irat-tm", irat, Role.TEAM_MANAGER))
    closed_in(old, child, opened=900, closed=700, code="RC8")
    new = open_in(ai, child, opened=2, source="7", reason="Court directed a section 7 report.")
    assert recommended(pack, "court_report_ordered", new) == ("ai", "court-report-closed-case")


@pytest.mark.parametrize(
    ("trigger", "rule"),
    [
        ("private_fostering", "private-fostering"),
        ("family_assistance_order", "family-assistance-order"),
    ],
)
def test_r004_03_private_fostering_and_family_assistance_orders_go_to_ai(
    pack: PolicyPack, sgcp: Staff, child: Person, trigger: str, rule: str
) -> None:
    """R004-03: private fostering arrangements and family assistance orders go to A&I, even
    from a case SGCP holds."""
    assert recommended(pack, trigger, open_in(sgcp, child)) == ("ai", rule)


def test_r004_03_a_child_over_11_at_high_risk_of_care_goes_to_edge_of_care(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-03: a 13-year-old at high risk of imminent care is recommended to Edge of Care;
    the 9-year-old in `open_case` at the same risk is not."""
    teenager = open_in(ai, child_aged(ai.worker, 13))
    found = route(pack, "high_risk_of_care", context_for(teenager))
    assert found is not None
    assert (found.team, found.rule.id) == ("eoc", "edge-of-care")
    assert ("subject.age", "13") in found.facts
    assert route(pack, "high_risk_of_care", context_for(open_case)) is None


def test_r004_03_new_referrals_come_to_the_front_door(pack: PolicyPack, open_case: Case) -> None:
    """R004-03: a new contact or referral is routed to the Integrated Referral Team."""
    assert recommended(pack, "new_referral", open_case) == ("irt", "new-referral")


# --- R004-04 wrap-around ---------------------------------------------------------------------


def test_r004_04_wrap_around_support_needs_a_plan_and_never_moves_responsibility(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-04: wrap-around support for an A&I case with a CiN plan is allowed, keeps case
    responsibility with A&I, and is requested with an end date and a plan; no routing rule
    or pathway ever makes the wrap-around team responsible."""
    plan_start(actor=ai.worker, case=open_case, kind="cin", started_on=days_ago(20))
    wrap = protocol(pack, "wrap-around")
    assert wrap.to_teams == ["wrap"]
    assert wrap.moves_responsibility is False
    assert {"end_date", "plan"} <= set(wrap.request_fields)
    assert [gate(pack, g, open_case).passed for g in wrap.gates] == [True]
    assert pack.spec.transfer is not None
    assert all(r.to_team != "wrap" for r in pack.spec.transfer.routing)
    assert all(p.to_team != "wrap" for p in pack.spec.transfer.pathways)
    assert [p.id for p in pack.spec.transfer.protocols if "wrap" in p.to_teams] == ["wrap-around"]


def test_r004_04_wrap_around_without_a_plan_is_refused(pack: PolicyPack, open_case: Case) -> None:
    """R004-04: a case with no plan in place cannot have wrap-around support: it needs a
    clear plan of intervention first."""
    result = gate(pack, "wrap-around-time-bound", open_case)
    assert result.blocks
    assert "clear plan of intervention" in result.explanation


# --- R004-05 transfer to the looked-after team ------------------------------------------------


def test_r004_05_transfer_within_10_working_days_counts_bank_holidays(
    pack: PolicyPack, authority: Authority
) -> None:
    """R004-05: a team manager's discussion on Wednesday 16 April 2025 (before Good Friday
    and Easter Monday) gives a transfer deadline of Friday 2 May, not 30 April; later life
    letters are due six weeks after the transfer."""
    lac = protocol(pack, "to-looked-after")
    assert lac.transfer_within is not None
    assert lac.transfer_within.from_ == "transfer.discussed"
    assert due_date(lac.transfer_within, D(2025, 4, 16), authority.calendar()) == D(2025, 5, 2)
    letters = next(t for t in lac.tasks if t.id == "later-life-letters")
    assert (letters.role, letters.due.from_) == ("social_worker", "transfer.completed")
    assert due_date(letters.due, D(2025, 5, 2), authority.calendar()) == D(2025, 6, 13)


def test_r004_05_the_transfer_happens_on_the_agreed_date_with_escalation_if_late(
    pack: PolicyPack,
) -> None:
    """R004-05: the request carries the next care team meeting date; the case transfers on
    the agreed date even if someone misses the transfer meeting; the Service Manager is
    told if it has not transferred in 10 working days."""
    lac = protocol(pack, "to-looked-after")
    assert (lac.from_teams, lac.to_teams) == (["sgcp", "ai"], ["lac"])
    assert "next_care_team_meeting" in lac.request_fields
    assert "next_care_team_meeting" in [f.id for f in pack.spec.forms["transfer-summary"].fields]
    assert (lac.transfer_point, lac.meeting_kind) == ("agreed_date", "transfer")
    assert lac.transfers_on_agreed_date_if_meeting_missed is True
    assert lac.escalate_if_late is not None
    assert lac.escalate_if_late.role == "service_manager"
    assert "10 working" in lac.escalate_if_late.message


def test_r004_05_a_looked_after_child_with_work_up_to_date_can_transfer_and_the_iro_is_told(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-05: a looked-after child on an SGCP case, assessments complete and seen last
    week, meets the protocol; authorising the transfer notifies the IRO."""
    case = open_in(sgcp, child)
    plan_start(
        actor=sgcp.worker, case=case, kind="lac", started_on=days_ago(100), legal_status="C2"
    )
    assess(sgcp.worker, case, "single")
    visit_record(actor=sgcp.worker, case=case, visited_on=days_ago(6), subject_seen=True)
    lac = protocol(pack, "to-looked-after")
    assert holds(pack, lac.when, case)
    assert [gate(pack, g, case).passed for g in lac.gates] == [True]
    told = notifications_for(pack, "transfer.authorised", context_for(case))
    assert [n.role for n in told] == ["reviewing_officer"]
    assert "Looked After Children team" in told[0].message


def test_r004_05_an_assessment_in_progress_blocks_the_looked_after_transfer(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-05: an assessment still in progress (or the child not seen recently) keeps the
    case from transferring to the LAC team."""
    case = open_in(sgcp, child)
    plan_start(
        actor=sgcp.worker, case=case, kind="lac", started_on=days_ago(100), legal_status="C2"
    )
    assessment_start(actor=sgcp.worker, case=case, kind="single", started_on=days_ago(10))
    visit_record(actor=sgcp.worker, case=case, visited_on=days_ago(6), subject_seen=True)
    result = gate(pack, "assessments-up-to-date", case)
    assert result.blocks
    assert "every assessment must be complete" in result.explanation


def test_r004_05_a_child_who_is_not_looked_after_is_not_in_the_protocol_and_the_iro_is_not_told(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-05: a child in need case is not a looked-after transfer: the protocol does not
    apply and authorising its transfer does not notify the IRO."""
    case = open_in(sgcp, child)
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(50))
    assert not holds(pack, protocol(pack, "to-looked-after").when, case)
    assert notifications_for(pack, "transfer.authorised", context_for(case)) == []


# --- R004-06 CiN transfer from SGCP to A&I ---------------------------------------------------


def test_r004_06_a_signed_off_cin_case_with_a_chronology_can_transfer_at_the_cin_review(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-06: a CiN case in SGCP with its CiN assessment signed off by the team manager, an
    open CiN plan and an updated chronology meets the protocol; the CiN review is the
    transfer point."""
    case = open_in(sgcp, child)
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(60))
    assess(sgcp.manager, case, "cin", authorise=True)
    upload(sgcp.worker, case, "chronology")
    cin = protocol(pack, "cin-sgcp-to-ai")
    assert (cin.from_teams, cin.to_teams) == (["sgcp"], ["ai"])
    assert holds(pack, cin.when, case)
    assert (cin.transfer_point, cin.meeting_kind) == ("meeting", "cin_review")
    assert [(g, gate(pack, g, case).passed) for g in cin.gates] == [
        ("cin-assessment-and-plan-signed-off", True),
        ("chronology-on-file", True),
    ]


def test_r004_06_an_unsigned_assessment_or_missing_chronology_blocks_the_transfer(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-06: a CiN assessment the team manager has not signed off, and no chronology
    uploaded, each block the transfer with what to do."""
    case = open_in(sgcp, child)
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(60))
    assess(sgcp.worker, case, "cin")
    signed = gate(pack, "cin-assessment-and-plan-signed-off", case)
    assert signed.blocks
    assert "sign them off" in signed.explanation
    chronology = gate(pack, "chronology-on-file", case)
    assert chronology.blocks
    assert "chronology" in chronology.explanation


def test_r004_06_review_minutes_and_the_sending_managers_audit_are_due_in_5_working_days(
    pack: PolicyPack, authority: Authority
) -> None:
    """R004-06: a CiN review on Friday 23 May 2025 (before the spring bank holiday) has its
    minutes due on Monday 2 June; so does the sending team manager's audit of a transfer
    completed that day."""
    tasks = {t.id: t for t in protocol(pack, "cin-sgcp-to-ai").tasks}
    assert tasks["review-minutes"].due.from_ == "cin_review.held"
    assert tasks["sending-manager-audit"].due.from_ == "transfer.completed"
    for task in tasks.values():
        assert task.role == "team_manager"
        assert due_date(task.due, D(2025, 5, 23), authority.calendar()) == D(2025, 6, 2)


# --- R004-07 escalation from Early Help -------------------------------------------------------


def _escalation_team(pack: PolicyPack, case: Case) -> str:
    expression = pathway(pack, "escalation-from-early-help").to_team_expression
    assert expression is not None
    value = pack.condition(expression).evaluate(context_for(case)).value
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize(
    ("previous", "closed", "expected"),
    [("sgcp", 40, "sgcp"), ("ai", 30, "ai"), ("sgcp", 120, "irt")],
)
def test_r004_07_escalation_goes_back_to_the_team_that_held_the_case_in_the_last_3_months(
    pack: PolicyPack,
    request: pytest.FixtureRequest,
    eh: Staff,
    child: Person,
    previous: str,
    closed: int,
    expected: str,
) -> None:
    """R004-07: Early Help escalating a child whose case SGCP (or A&I) closed 40 (30) days ago
    sends it back to that team; if that team closed it 120 days ago it goes to the front
    door (IRT)."""
    staff: Staff = request.getfixturevalue(previous)
    closed_in(staff, child, opened=400, closed=closed, code="RC9")
    eh_case = open_in(eh, child, opened=closed - 5, source="5D")
    assert _escalation_team(pack, eh_case) == expected


def test_r004_07_escalation_with_no_earlier_case_goes_to_the_front_door(
    pack: PolicyPack, eh: Staff, child: Person
) -> None:
    """R004-07: a child Early Help has always held is escalated to the front door."""
    assert _escalation_team(pack, open_in(eh, child, opened=90)) == "irt"


def test_r004_07_escalation_needs_the_early_help_managers_authorised_closure_summary(
    pack: PolicyPack, eh: Staff, child: Person
) -> None:
    """R004-07: Early Help cannot escalate until its manager has authorised the closure
    summary; once recorded, the gate is met. The receiving team decides, and if it does not
    accept, the Early Help manager is prompted to record next steps."""
    case = open_in(eh, child, opened=90)
    escalation = pathway(pack, "escalation-from-early-help")
    assert escalation.gates == ["early-help-closure-summary"]
    blocked = gate(pack, "early-help-closure-summary", case)
    assert blocked.blocks
    assert "authorised by the Early Help manager" in blocked.explanation
    decision_record(
        actor=eh.manager,
        case=case,
        kind="transfer",
        decided_on=days_ago(1),
        decision="Closure summary authorised; escalate to SGCP.",
    )
    assert gate(pack, "early-help-closure-summary", case).passed
    assert escalation.outcomes == ["accepted", "not-accepted"]
    told = notifications_for(pack, "escalation.decided", context_for(case))
    assert [n.role for n in told] == ["team_manager"]
    assert "next steps" in told[0].message


# --- R004-08 step-down to Early Help ----------------------------------------------------------


def test_r004_08_step_down_after_a_full_assessment_needs_a_plan_and_5_working_days_notice(
    pack: PolicyPack, ai: Staff, open_case: Case, authority: Authority
) -> None:
    """R004-08: after a completed single (45-day) assessment with a CiN plan, the full
    step-down applies (not the short one) and its plan gate is met; the meeting asked for on
    Thursday 18 December 2025 must be on or after Monday 29 December (5 working days, over
    Christmas); the Early Help duty manager decides, and a closure is RC9."""
    assess(ai.worker, open_case, "single")
    plan_start(actor=ai.worker, case=open_case, kind="cin", started_on=days_ago(25))
    full = pathway(pack, "step-down-full-assessment")
    short = pathway(pack, "step-down-short-assessment")
    assert holds(pack, full.when, open_case)
    assert not holds(pack, short.when, open_case)
    assert [gate(pack, g, open_case).passed for g in full.gates] == [True]
    assert full.meeting_notice is not None
    assert due_date(full.meeting_notice, D(2025, 12, 18), authority.calendar()) == D(2025, 12, 29)
    assert full.decided_by == "early_help_duty_manager"
    assert full.closes_case_with == "RC9"
    assert CinClosureReason(full.closes_case_with).label.endswith("referred to early help")
    assert full.form == "request-for-early-help"


def test_r004_08_step_down_after_a_short_assessment_is_direct_allocation_or_dispute(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-08: after a short (28-day) assessment, the short step-down applies: direct
    allocation without a transfer meeting, or a threshold dispute."""
    assess(ai.worker, open_case, "short")
    short = pathway(pack, "step-down-short-assessment")
    assert holds(pack, short.when, open_case)
    assert not holds(pack, pathway(pack, "step-down-full-assessment").when, open_case)
    assert short.meeting_notice is None
    assert short.outcomes == ["direct-allocation", "threshold-dispute"]
    assert short.decided_by == "early_help_duty_manager"


def test_r004_08_step_down_from_sgcp_without_an_assessment_and_plan_is_refused(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-08: SGCP or CWD stepping down must send a plan of action for Early Help; with no
    completed assessment and no plan the request is refused. Once in place it closes RC7."""
    case = open_in(sgcp, child)
    down = pathway(pack, "step-down-sgcp-cwd")
    assert down.from_teams == ["sgcp", "cwd"]
    refused = gate(pack, "step-down-plan", case)
    assert refused.blocks
    assert "clear plan of action" in refused.explanation
    assess(sgcp.worker, case, "single")
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(20))
    assert gate(pack, "step-down-plan", case).passed
    assert (down.closes_case_with, down.decided_by) == ("RC7", "early_help_duty_manager")


def test_r004_08_front_door_step_down_and_the_request_form(pack: PolicyPack) -> None:
    """R004-08: from a front-door contact, Early Help duty either gives advice or signposts,
    or allocates with the family's consent; the request form asks for the meeting, the plan,
    consent and the duty manager's outcome and rationale."""
    door = pathway(pack, "step-down-front-door")
    assert door.from_teams == ["irt"]
    assert door.outcomes == ["advice-and-signposting", "allocate-with-consent"]
    assert door.decided_by == "early_help_duty_manager"
    fields = [f.id for f in pack.spec.forms["request-for-early-help"].fields]
    assert fields == ["meeting_date", "plan_for_early_help", "consent", "outcome", "rationale"]


# --- R004-09 transfer in from another authority -----------------------------------------------


def test_r004_09_a_cin_case_transferring_in_is_accepted_with_its_four_documents(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-09: a child in need case from another authority can be accepted once the
    assessment, CiN plan, chronology and genogram have been received."""
    case = open_in(sgcp, child, opened=5, source="5C")
    for kind in ("assessment", "plan", "chronology", "genogram"):
        upload(sgcp.worker, case, kind)
    incoming = pathway(pack, "transfer-in-cin")
    assert [gate(pack, g, case).passed for g in incoming.gates] == [True]
    assert incoming.outcomes == ["accepted", "declined"]


def test_r004_09_a_cin_case_transferring_in_without_a_genogram_is_not_accepted(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-09: with the genogram still to come, acceptance is blocked and the user is told
    the four documents needed."""
    case = open_in(sgcp, child, opened=5, source="5C")
    for kind in ("assessment", "plan", "chronology"):
        upload(sgcp.worker, case, kind)
    result = gate(pack, "transfer-in-documents", case)
    assert result.blocks
    assert "a chronology and a genogram" in result.explanation


def test_r004_09_a_cp_case_moving_in_is_notified_to_the_safeguarding_unit(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-09: a child on a CP plan moving in: the transfer request notifies the Safeguarding
    Unit's administrator, who alerts the SGCP team manager."""
    case = open_in(sgcp, child, opened=5, source="5C")
    plan_start(actor=sgcp.worker, case=case, kind="cp", started_on=days_ago(4), category="PHY")
    told = notifications_for(pack, "transfer.requested", context_for(case))
    assert [n.role for n in told] == ["safeguarding_unit_admin"]
    assert "SGCP team" in told[0].message
    assert pathway(pack, "transfer-in-cp").decided_by == "team_manager"


def test_r004_09_a_cin_case_moving_in_is_not_notified_to_the_safeguarding_unit(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-09: a child in need (no CP plan) transferring in is not a Safeguarding Unit
    notification."""
    case = open_in(sgcp, child, opened=5, source="5C")
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(4))
    assert notifications_for(pack, "transfer.requested", context_for(case)) == []


# --- R004-10 transfer out ---------------------------------------------------------------------


def test_r004_10_a_cin_family_moving_away_is_referred_on_and_closed_rc5(
    pack: PolicyPack, authority: Authority
) -> None:
    """R004-10: a CiN family moving permanently is referred to the new authority's front door
    within 5 working days and the case closes as RC5 (transferred to another authority)."""
    out = pathway(pack, "transfer-out-cin")
    assert out.closes_case_with == "RC5"
    assert CinClosureReason(out.closes_case_with).label.startswith("Transferred to services")
    refer = out.tasks[0]
    assert (refer.id, refer.role, refer.due.from_) == (
        "refer-to-new-authority",
        "social_worker",
        "case.moved_out_of_area",
    )
    assert due_date(refer.due, D(2025, 12, 18), authority.calendar()) == D(2025, 12, 29)


def test_r004_10_a_looked_after_child_placed_out_of_area_is_notified_by_business_support(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-10: placing a looked-after child with carers in another area tells Business
    Support to send the notification letter, with a copy to Duty Fostering admin."""
    case = open_in(sgcp, child)
    plan_start(actor=sgcp.worker, case=case, kind="lac", started_on=days_ago(60), legal_status="C2")
    told = notifications_for(pack, "case.placed_out_of_area", context_for(case))
    assert [n.role for n in told] == ["business_support"]
    assert "Duty Fostering admin" in told[0].message


def test_r004_10_a_child_who_is_not_looked_after_produces_no_placement_letter(
    pack: PolicyPack, open_case: Case
) -> None:
    """R004-10: the placement notification letter is for looked-after children only."""
    assert notifications_for(pack, "case.placed_out_of_area", context_for(open_case)) == []


def test_r004_10_a_cp_child_moving_is_notified_by_the_safeguarding_unit(
    pack: PolicyPack, sgcp: Staff, child: Person
) -> None:
    """R004-10: a child on a CP plan moving away, temporarily or permanently, is notified to
    the other authority by the Safeguarding Unit's designated administrator, and agreements
    about supervision are confirmed in writing."""
    case = open_in(sgcp, child)
    plan_start(actor=sgcp.worker, case=case, kind="cp", started_on=days_ago(60), category="NEG")
    told = notifications_for(pack, "case.moved_out_of_area", context_for(case))
    assert [n.role for n in told] == ["safeguarding_unit_admin"]
    assert "designated manager" in told[0].message
    writing = pathway(pack, "transfer-out-child-protection").tasks
    assert [(t.id, t.role) for t in writing] == [("confirm-in-writing", "team_manager")]


def test_r004_10_a_cin_family_moving_is_not_a_safeguarding_unit_notification(
    pack: PolicyPack, ai: Staff, open_case: Case
) -> None:
    """R004-10: a child in need family moving away is referred on by the worker, not notified
    by the Safeguarding Unit."""
    plan_start(actor=ai.worker, case=open_case, kind="cin", started_on=days_ago(30))
    assert notifications_for(pack, "case.moved_out_of_area", context_for(open_case)) == []


# --- R004-11 Business Support audits -----------------------------------------------------------


def _tasks_from(pack: PolicyPack, event: str) -> list[Task]:
    spec = pack.spec
    tasks = list(spec.tasks)
    if spec.transfer is not None:
        tasks += spec.transfer.tasks
    return [t for t in tasks if t.due.from_ == event]


@pytest.mark.parametrize(
    ("event", "task_id"),
    [
        ("transfer.completed", "business-support-transfer-audit"),
        ("closure.closed", "business-support-closure-audit"),
        ("case.open_three_months", "business-support-three-monthly-audit"),
    ],
)
def test_r004_11_business_support_audits_at_transfer_closure_and_every_three_months(
    pack: PolicyPack, authority: Authority, event: str, task_id: str
) -> None:
    """R004-11: a transfer, a closure, and each three months a case stays open give Business
    Support an audit task due in 5 working days (an event on Friday 22 August 2025, before the
    late summer bank holiday, is due Monday 1 September)."""
    tasks = _tasks_from(pack, event)
    assert [(t.id, t.role) for t in tasks] == [(task_id, "business_support")]
    assert tasks[0].requirement == "R004-11"
    assert due_date(tasks[0].due, D(2025, 8, 22), authority.calendar()) == D(2025, 9, 1)


def test_r004_11_other_events_give_business_support_no_audit(pack: PolicyPack) -> None:
    """R004-11: requesting or authorising a transfer, or proposing a closure, is not an
    audit point."""
    for event in ("transfer.requested", "transfer.authorised", "closure.proposed"):
        assert _tasks_from(pack, event) == []


# --- R004-12 how many workers a child has had ------------------------------------------------


def test_r004_12_the_case_view_counts_distinct_workers_across_reallocations(
    make_staff: Callable[..., User], team_ai: Team, ai: Staff, open_case: Case
) -> None:
    """R004-12: a child allocated to one worker, then another, then unallocated, then back to
    the first has had two different social workers; a case never reallocated has had one."""
    assert build_case_view(open_case)["case"]["workers_count"] == 1
    second = make_staff("second-worker", team_ai)
    case_allocate(actor=ai.manager, case=open_case, worker=second, started_on=days_ago(40))
    case_allocate(actor=ai.manager, case=open_case, worker=None, started_on=days_ago(20))
    case_allocate(actor=ai.manager, case=open_case, worker=ai.worker, started_on=days_ago(10))
    assert build_case_view(open_case)["case"]["workers_count"] == 2
    third = make_staff("third-worker", team_ai)
    case_allocate(actor=ai.manager, case=open_case, worker=third, started_on=days_ago(5))
    assert build_case_view(open_case)["case"]["workers_count"] == 3


# --- Engine behaviour the pack relies on --------------------------------------------------------


def test_r004_09_a_pathways_notifications_follow_the_pathways_own_condition(
    tmp_path: Path, sgcp: Staff, child: Person
) -> None:
    """R004-09, R004-10: a notification declared inside a pathway that applies only to CP
    cases (`when: plans.cp.open`), with no condition of its own, is not sent for a child in
    need case."""
    raw = yaml.safe_load((BUILT_IN_PACKS / f"{PACK_ID}.yaml").read_text(encoding="utf-8"))
    incoming = next(p for p in raw["transfer"]["pathways"] if p["id"] == "transfer-in-cp")
    assert incoming["when"] == "plans.cp.open"
    for note in incoming["notifications"]:
        note.pop("when", None)
    (tmp_path / f"{PACK_ID}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    pack = PackRegistry.from_directories([BUILT_IN_PACKS, tmp_path]).load(PACK_ID)
    case = open_in(sgcp, child, opened=5, source="5C")
    plan_start(actor=sgcp.worker, case=case, kind="cin", started_on=days_ago(4))
    assert notifications_for(pack, "transfer.requested", context_for(case)) == []
