"""The adults' Client Level Data export (issue 8 item 5): rows from real records made through
the services, closures as NFA outcomes (R002-01), the problem list for a data officer, and a
constant number of queries per chunk of cases however many there are (issue 8 item 6)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.accounts.models import User
from casework.cases.models import AssessmentKind, Case, PlanKind
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_close_imported,
    case_open,
    plan_end,
    plan_start,
    referral_record,
)
from casework.core.errors import InvalidInput
from casework.organisation.models import Authority, Role, ServiceArea, Team, TeamFunction
from casework.people.models import Person
from casework.people.services import person_create
from casework.returns.cld import (
    CLD_COLUMNS,
    NFA_DECEASED,
    NFA_MOVED,
    NFA_OTHER,
    NFA_SUPPORT_ENDED,
    NO_CHANGE,
    PROGRESS_TO_ASSESSMENT,
    PROGRESS_TO_SUPPORT,
    PROVISION_OF_SERVICE,
    Period,
    cld_csv,
    cld_outcome,
    cld_problems,
    period_from,
    quarter_label,
    quarter_of,
    recent_quarters,
)

Q1 = Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
D = dt.date


def nhs_number(seed: int) -> str:
    """A valid NHS number (mod-11 check digit) made from `seed`."""
    while True:
        body = f"{seed:09d}"[-9:]
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return body + str(check)
        seed += 1


@dataclass
class Adults:
    authority: Authority
    team: Team
    worker: User
    manager: User
    officer: User  # business support: runs the service area's exports

    def person(self, name: str, **extra: object) -> Person:
        values: dict[str, object] = {
            "date_of_birth": D(1940, 5, 17),
            "sex": "F",
            "ethnicity": "WBRI",
            "nhs_number": nhs_number(100000000 + Person.objects.count() * 7919),
        }
        values.update(extra)
        return person_create(
            actor=self.worker,
            given_name=name,
            family_name="Tester",
            **values,  # type: ignore[arg-type]
        )

    def case(self, person: Person, received_on: dt.date) -> Case:
        return case_open(
            actor=self.worker,
            subject=person,
            team=self.team,
            received_on=received_on,
            source="1A",
            reason="Daughter reports her mother is struggling with personal care.",
            allocated_worker=self.worker,
        )

    def assessment(
        self,
        case: Case,
        started: dt.date,
        completed: dt.date | None,
        kind: str = AssessmentKind.CARE_ACT,
        eligible: bool | None = None,
    ) -> None:
        assessment = assessment_start(actor=self.worker, case=case, kind=kind, started_on=started)
        if completed is not None:
            assessment_complete(
                actor=self.worker,
                assessment=assessment,
                completed_on=completed,
                outcome="Needs assessed.",
                eligible_unmet_needs=eligible,
            )

    def service(
        self, case: Case, started: dt.date, ended: dt.date | None = None, kind: str = ""
    ) -> None:
        plan = plan_start(
            actor=self.worker,
            case=case,
            kind=kind or PlanKind.ADULT_CARE_SUPPORT,
            started_on=started,
        )
        if ended is not None:
            plan_end(actor=self.worker, plan=plan, ended_on=ended)

    def close(self, case: Case, on: dt.date, reason: str) -> None:
        case_close_imported(
            actor=self.manager, case=case, closed_on=on, reason_code=reason, note="Closed."
        )


@pytest.fixture
def adults(
    authority: Authority, make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> Adults:
    team = make_team("adults-north", TeamFunction.ADULTS_LOCALITY, ServiceArea.ADULTS)
    support = make_team("abs", TeamFunction.BUSINESS_SUPPORT, ServiceArea.ADULTS, holds_cases=False)
    return Adults(
        authority=authority,
        team=team,
        worker=make_staff("adult-worker", team),
        manager=make_staff("adult-manager", team, Role.TEAM_MANAGER),
        officer=make_staff("abs-support", support, Role.BUSINESS_SUPPORT),
    )


def export_rows(adults: Adults, period: Period = Q1, **options: object) -> list[dict[str, str]]:
    data = b"".join(cld_csv(adults.authority, period, **options))  # type: ignore[arg-type]
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    assert reader.fieldnames == CLD_COLUMNS
    return list(reader)


def events_of(rows: list[dict[str, str]], person: Person) -> list[tuple[str, str, str, str]]:
    return [
        (r["Event_Type"], r["Event_Start_Date"], r["Event_End_Date"], r["Event_Outcome"])
        for r in rows
        if r["ID"] == person.local_id
    ]


def test_cld_rows_follow_the_records_and_closures_become_nfa_outcomes(adults: Adults) -> None:
    """Issue 8 item 5, R002-01: one row per Request, Assessment, Service and Review that
    overlaps the quarter, with the outcome the records show; a closure gives the last event
    the NFA outcome its closure reason maps to (the pack's hyphen spelling is matched), and a
    death recorded by the closure date is "NFA - Deceased"."""
    ann = adults.person("Ann")
    case = adults.case(ann, D(2026, 3, 20))
    adults.assessment(case, D(2026, 4, 2), D(2026, 4, 20), eligible=True)
    adults.service(case, D(2026, 4, 21), D(2026, 6, 10))
    adults.close(case, D(2026, 6, 10), "NFA - Support ended - other reason")

    bob = adults.person("Bob", sex="M", ethnicity="AIND")
    case = adults.case(bob, D(2025, 6, 1))
    adults.assessment(case, D(2025, 6, 2), D(2025, 6, 20), eligible=True)
    adults.service(case, D(2025, 6, 21))
    adults.assessment(case, D(2026, 5, 1), D(2026, 5, 10), kind=AssessmentKind.CARE_ACT_REVIEW)
    # Not CLD events: a mental capacity assessment and a safeguarding protection plan.
    adults.assessment(case, D(2026, 4, 5), D(2026, 4, 6), kind=AssessmentKind.MENTAL_CAPACITY)
    adults.service(case, D(2026, 4, 7), D(2026, 4, 30), kind=PlanKind.ADULT_PROTECTION)
    referral_record(
        actor=adults.worker,
        case=case,
        received_on=D(2026, 6, 2),
        source="1C",
        reason="Asked about a blue badge: signposted.",
        no_further_action=True,
    )

    cath = adults.person("Cath")
    case = adults.case(cath, D(2026, 4, 10))
    adults.assessment(case, D(2026, 4, 11), D(2026, 4, 25), eligible=False)
    adults.close(case, D(2026, 5, 1), "NFA - Moved to another LA")

    dan = adults.person("Dan", sex="M", date_of_death=D(2026, 5, 15))
    case = adults.case(dan, D(2026, 4, 5))
    adults.close(case, D(2026, 5, 15), "NFA - Support declined")

    later = adults.person("Later")
    adults.case(later, D(2026, 7, 5))  # after the quarter: not reported

    rows = export_rows(adults)

    assert events_of(rows, ann) == [
        ("Request", "2026-03-20", "2026-04-02", PROGRESS_TO_ASSESSMENT),
        ("Assessment", "2026-04-02", "2026-04-20", PROGRESS_TO_SUPPORT),
        ("Service", "2026-04-21", "2026-06-10", NFA_SUPPORT_ENDED),
    ]
    assert NFA_SUPPORT_ENDED == "NFA - Support ended – other reason"  # the defined spelling
    assert events_of(rows, bob) == [
        ("Service", "2025-06-21", "", PROVISION_OF_SERVICE),
        ("Review", "2026-05-01", "2026-05-10", NO_CHANGE),
        ("Request", "2026-06-02", "2026-06-02", NFA_OTHER),
    ]
    assert events_of(rows, cath) == [
        ("Request", "2026-04-10", "2026-04-11", PROGRESS_TO_ASSESSMENT),
        ("Assessment", "2026-04-11", "2026-04-25", NFA_MOVED),
    ]
    assert events_of(rows, dan) == [("Request", "2026-04-05", "2026-05-15", NFA_DECEASED)]
    assert events_of(rows, later) == []

    first = next(r for r in rows if r["ID"] == ann.local_id)
    assert first["LA_Code"] == "931"
    assert (first["Reporting_Period_Start_Date"], first["Reporting_Period_End_Date"]) == (
        "2026-04-01",
        "2026-06-30",
    )
    assert first["Client_Type"] == "Service User"
    assert (first["NHS_Number"], first["Gender"], first["Ethnicity"]) == (
        ann.nhs_number,
        "Female",
        "WBRI",
    )
    assert first["Date_of_Birth"] == "1940-05-17"
    dan_row = next(r for r in rows if r["ID"] == dan.local_id)
    assert dan_row["Date_of_Death"] == "2026-05-15"


def test_cld_reads_the_records_as_they_stood_at_the_period_end(adults: Adults) -> None:
    """Issue 8 item 5: run later, a quarter's file is unchanged by what happened after it: a
    service ended and a case closed after the quarter are still open in it, and an
    assessment still in progress at the quarter end is left for the quarter it ends in. A
    closure in the quarter reports the last event with its NFA outcome even if that event
    ended in the quarter before."""
    eve = adults.person("Eve")
    case = adults.case(eve, D(2026, 5, 1))
    adults.assessment(case, D(2026, 5, 2), D(2026, 5, 20), eligible=True)
    adults.service(case, D(2026, 5, 21), D(2026, 7, 10))
    adults.close(case, D(2026, 7, 10), "NFA - Support ended - other reason")

    fay = adults.person("Fay")
    case = adults.case(fay, D(2026, 6, 1))
    adults.assessment(case, D(2026, 6, 20), D(2026, 7, 3))

    # Assessed in the previous quarter, closed in this one: the assessment's outcome is only
    # known now, so it is reported now.
    gus = adults.person("Gus")
    case = adults.case(gus, D(2026, 3, 2))
    adults.assessment(case, D(2026, 3, 3), D(2026, 3, 20), eligible=False)
    adults.close(case, D(2026, 4, 8), "NFA - Moved to another LA")

    rows = export_rows(adults)
    assert events_of(rows, gus) == [("Assessment", "2026-03-03", "2026-03-20", NFA_MOVED)]
    assert events_of(rows, eve) == [
        ("Request", "2026-05-01", "2026-05-02", PROGRESS_TO_ASSESSMENT),
        ("Assessment", "2026-05-02", "2026-05-20", PROGRESS_TO_SUPPORT),
        ("Service", "2026-05-21", "", PROVISION_OF_SERVICE),
    ]
    assert events_of(rows, fay) == [("Request", "2026-06-01", "2026-06-20", PROGRESS_TO_ASSESSMENT)]

    q2 = Period(D(2026, 7, 1), D(2026, 9, 30))
    rows = export_rows(adults, q2)
    assert events_of(rows, eve) == [("Service", "2026-05-21", "2026-07-10", NFA_SUPPORT_ENDED)]
    assert events_of(rows, fay)[0][0] == "Assessment"


def test_only_adults_cases_of_the_authority_are_exported(adults: Adults, open_case: Case) -> None:
    """Issue 8 item 5: a children's case active in the quarter is not in the adults' CLD."""
    assert open_case.service_area == ServiceArea.CHILDREN
    ann = adults.person("Ann")
    adults.case(ann, D(2026, 4, 1))
    adults.service(Case.objects.get(subject=ann), D(2026, 4, 2))
    ids = {r["ID"] for r in export_rows(adults)}
    assert ids == {ann.local_id}


def test_problems_name_the_person_the_field_and_what_to_do(adults: Adults) -> None:
    """Issue 8 item 5: missing identifiers and outcomes Casework cannot tell are listed for a
    data officer (person, case, field, what to do) instead of stopping the export; the rows
    are still written, with the unknown outcome left empty."""
    gil = adults.person("Gil", nhs_number="", sex="U", ethnicity="", date_of_birth=None)
    case = adults.case(gil, D(2026, 4, 3))
    adults.service(case, D(2026, 4, 4))

    hal = adults.person("Hal")
    hal_case = adults.case(hal, D(2026, 4, 3))
    adults.assessment(hal_case, D(2026, 4, 6), D(2026, 4, 9))  # nothing follows it

    ida = adults.person("Ida")
    ida_case = adults.case(ida, D(2026, 4, 3))
    adults.close(ida_case, D(2026, 4, 20), "RC7")  # a children's code: not a CLD outcome

    quiet = adults.person("Quiet", nhs_number="")  # nothing to report: no problems either
    adults.case(quiet, D(2026, 6, 29))

    problems = cld_problems(adults.authority, Q1)
    found = {(p.person, p.field) for p in problems}
    assert found == {
        (f"Gil Tester ({gil.local_id})", "NHS number"),
        (f"Gil Tester ({gil.local_id})", "Date of birth"),
        (f"Gil Tester ({gil.local_id})", "Gender"),
        (f"Gil Tester ({gil.local_id})", "Ethnicity"),
        (f"Hal Tester ({hal.local_id})", "Event_Outcome"),
        (f"Ida Tester ({ida.local_id})", "Event_Outcome"),
    }
    hal_problem = next(p for p in problems if p.person.startswith("Hal"))
    assert hal_problem.case_id == hal_case.pk
    assert hal_problem.case_reference == hal_case.reference
    assert "start the care and support plan" in hal_problem.message
    ida_problem = next(p for p in problems if p.person.startswith("Ida"))
    assert "'RC7'" in ida_problem.message
    assert "NFA outcome" in ida_problem.message

    rows = export_rows(adults)
    assert events_of(rows, hal)[-1] == ("Assessment", "2026-04-06", "2026-04-09", "")
    assert events_of(rows, ida) == [("Request", "2026-04-03", "2026-04-20", "")]
    gil_row = next(r for r in rows if r["ID"] == gil.local_id)
    assert (gil_row["NHS_Number"], gil_row["Gender"], gil_row["Date_of_Birth"]) == (
        "",
        "Unknown",
        "",
    )


def test_an_invalid_nhs_number_is_a_problem(adults: Adults) -> None:
    """Issue 8 item 5: an NHS number with a wrong check digit (recorded before the check
    existed) is listed with what to do."""
    jo = adults.person("Jo")
    Person.objects.filter(pk=jo.pk).update(nhs_number="1234567890")
    adults.service(adults.case(jo, D(2026, 4, 3)), D(2026, 4, 3))
    [problem] = cld_problems(adults.authority, Q1)
    assert problem.field == "NHS number"
    assert "1234567890 is not valid" in problem.message


def _queries_for(adults: Adults, chunk_size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        for _ in cld_csv(adults.authority, Q1, chunk_size=chunk_size, visible_to=adults.officer):
            pass
    return len(captured)


def _more_cases(adults: Adults, count: int) -> None:
    for n in range(count):
        person = adults.person(f"Many{n}")
        case = adults.case(person, D(2026, 4, 1))
        adults.assessment(case, D(2026, 4, 2), D(2026, 4, 3), eligible=True)
        adults.service(case, D(2026, 4, 4))


def test_queries_are_constant_per_chunk_however_many_cases(adults: Adults) -> None:
    """Issue 8 item 6: memory and queries stay flat as the cases grow: the export reads a
    chunk of cases at a time with their events prefetched, so a chunk costs the same few
    queries whether it holds 3 cases or 30, and each further chunk adds exactly that many."""
    _more_cases(adults, 3)
    one_chunk_of_3 = _queries_for(adults, chunk_size=100)
    three_chunks_of_1 = _queries_for(adults, chunk_size=1)
    _more_cases(adults, 6)
    one_chunk_of_9 = _queries_for(adults, chunk_size=100)
    three_chunks_of_3 = _queries_for(adults, chunk_size=3)
    nine_chunks_of_1 = _queries_for(adults, chunk_size=1)

    assert one_chunk_of_9 == one_chunk_of_3  # rows in a chunk cost no queries
    assert three_chunks_of_3 == three_chunks_of_1
    per_chunk = (nine_chunks_of_1 - three_chunks_of_1) // 6
    assert per_chunk == 3  # referrals, assessments and plans, one query each
    assert nine_chunks_of_1 == one_chunk_of_9 + 8 * per_chunk


def test_the_csv_is_yielded_a_chunk_at_a_time_with_progress(adults: Adults) -> None:
    """Issue 8 item 6: the file is produced piece by piece (a header, then a piece per chunk of
    cases), and progress is reported as (cases done, cases in all)."""
    _more_cases(adults, 5)
    seen: list[tuple[int, int]] = []
    pieces = list(
        cld_csv(adults.authority, Q1, chunk_size=2, progress=lambda d, t: seen.append((d, t)))
    )
    assert pieces[0].startswith(b"LA_Code,")
    assert len(pieces) == 1 + 3  # the header, two full chunks, then the last case
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]


def test_outcomes_match_whatever_the_dashes_and_case() -> None:
    """Issue 8 item 5 (domain facts 6.1): spellings vary in the sources, so outcomes are
    matched ignoring case, dashes and punctuation, and returned in the defined spelling."""
    assert cld_outcome("NFA- Other") == "NFA - Other"
    assert cld_outcome("nfa – support ended - OTHER REASON") == NFA_SUPPORT_ENDED
    assert cld_outcome("NFA - No services offered: Other reason") == (
        "NFA - No services offered - other reason"
    )
    assert cld_outcome("NFA - 100% NHS funded care") == "NFA - 100% NHS-funded care"
    assert cld_outcome("RC7") is None


def test_quarters_are_financial_quarters() -> None:
    """The reporting period is a financial quarter, April to March."""
    assert quarter_of(D(2026, 11, 25)) == Period(D(2026, 10, 1), D(2026, 12, 31))
    assert quarter_of(D(2027, 2, 1)) == Period(D(2027, 1, 1), D(2027, 3, 31))
    assert quarter_label(Q1) == "Q1 2026-27: 1 April 2026 to 30 June 2026"
    assert quarter_label(Period(D(2027, 1, 1), D(2027, 3, 31))).startswith("Q4 2026-27")
    quarters = recent_quarters(D(2026, 5, 1), count=2)
    assert [q.start for q in quarters] == [D(2026, 4, 1), D(2026, 1, 1), D(2025, 10, 1)]


def test_a_period_is_checked_with_plain_messages() -> None:
    """Issue 8 item 5: a bad period is refused saying what to change."""
    with pytest.raises(InvalidInput) as wrong:
        period_from({"period_start": "2026-06-30", "period_end": "2026-04-01"})
    assert str(wrong.value) == "The end of the reporting period must be after its start."
    with pytest.raises(InvalidInput) as wrong:
        period_from({"period_start": "soon", "period_end": ""})
    assert "Give the start of the reporting period as a date." in str(wrong.value)
    with pytest.raises(InvalidInput) as wrong:
        period_from(Q1.as_parameters(), today=D(2026, 3, 1))
    assert str(wrong.value) == "The reporting period has not started yet."
