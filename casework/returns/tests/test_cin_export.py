"""The CIN census built from small records made through the services: what it reports, the
problems a data officer is shown, and the cost of reading it.

Each test names the DfE rule it proves. R000-02 (closures carry a national reason) is what
makes ReasonForClosure reportable at all.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import etree

from casework.accounts.models import User
from casework.cases.models import Case, MeetingKind, PlanKind, Referral, ReferralKind
from casework.cases.models import Section47Outcome as Outcome
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_close_imported,
    case_open,
    meeting_record,
    plan_start,
    referral_record,
    section47_record,
)
from casework.core.errors import InvalidInput
from casework.organisation.models import Authority, Team
from casework.people.models import Person
from casework.people.services import person_create, person_disabilities_record
from casework.returns.cin import (
    census_children,
    census_year_end_before,
    cin_census_problems,
    cin_census_xml,
)
from casework.returns.cin_validation import SCHEMA_PATH


def _weekday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


@pytest.fixture
def year_end() -> dt.date:
    return census_year_end_before(timezone.localdate())


@pytest.fixture
def referred_on(year_end: dt.date) -> dt.date:
    return _weekday(year_end - dt.timedelta(days=120))


def _child(worker: User, name: str, *, disabilities: list[str] | None = None) -> Person:
    person = person_create(
        actor=worker,
        given_name=name,
        family_name="Census",
        date_of_birth=timezone.localdate() - dt.timedelta(days=3 * 365),
        sex="F",
        ethnicity="WBRI",
        ethnicity_asked=True,
    )
    if disabilities is not None:
        person_disabilities_record(actor=worker, person=person, disabilities=disabilities)
    return person


def _case(worker: User, team: Team, child: Person, on: dt.date, **extra: str) -> Case:
    return case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=on,
        source="2A",
        reason="School is worried about the child.",
        primary_need=extra.pop("primary_need", "N1"),
        allocated_worker=worker,
        **extra,
    )


def _xml(authority: Authority, year_end: dt.date) -> etree._Element:
    document = b"".join(cin_census_xml(authority, year_end))
    root = etree.fromstring(document)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    schema.assertValid(root)
    return root


def test_closure_before_referral_is_an_actionable_problem(
    authority: Authority,
    worker: User,
    manager: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
    tmp_path: Path,
) -> None:
    """Rule 8630: a closure dated before its referral (as an imported record can be) is shown
    as child, field, rule and how to fix it; the command writes nothing and fails."""
    child = _child(worker, "Bella", disabilities=["NONE"])
    case = _case(worker, team_ai, child, referred_on)
    case_close_imported(
        actor=manager,
        case=case,
        closed_on=referred_on + dt.timedelta(days=10),
        reason_code="RC7",
        note="Closed before Casework",
    )
    # The legacy system had the referral a fortnight later than the closure.
    Referral.objects.filter(case=case).update(received_on=referred_on + dt.timedelta(days=24))

    problems = cin_census_problems(authority, year_end)

    closure = next(p for p in problems if p.rule == "8630")
    assert closure.child_id == child.local_id
    assert closure.child_name == "Bella Census"
    assert closure.child == f"Bella Census ({child.local_id})"
    assert closure.field == "CINclosureDate"
    assert closure.case_id == case.pk
    assert closure.case_reference == case.reference
    assert closure.is_error
    assert "before the referral" in closure.message
    assert "Correct the referral's date or the closure date" in closure.message

    output = tmp_path / "cin.xml"
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError, match="Nothing was written"):
        call_command(
            "cin_census",
            year_end=year_end,
            output=output,
            stdout=stdout,
            stderr=stderr,
        )
    assert "Error 8630 - Bella Census" in stdout.getvalue()
    assert "CINclosureDate" in stdout.getvalue()
    assert not output.exists()
    assert not list(tmp_path.iterdir())


def test_nfa_referral_carries_no_assessment_or_plan_data(
    authority: Authority,
    worker: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
) -> None:
    """Rules 8831/8832/4000: an NFA referral is reported with ReferralNFA 1 and nothing
    else; work recorded against it is a problem, never census data. UN7 (rule 8772)."""
    child = _child(worker, "Nell")
    case = _case(worker, team_ai, child, referred_on, kind=ReferralKind.CONTACT, primary_need="")
    referral_record(
        actor=worker,
        case=case,
        received_on=referred_on + dt.timedelta(days=1),
        source="6",
        reason="Police notification; no further action agreed.",
        kind=ReferralKind.REFERRAL,
        no_further_action=True,
    )
    root = _xml(authority, year_end)
    details = root.find("Children/Child/CINdetails")
    assert details is not None
    assert details.findtext("ReferralNFA") == "1"
    assert details.find("PrimaryNeedCode") is None
    assert root.findtext("Children/Child/ChildIdentifiers/UPNunknown") == "UN7"
    assert cin_census_problems(authority, year_end) == []

    assessment_start(
        actor=worker, case=case, kind="single", started_on=referred_on + dt.timedelta(days=3)
    )
    details = _xml(authority, year_end).find("Children/Child/CINdetails")
    assert details is not None
    assert details.find("Assessments") is None
    rules = [p.rule for p in cin_census_problems(authority, year_end)]
    assert "8831" in rules


def test_s47_conference_is_reported_once_with_the_cp_plan(
    authority: Authority,
    worker: User,
    manager: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
) -> None:
    """Rule 2884: the ICPC sits on the S47, not also on CINdetails; rule 2885: the CP plan
    starts on it; rule 8730: a first plan has 0 previous plans; factors only once authorised
    (8614)."""
    child = _child(worker, "Cara", disabilities=["AUT", "LD"])
    case = _case(worker, team_ai, child, referred_on)
    icpc = _weekday(referred_on + dt.timedelta(days=14))
    section47_record(
        actor=worker,
        case=case,
        started_on=referred_on,
        outcome=Outcome.ICPC,
        concluded_on=_weekday(icpc - dt.timedelta(days=3)),
        icpc_on=icpc,
    )
    assessment = assessment_start(actor=worker, case=case, kind="single", started_on=referred_on)
    assessment_complete(
        actor=manager,
        assessment=assessment,
        completed_on=icpc,
        outcome="Significant harm.",
        factors=["16A", "3B"],
        authorise=True,
    )
    meeting_record(
        actor=worker,
        case=case,
        kind=MeetingKind.INITIAL_CP_CONFERENCE,
        held_on=icpc,
        attendees=[{"name": "Chair", "role": "IRO"}],
    )
    plan_start(
        actor=worker, case=case, kind=PlanKind.CHILD_PROTECTION, started_on=icpc, category="NEG"
    )

    root = _xml(authority, year_end)
    details = root.find("Children/Child/CINdetails")
    assert details is not None
    assert details.find("DateOfInitialCPC") is None
    assert details.findtext("Section47/DateOfInitialCPC") == icpc.isoformat()
    assert details.findtext("Section47/ICPCnotRequired") == "0"
    assert details.findtext("ChildProtectionPlans/CPPstartDate") == icpc.isoformat()
    assert details.findtext("ChildProtectionPlans/NumberOfPreviousCPP") == "0"
    factors = [f.text for f in details.iterfind("Assessments/*/AssessmentFactors")]
    assert factors == ["16A", "3B"]
    disabilities = [d.text for d in root.iterfind("Children/Child/*/Disabilities/Disability")]
    assert disabilities == ["LD", "AUT"]
    assert cin_census_problems(authority, year_end) == []


def test_missing_disability_and_plan_without_conference_are_problems(
    authority: Authority,
    worker: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
) -> None:
    """Rule 8540 (disability or NONE for every referred child) and rule 2885 (a CP plan
    starts at a conference)."""
    child = _child(worker, "Dora")
    case = _case(worker, team_ai, child, referred_on)
    plan_start(
        actor=worker,
        case=case,
        kind=PlanKind.CHILD_PROTECTION,
        started_on=referred_on + dt.timedelta(days=5),
        category="EMO",
    )
    by_rule = {p.rule: p for p in cin_census_problems(authority, year_end)}
    assert by_rule["8540"].field == "Disability"
    assert "'No disability' (NONE)" in by_rule["8540"].message
    assert by_rule["2885"].field == "CPPstartDate"
    assert by_rule["2885"].case_id == case.pk


def test_what_happened_after_the_year_end_is_left_out(
    authority: Authority,
    worker: User,
    manager: User,
    team_ai: Team,
    year_end: dt.date,
) -> None:
    """Rules 8620/4013: a closure or plan end after 31 March is not reported; the episode
    is open at the year end."""
    child = _child(worker, "Evie", disabilities=["NONE"])
    referred_on = _weekday(year_end - dt.timedelta(days=30))
    case = _case(worker, team_ai, child, referred_on)
    plan_start(actor=worker, case=case, kind=PlanKind.CHILD_IN_NEED, started_on=referred_on)
    case.plans.update(ended_on=year_end + dt.timedelta(days=3))
    case_close_imported(
        actor=manager,
        case=case,
        closed_on=year_end + dt.timedelta(days=3),
        reason_code="RC7",
        note="Closed",
    )
    details = _xml(authority, year_end).find("Children/Child/CINdetails")
    assert details is not None
    assert details.find("CINclosureDate") is None
    assert details.find("ReasonForClosure") is None
    assert details.findtext("CINPlanDates/CINPlanStartDate") == referred_on.isoformat()
    assert details.find("CINPlanDates/CINPlanEndDate") is None


def test_reading_costs_the_same_queries_per_chunk_however_many_children(
    authority: Authority,
    worker: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
) -> None:
    """Streaming: a constant number of queries per chunk of children (ARCHITECTURE 7)."""

    def queries(chunk_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            list(census_children(authority, year_end, chunk_size=chunk_size))
        return len(captured)

    for n in range(2):
        child = _child(worker, f"Kid{n}", disabilities=["NONE"])
        _case(worker, team_ai, child, referred_on + dt.timedelta(days=n))
    queries(100)  # warm: the authority's calendar is read once, then kept
    two_children = queries(100)
    for n in range(2, 5):
        child = _child(worker, f"Kid{n}", disabilities=["NONE"])
        _case(worker, team_ai, child, referred_on + dt.timedelta(days=n))
    five_children = queries(100)
    assert five_children == two_children
    # One query once per export: the progress total (the calendar is kept once read).
    per_chunk = five_children - 1
    assert per_chunk <= 8
    assert queries(2) == 1 + 3 * per_chunk


def test_nfa_referral_then_a_referral_on_the_same_case_are_two_episodes(
    authority: Authority,
    worker: User,
    team_ai: Team,
    referred_on: dt.date,
    year_end: dt.date,
) -> None:
    """One CINdetails per referral episode: the NFA referral stands alone (rules 8815/8820
    do not count it as open), and the later referral carries the case's work."""
    child = _child(worker, "Fern", disabilities=["NONE"])
    case = _case(worker, team_ai, child, referred_on, kind=ReferralKind.CONTACT, primary_need="")
    for offset, nfa in ((1, True), (20, False)):
        referral_record(
            actor=worker,
            case=case,
            received_on=referred_on + dt.timedelta(days=offset),
            source="2A",
            reason="School referral.",
            kind=ReferralKind.REFERRAL,
            primary_need="" if nfa else "N5",
            no_further_action=nfa,
        )
    assessment_start(
        actor=worker, case=case, kind="single", started_on=referred_on + dt.timedelta(days=21)
    )
    episodes = _xml(authority, year_end).findall("Children/Child/CINdetails")
    assert [e.findtext("ReferralNFA") for e in episodes] == ["1", "0"]
    assert episodes[0].find("Assessments") is None
    assert (
        episodes[1].findtext("Assessments/AssessmentActualStartDate")
        == (referred_on + dt.timedelta(days=21)).isoformat()
    )
    # Still open at the year end, months after it started: a query, not an error.
    assert [p.rule for p in cin_census_problems(authority, year_end)] == ["8670Q"]


def test_disabilities_are_recorded_as_national_codes(worker: User) -> None:
    """Rules 8790 and 8794: NONE stands alone; codes are known and not repeated."""
    child = _child(worker, "Gina")
    with pytest.raises(InvalidInput, match="cannot be recorded together"):
        person_disabilities_record(actor=worker, person=child, disabilities=["NONE", "AUT"])
    with pytest.raises(InvalidInput, match="Unknown disability codes: XYZ"):
        person_disabilities_record(actor=worker, person=child, disabilities=["XYZ"])
    person_disabilities_record(actor=worker, person=child, disabilities=["vis", "AUT", "VIS"])
    child.refresh_from_db()
    assert child.disabilities == ["VIS", "AUT"]
