"""Adults' Client Level Data (CLD): the quarterly event-level return to NHS England (issue 8
item 5), as a streamed CSV with one row per event, and the problems a data officer should fix
before submitting it.

What the reference (../shared/reference/domain-facts.md section 6) settles, and this follows:
the event types Request, Assessment, Service and Review; only a Service may be open (no end
date); DoLS, safeguarding and mental capacity work are not CLD events; CLD has no "end
reason", so a closure is reported through an "NFA - ..." Event_Outcome; outcome spellings vary
and are matched ignoring case, dashes and punctuation.

What it leaves open, and what Casework chooses (also in docs/returns.md):

- **As at the period end.** The file describes the records as they stood on the last day of
  the period, so running it again later gives the same rows. Anything dated after the period
  end (an end date, a closure, a death) is treated as not yet happened.
- **Which events.** Requests are the case's contacts and referrals; Assessments are completed
  Care Act assessments (not carers' assessments: their client is the carer, whom Casework does
  not yet identify as a CLD person; not those offered and declined); Reviews are Care Act
  reviews; Services are care and support plans. An event is reported when it overlaps the
  period; a Request, Assessment or Review still open at the period end is left for the quarter
  in which it ends.
- **When a Request ends, and how.** When its next step starts (an assessment: "Progress to
  Assessment"; a care and support plan: "Progress to Support Planning / Services"), when the
  case closes, or on the day it was received if it was marked no further action ("NFA -
  Other": Casework records no reason for that).
- **Other outcomes.** An assessment or review followed by a care and support plan: "Progress
  to Support Planning / Services"; an assessment finding eligible needs unmet: the same; a
  review followed by nothing: "No change in package"; a service open at the period end:
  "Provision of service" (no end date); a service that ended: "Service ended as planned".
- **Closures.** When the case closed (by the period end), the event or events that ended last
  and whose outcome no later event decides take the closure's outcome: the case's closure
  reason, which the adults' policy pack maps to an NFA outcome (procedure 002, R002-01).
  Anything still open at the closure ends on the closure date. A person whose death is
  recorded on or before the closure date is "NFA - Deceased", whatever the reason chosen. A
  last event that ended before the period is reported again in the quarter the case closed,
  since only then is its outcome known.
- **Columns.** Those the reference lists, plus Client_Type (always "Service User" here) and
  Date_of_Birth. Dates are ISO 8601. Gender is Male, Female or Unknown; Ethnicity is the code
  Casework stores (the DfE list). Columns Casework does not record yet are left empty:
  Primary_Support_Reason, Request_Route_of_Access, Review_Reason, Review_Outcomes_Achieved,
  Service_Type, Service_Component, Delivery_Mechanism, Unit_Cost, Cost_Frequency_(Unit_Type)
  and Planned_units_per_week.
- **Problems** (never an exception): a missing or invalid NHS number, a missing date of birth,
  sex or ethnicity, an event whose outcome Casework cannot tell, and a closure reason that is
  not an NFA outcome. Each names the person, the field and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from casework.accounts.models import User
from casework.cases.models import Assessment, AssessmentKind, Case, Referral
from casework.core.codes import Sex
from casework.core.dates import long_date
from casework.core.errors import ProblemCollector
from casework.core.identifiers import nhs_number_problem
from casework.organisation.models import Authority
from casework.people.models import Person
from casework.returns.models import ExportProblem
from casework.returns.selectors import cld_cases

Progress = Callable[[int, int], None]

# Cases read (with their events) per database round trip: each chunk costs one fetch of
# cases plus one query per prefetched relation, whatever the number of cases.
CHUNK_SIZE = 500

REQUEST = "Request"
ASSESSMENT = "Assessment"
SERVICE = "Service"
REVIEW = "Review"
_TYPE_ORDER = {REQUEST: 0, ASSESSMENT: 1, SERVICE: 2, REVIEW: 3}

CLIENT_TYPE = "Service User"

CLD_COLUMNS = [
    "LA_Code",
    "Reporting_Period_Start_Date",
    "Reporting_Period_End_Date",
    "Client_Type",
    "ID",
    "NHS_Number",
    "Gender",
    "Ethnicity",
    "Date_of_Birth",
    "Date_of_Death",
    "Primary_Support_Reason",
    "Event_Type",
    "Event_Start_Date",
    "Event_End_Date",
    "Event_Outcome",
    "Request_Route_of_Access",
    "Review_Reason",
    "Review_Outcomes_Achieved",
    "Service_Type",
    "Service_Component",
    "Delivery_Mechanism",
    "Unit_Cost",
    "Cost_Frequency_(Unit_Type)",
    "Planned_units_per_week",
]

# The defined list, in the hierarchy's order, spelt as the reference's table spells it.
PROGRESS_TO_REABLEMENT = "Progress to Reablement/ST-Max"
PROGRESS_TO_ASSESSMENT = "Progress to Assessment"
ADMITTED_TO_HOSPITAL = "Admitted to Hospital"
PROGRESS_TO_REASSESSMENT = "Progress to Re-assessment / Unplanned Review"
PROGRESS_TO_SUPPORT = "Progress to Support Planning / Services"
PROGRESS_TO_END_OF_LIFE = "Progress to End of Life Care"
NO_CHANGE = "No change in package"
SERVICE_ENDED = "Service ended as planned"
PROGRESS_TO_FINANCIAL = "Progress to financial assessment"
PROVISION_OF_SERVICE = "Provision of service"
NFA_DECEASED = "NFA - Deceased"
NFA_MOVED = "NFA - Moved to another LA"
NFA_NHS_FUNDED = "NFA - 100% NHS-funded care"
NFA_ADVICE = "NFA - Information & Advice / Signposting only"
NFA_SELF_FUNDED = "NFA - Self-funded client (inc. 12wk disregard)"
NFA_DECLINED = "NFA - Support declined"
NFA_SUPPORT_ENDED = "NFA - Support ended – other reason"
NFA_NO_SERVICES = "NFA - No services offered - other reason"
NFA_OTHER = "NFA - Other"

EVENT_OUTCOMES: tuple[str, ...] = (
    PROGRESS_TO_REABLEMENT,
    PROGRESS_TO_ASSESSMENT,
    ADMITTED_TO_HOSPITAL,
    PROGRESS_TO_REASSESSMENT,
    PROGRESS_TO_SUPPORT,
    PROGRESS_TO_END_OF_LIFE,
    NO_CHANGE,
    SERVICE_ENDED,
    PROGRESS_TO_FINANCIAL,
    PROVISION_OF_SERVICE,
    NFA_DECEASED,
    NFA_MOVED,
    NFA_NHS_FUNDED,
    NFA_ADVICE,
    NFA_SELF_FUNDED,
    NFA_DECLINED,
    NFA_SUPPORT_ENDED,
    NFA_NO_SERVICES,
    NFA_OTHER,
)


def outcome_key(text: str) -> str:
    """Spelling-insensitive key: "NFA- Other", "nfa – other" and "NFA - Other" agree, as do
    "NHS funded" and "NHS-funded", and "No services offered: other reason"."""
    return " ".join(re.findall(r"[a-z0-9%&/.]+", text.lower()))


_OUTCOME_BY_KEY = {outcome_key(o): o for o in EVENT_OUTCOMES}


def cld_outcome(text: str) -> str | None:
    """The defined-list Event_Outcome `text` means, in its standard spelling, or None."""
    return _OUTCOME_BY_KEY.get(outcome_key(text))


def is_nfa(outcome: str) -> bool:
    return outcome.startswith("NFA")


# --- Reporting periods -----------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return f"{long_date(self.start)} to {long_date(self.end)}"

    def as_parameters(self) -> dict[str, str]:
        return {"period_start": self.start.isoformat(), "period_end": self.end.isoformat()}


def quarter_of(day: dt.date) -> Period:
    """The financial quarter (April-June, July-September, October-December, January-March)
    that contains `day`."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first_month, 1)
    following = (
        dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
    )
    return Period(start, following - dt.timedelta(days=1))


def quarter_label(period: Period) -> str:
    """ "Q1 2026-27: 1 April to 30 June 2026"."""
    year = period.start.year if period.start.month >= 4 else period.start.year - 1
    number = {4: 1, 7: 2, 10: 3, 1: 4}[period.start.month]
    return f"Q{number} {year}-{(year + 1) % 100:02d}: {period}"


def recent_quarters(today: dt.date, count: int = 8) -> list[Period]:
    """The quarter in progress and the `count` before it, newest first."""
    quarters = [quarter_of(today)]
    while len(quarters) <= count:
        quarters.append(quarter_of(quarters[-1].start - dt.timedelta(days=1)))
    return quarters


def period_from(parameters: Mapping[str, object], *, today: dt.date | None = None) -> Period:
    """The reporting period the parameters name, or InvalidInput saying what to change.
    With `today`, a period that has not started yet is refused too."""
    problems = ProblemCollector()
    days: dict[str, dt.date] = {}
    for field, what in (("period_start", "start"), ("period_end", "end")):
        try:
            days[field] = dt.date.fromisoformat(str(parameters.get(field, "")))
        except ValueError:
            problems.add(field, f"Give the {what} of the reporting period as a date.")
    problems.raise_if_any()
    period = Period(days["period_start"], days["period_end"])
    if period.end < period.start:
        problems.add("period_end", "The end of the reporting period must be after its start.")
    elif (period.end - period.start).days > 366:
        problems.add("period_end", "A reporting period can be at most a year: choose a quarter.")
    if today is not None and period.start > today:
        problems.add("period_start", "The reporting period has not started yet.")
    problems.raise_if_any()
    return period


# --- Events -----------------------------------------------------------------------------------


@dataclass
class Event:
    type: str
    start: dt.date
    end: dt.date | None  # None: open at the period end (a Service only)
    outcome: str = ""  # "" until known
    what: str = ""  # how a person would name it, for problems
    by_closure: bool = False  # its outcome is the case's closure


@dataclass(frozen=True)
class CaseReport:
    """One case's CLD events in the period and the problems found with them."""

    case: Case
    events: list[Event]
    problems: list[ExportProblem]


def _problem(case: Case, field: str, message: str) -> ExportProblem:
    person = case.subject
    return ExportProblem(
        person=f"{person.full_name} ({person.local_id})",
        field=field,
        message=message,
        case_reference=case.reference,
        case_id=case.pk,
    )


def _person_problems(case: Case) -> list[ExportProblem]:
    person = case.subject
    name = person.full_name
    found: list[ExportProblem] = []
    if not person.nhs_number:
        found.append(
            _problem(
                case,
                "NHS number",
                f"Add {name}'s NHS number to their person record: CLD matches people across "
                "health and care by it. Find it on the NHS Spine or ask their GP practice.",
            )
        )
    else:
        wrong = nhs_number_problem(person.nhs_number)
        if wrong:
            found.append(
                _problem(
                    case,
                    "NHS number",
                    f"{name}'s NHS number {person.nhs_number} is not valid: correct it on "
                    "their person record. " + wrong,
                )
            )
    if person.date_of_birth is None:
        found.append(
            _problem(case, "Date of birth", f"Record {name}'s date of birth on their record.")
        )
    if person.sex == Sex.UNKNOWN:
        found.append(
            _problem(
                case,
                "Gender",
                f"Record {name}'s sex on their person record: it says unknown or not recorded.",
            )
        )
    if not person.ethnicity:
        found.append(
            _problem(
                case,
                "Ethnicity",
                f"Record {name}'s ethnicity on their person record. Ask them; if they would "
                "rather not say, choose Refused.",
            )
        )
    return found


def case_report(case: Case, period: Period) -> CaseReport:
    """The case's CLD events overlapping `period`, as at its last day (see the module's
    docstring for every choice made). Uses only the prefetched `referrals`, `assessments` and
    `plans` (already limited to CLD kinds and ordered by start), so it runs no queries."""
    as_at = period.end
    problems: list[ExportProblem] = []

    def known(day: dt.date | None) -> dt.date | None:
        return day if day is not None and day <= as_at else None

    closed_on = known(case.closed_on)

    def ended(day: dt.date | None) -> dt.date | None:
        return known(day) or closed_on

    assessments: list[tuple[Event, Assessment]] = []
    reviews: list[Event] = []
    for a in case.assessments.all():
        if a.started_on > as_at or a.offered_and_declined:
            continue
        what = f"the {a.get_kind_display().lower()} started on {long_date(a.started_on)}"
        if a.kind == AssessmentKind.CARE_ACT:
            event = Event(ASSESSMENT, a.started_on, ended(a.completed_on), what=what)
            assessments.append((event, a))
        elif a.kind == AssessmentKind.CARE_ACT_REVIEW:
            reviews.append(Event(REVIEW, a.started_on, ended(a.completed_on), what=what))
    services = [
        Event(
            SERVICE,
            p.started_on,
            ended(p.ended_on),
            what=f"the care and support plan started on {long_date(p.started_on)}",
        )
        for p in case.plans.all()
        if p.started_on <= as_at
    ]
    next_steps = sorted(
        [e for e, _ in assessments] + services, key=lambda e: (e.start, _TYPE_ORDER[e.type])
    )

    referrals: Sequence[Referral] = [r for r in case.referrals.all() if r.received_on <= as_at]
    requests: list[tuple[Event, Referral]] = []
    for i, referral in enumerate(referrals):
        received = referral.received_on
        following = referrals[i + 1].received_on if i + 1 < len(referrals) else None
        event = Event(
            REQUEST,
            received,
            None,
            what=f"the {referral.get_kind_display().lower()} received on {long_date(received)}",
        )
        step = next(
            (
                e
                for e in next_steps
                if e.start >= received and (following is None or e.start < following)
            ),
            None,
        )
        if step is not None:
            event.end = step.start
            event.outcome = (
                PROGRESS_TO_ASSESSMENT if step.type == ASSESSMENT else PROGRESS_TO_SUPPORT
            )
        elif closed_on is not None and closed_on >= received and following is None:
            event.end = closed_on  # its outcome is the closure's, set below
        elif referral.no_further_action:
            event.end = received
        elif following is not None:
            event.end = following
        requests.append((event, referral))

    for event, _ in assessments:
        if any(s.start >= event.start for s in services):
            event.outcome = PROGRESS_TO_SUPPORT
    for event in reviews:
        if any(s.start >= event.start for s in services):
            event.outcome = PROGRESS_TO_SUPPORT

    events = [e for e, _ in requests] + [e for e, _ in assessments] + services + reviews

    if closed_on is not None:
        outcome = _closure_outcome(case, closed_on, problems)
        final = max((e.end for e in events if e.end is not None), default=None)
        for event in events:
            if event.end == final and not event.outcome:
                event.outcome = outcome
                event.by_closure = True

    for event, referral in requests:
        if event.end is not None and not event.outcome:
            if referral.no_further_action and event.end == referral.received_on:
                event.outcome = NFA_OTHER
            else:
                problems.append(
                    _problem(
                        case,
                        "Event_Outcome",
                        f"Nothing on record says what followed {event.what} before the next "
                        "contact: record the assessment or plan it led to, or ask the worker "
                        "to record it as no further action.",
                    )
                )
    for event, assessment in assessments:
        if event.end is not None and not event.outcome:
            if assessment.eligible_unmet_needs:
                event.outcome = PROGRESS_TO_SUPPORT
            else:
                problems.append(
                    _problem(
                        case,
                        "Event_Outcome",
                        f"Nothing on record says what followed {event.what}: start the care "
                        "and support plan, record whether eligible needs are unmet, or close "
                        "the case with its reason.",
                    )
                )
    for event in reviews:
        if event.end is not None and not event.outcome:
            event.outcome = NO_CHANGE
    for event in services:
        if not event.outcome:
            event.outcome = SERVICE_ENDED if event.end is not None else PROVISION_OF_SERVICE

    # A last event that ended before the period but whose outcome the closure (in the
    # period) decided is reported now: no earlier file could say how it ended.
    closed_in_period = closed_on is not None and closed_on >= period.start
    reported = [
        e
        for e in events
        if (e.end is not None or e.type == SERVICE)
        and (e.end is None or e.end >= period.start or (e.by_closure and closed_in_period))
    ]
    reported.sort(key=lambda e: (e.start, _TYPE_ORDER[e.type]))
    if reported:
        problems[:0] = _person_problems(case)
    else:
        problems = []
    return CaseReport(case, reported, problems)


def _closure_outcome(case: Case, closed_on: dt.date, problems: list[ExportProblem]) -> str:
    died = case.subject.date_of_death
    if died is not None and died <= closed_on:
        return NFA_DECEASED
    outcome = cld_outcome(case.closure_reason)
    if outcome is None or not is_nfa(outcome):
        problems.append(
            _problem(
                case,
                "Event_Outcome",
                f"The case was closed on {long_date(closed_on)} with the reason "
                f"'{case.closure_reason or 'none'}', which is not a CLD 'NFA' outcome. Ask an "
                "administrator to map the closure reason to an NFA outcome in the adults' "
                "policy pack (or correct the case's closure reason), then run the export again.",
            )
        )
        return ""
    return outcome


def _gender(person: Person) -> str:
    return {Sex.MALE.value: "Male", Sex.FEMALE.value: "Female"}.get(person.sex, "Unknown")


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def cld_rows(authority: Authority, period: Period, report: CaseReport) -> Iterator[list[str]]:
    person = report.case.subject
    died = person.date_of_death
    if died is not None and died > period.end:
        died = None
    for event in report.events:
        row = dict.fromkeys(CLD_COLUMNS, "")
        row.update(
            {
                "LA_Code": authority.la_code,
                "Reporting_Period_Start_Date": _iso(period.start),
                "Reporting_Period_End_Date": _iso(period.end),
                "Client_Type": CLIENT_TYPE,
                "ID": person.local_id,
                "NHS_Number": person.nhs_number,
                "Gender": _gender(person),
                "Ethnicity": person.ethnicity,
                "Date_of_Birth": _iso(person.date_of_birth),
                "Date_of_Death": _iso(died),
                "Event_Type": event.type,
                "Event_Start_Date": _iso(event.start),
                "Event_End_Date": _iso(event.end),
                "Event_Outcome": event.outcome,
            }
        )
        yield [row[c] for c in CLD_COLUMNS]


# --- The export -------------------------------------------------------------------------------


def _reports(
    cases: QuerySet[Case], period: Period, progress: Progress | None, chunk_size: int
) -> Iterator[CaseReport]:
    total = cases.count()
    if progress:
        progress(0, total)
    done = 0
    for case in cases.iterator(chunk_size=chunk_size):
        report = case_report(case, period)
        done += 1
        if progress and (done % chunk_size == 0 or done == total):
            progress(done, total)
        yield report


def cld_problems(
    authority: Authority,
    period: Period,
    *,
    visible_to: User | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> list[ExportProblem]:
    """Everything a data officer should fix before submitting the period's CLD."""
    found: list[ExportProblem] = []
    for report in _reports(cld_cases(authority, period, visible_to), period, None, chunk_size):
        found.extend(report.problems)
    return found


def cld_csv(
    authority: Authority,
    period: Period,
    *,
    visible_to: User | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[bytes]:
    """The period's CLD as UTF-8 CSV, a header then one row per event, yielded a chunk of
    cases at a time: memory holds one chunk, however many people the authority has."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def drain() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    writer.writerow(CLD_COLUMNS)
    yield drain()
    cases = cld_cases(authority, period, visible_to)
    for n, report in enumerate(_reports(cases, period, progress, chunk_size), start=1):
        writer.writerows(cld_rows(authority, period, report))
        if n % chunk_size == 0:
            yield drain()
    tail = drain()
    if tail:
        yield tail
