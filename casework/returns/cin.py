"""The Children in Need census (DfE, annual, 1 April to 31 March) built from the record.

Two entry points, both for one authority and one census year (`census_year_end` is the 31
March ReferenceDate):

- `cin_census_problems` lists what stops the return validating, as things a data officer can
  fix in the record: which child, which census field, which DfE rule, and what to do.
- `cin_census_xml` streams the return as DfE XML, child by child. Call the first one before
  it: the XML reports what the record says, so a record with problems makes XML that the
  DfE's checks refuse.

How the record becomes the census (domain-facts.md section 1; the rule numbers are the DfE's,
as coded by the sector's validator `csc-validator-be-cin`). Where the rules are silent, the
choice made here is marked "Choice:".

- A CIN episode (CINdetails) comes from a children's case with at least one referral (a
  contact alone is not a referral). Choice: a case that only early help teams ever held is
  not children's social care, so it is left out.
- Within a case, the first referral not marked "no further action" (NFA) starts the episode.
  Later referrals while it is open are the same episode (a second open or overlapping
  episode is an error, rules 8815/8820). NFA referrals before it are episodes of their own
  with ReferralNFA true and no assessment, S47 or plan data (rules 8831, 8832, 4000).
  The case's closure closes its latest episode.
- An episode is in the census year when its referral is on or before the year end and it
  was open at some point in the year; an NFA referral counts only in the year it was made
  (query 8569Q). A closure, plan end, assessment authorisation or conference after the year
  end did not happen yet as far as this census is concerned, so it is left out.
- Activity finished before the year started was reported last year and is left out (rules
  8696, 8930, 4013, 8715); activity still open from before the year is reported.
- Assessments are the statutory child and family assessments (single, short and CIN).
  Choice: early help assessments and the assessment of services to prevent a child becoming
  looked after again are not census assessments.
- A conference (ICPC) is reported on the S47 enquiry that led to it; an ICPC meeting with no
  S47 behind it goes on the episode itself, never both (rule 2884).
- NumberOfPreviousCPP counts the child's earlier child protection plans in this authority.
- Sex is U for a child not yet born at the year end (rule 8750), who is reported with an
  expected date of birth only. UPNunknown is UN7 for a child without a UPN whose episodes
  are all NFA referrals; otherwise it is left out (the record cannot say why a UPN is
  missing).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from casework.cases.models import (
    Allocation,
    Assessment,
    AssessmentKind,
    Case,
    Meeting,
    MeetingKind,
    Plan,
    PlanKind,
    Referral,
    ReferralKind,
    Section47Enquiry,
    Section47Outcome,
)
from casework.core.calendar import WorkingDayCalendar
from casework.core.codes import CinClosureReason, Ethnicity, PrimaryNeed, ReferralSource
from casework.core.dates import long_date
from casework.core.identifiers import upn_problem
from casework.organisation.models import Authority, ServiceArea, TeamFunction
from casework.people.models import Disability, Person

CENSUS_ASSESSMENT_KINDS = frozenset(
    {AssessmentKind.SINGLE, AssessmentKind.SHORT, AssessmentKind.CIN}
)
# Children per database round trip: each chunk costs the same few queries however many
# cases, plans and meetings its children have.
CHUNK_SIZE = 200
SOFTWARE_CODE = "Casework"
RELEASE = "0.1"
# DfE: the conference is queried when still not held 15 working days into an S47 (8675Q),
# and an assessment when still open 45 working days after it started (8670Q).
S47_WORKING_DAYS = 15
ASSESSMENT_WORKING_DAYS = 45
RC_AFTER_ASSESSMENT_ONLY = frozenset({CinClosureReason.RC8, CinClosureReason.RC9})
Severity = Literal["error", "query"]


@dataclass(frozen=True)
class CensusProblem:
    """One thing to put right before the return validates.

    `rule` is the DfE rule number; a query (`severity == "query"`, rule codes ending in Q)
    can be accepted in the DfE's system with an explanation, an error cannot.
    """

    child_id: str
    child_name: str
    field: str
    rule: str
    message: str
    case_id: int | None
    severity: Severity = "error"
    case_reference: str = ""

    @property
    def child(self) -> str:
        return f"{self.child_name} ({self.child_id})"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class CensusPeriod:
    start: dt.date
    end: dt.date

    @classmethod
    def ending(cls, census_year_end: dt.date) -> CensusPeriod:
        if (census_year_end.month, census_year_end.day) != (3, 31):
            raise ValueError(
                f"A CIN census year ends on 31 March, not {long_date(census_year_end)}."
            )
        return cls(dt.date(census_year_end.year - 1, 4, 1), census_year_end)

    def reported(self, day: dt.date | None) -> dt.date | None:
        """`day` as the census sees it: anything after the year end has not happened yet."""
        return day if day is not None and day <= self.end else None


def census_year_end_before(day: dt.date) -> dt.date:
    """The end of the latest census year that has finished by `day`."""
    year = day.year if (day.month, day.day) > (3, 31) else day.year - 1
    return dt.date(year, 3, 31)


# -------------------------------------------------------------------------------------------
# What the census reports, once the record has been read.
# -------------------------------------------------------------------------------------------


@dataclass
class CensusAssessment:
    started_on: dt.date
    authorised_on: dt.date | None
    factors: list[str]


@dataclass
class CensusCinPlan:
    started_on: dt.date
    ended_on: dt.date | None


@dataclass
class CensusSection47:
    started_on: dt.date
    icpc_target_on: dt.date | None
    icpc_on: dt.date | None
    icpc_not_required: bool


@dataclass
class CensusCpPlan:
    started_on: dt.date
    ended_on: dt.date | None
    initial_category: str
    latest_category: str
    previous_plans: int
    reviews: list[dt.date]


@dataclass
class CensusEpisode:
    case_id: int
    case_reference: str
    referral_on: dt.date
    source: str
    primary_need: str
    no_further_action: bool
    closed_on: dt.date | None = None
    closure_reason: str = ""
    icpc_on: dt.date | None = None
    assessments: list[CensusAssessment] = field(default_factory=list)
    cin_plans: list[CensusCinPlan] = field(default_factory=list)
    section47s: list[CensusSection47] = field(default_factory=list)
    cp_plans: list[CensusCpPlan] = field(default_factory=list)

    @property
    def has_activity(self) -> bool:
        return bool(
            self.assessments or self.cin_plans or self.section47s or self.cp_plans or self.icpc_on
        )


@dataclass
class CensusChild:
    local_id: str
    name: str
    upn: str
    upn_unknown: str
    born_on: dt.date | None
    expected_on: dt.date | None
    sex: str
    died_on: dt.date | None
    ethnicity: str
    disabilities: list[str]
    episodes: list[CensusEpisode]
    problems: list[CensusProblem]


# -------------------------------------------------------------------------------------------
# Reading the record: a constant number of queries per chunk of children.
# -------------------------------------------------------------------------------------------


def _census_cases(authority: Authority) -> QuerySet[Case]:
    return Case.objects.filter(
        service_area=ServiceArea.CHILDREN, responsible_team__authority=authority
    )


def census_candidates(authority: Authority, period: CensusPeriod) -> QuerySet[Person]:
    """Children who may have an episode in the census year: a referral by the year end on a
    case not closed before the year started."""
    cases = (
        _census_cases(authority)
        .filter(referrals__kind=ReferralKind.REFERRAL, referrals__received_on__lte=period.end)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=period.start))
    )
    return Person.objects.filter(pk__in=cases.values("subject_id")).order_by("pk")


def _with_census_record(people: QuerySet[Person], authority: Authority) -> QuerySet[Person]:
    """Every children's case of the authority (earlier ones too: previous CP plans count),
    with only the rows the census reads."""
    meetings = Meeting.objects.filter(
        kind__in=[MeetingKind.INITIAL_CP_CONFERENCE, MeetingKind.CP_REVIEW]
    ).only("id", "case_id", "kind", "held_on")
    cases = (
        _census_cases(authority)
        .select_related("responsible_team")
        .order_by("opened_on", "pk")
        .prefetch_related(
            Prefetch(
                "referrals",
                queryset=Referral.objects.order_by("received_on", "pk"),
                to_attr="census_referrals",
            ),
            Prefetch(
                "assessments",
                queryset=Assessment.objects.filter(kind__in=CENSUS_ASSESSMENT_KINDS).order_by(
                    "started_on", "pk"
                ),
                to_attr="census_assessments",
            ),
            Prefetch(
                "plans",
                queryset=Plan.objects.filter(
                    kind__in=[PlanKind.CHILD_IN_NEED, PlanKind.CHILD_PROTECTION]
                ).order_by("started_on", "pk"),
                to_attr="census_plans",
            ),
            Prefetch(
                "section47_enquiries",
                queryset=Section47Enquiry.objects.order_by("started_on", "pk"),
                to_attr="census_section47_enquiries",
            ),
            Prefetch(
                "meetings", queryset=meetings.order_by("held_on", "pk"), to_attr="census_meetings"
            ),
            Prefetch(
                "allocations",
                queryset=Allocation.objects.select_related("team"),
                to_attr="census_allocations",
            ),
        )
    )
    return people.prefetch_related(Prefetch("cases", queryset=cases, to_attr="census_cases"))


def _rows(case: Case, relation: str) -> list[Any]:
    """A case's `relation` as `_with_census_record` read it: a plain list on the case (to
    an attribute, so no related manager is built for each of 30,000 cases' six relations,
    which was a third of the census's time)."""
    rows: list[Any] = getattr(case, f"census_{relation}")
    return rows


# The national code lists as sets: `Choices.values` builds a new list on every use, which
# cost a second of a 30,000-child census.
_REFERRAL_SOURCES = frozenset(ReferralSource.values)
_PRIMARY_NEEDS = frozenset(PrimaryNeed.values)
_CLOSURE_REASONS = frozenset(CinClosureReason.values)
_ETHNICITIES = frozenset(Ethnicity.values)
_DISABILITIES = frozenset(Disability.values)


def census_children(
    authority: Authority,
    census_year_end: dt.date,
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[CensusChild]:
    """Each child with an episode in the census year, read a chunk at a time (keyset on the
    person's key, so memory stays flat and no page is skipped or repeated)."""
    period = CensusPeriod.ending(census_year_end)
    calendar = authority.calendar()
    candidates = census_candidates(authority, period)
    total = candidates.count()
    done = 0
    last_pk = 0
    while True:
        chunk = list(_with_census_record(candidates.filter(pk__gt=last_pk), authority)[:chunk_size])
        for person in chunk:
            child = _census_child(person, period, calendar)
            if child is not None:
                yield child
        done += len(chunk)
        if progress is not None and chunk:
            progress(done, total)
        if len(chunk) < chunk_size:
            return
        last_pk = chunk[-1].pk


# -------------------------------------------------------------------------------------------
# Building one child's census record, and the problems in it.
# -------------------------------------------------------------------------------------------


class _Problems:
    """Collects one child's problems with the child filled in."""

    def __init__(self, person: Person) -> None:
        self.person = person
        self.found: list[CensusProblem] = []

    def error(self, field: str, rule: str, message: str, case: Case | None = None) -> None:
        self._add(field, rule, message, case, "error")

    def query(self, field: str, rule: str, message: str, case: Case | None = None) -> None:
        self._add(field, rule, message, case, "query")

    def _add(
        self, field: str, rule: str, message: str, case: Case | None, severity: Severity
    ) -> None:
        self.found.append(
            CensusProblem(
                child_id=self.person.local_id,
                child_name=self.person.full_name,
                field=field,
                rule=rule,
                message=message,
                case_id=case.pk if case else None,
                severity=severity,
                case_reference=case.reference if case else "",
            )
        )


def _held_by_social_care(case: Case) -> bool:
    teams = [a.team for a in _rows(case, "allocations")] or [case.responsible_team]
    return any(team.function != TeamFunction.EARLY_HELP for team in teams)


@dataclass
class _RawEpisode:
    case: Case
    referral: Referral
    is_latest: bool


def _raw_episodes(case: Case) -> list[_RawEpisode]:
    referrals = [r for r in _rows(case, "referrals") if r.kind == ReferralKind.REFERRAL]
    main = next((r for r in referrals if not r.no_further_action), None)
    starts = [r for r in referrals if r.no_further_action and (main is None or r.pk != main.pk)]
    if main is not None:
        starts = [r for r in starts if r.received_on < main.received_on] + [main]
    return [
        _RawEpisode(case, referral, is_latest=i == len(starts) - 1)
        for i, referral in enumerate(starts)
    ]


def _in_year(raw: _RawEpisode, period: CensusPeriod) -> bool:
    received = raw.referral.received_on
    if received > period.end:
        return False
    if raw.referral.no_further_action and received < period.start:
        return False
    closed = raw.case.closed_on if raw.is_latest else None
    return closed is None or closed >= period.start


def _census_child(
    person: Person, period: CensusPeriod, calendar: WorkingDayCalendar
) -> CensusChild | None:
    cases: list[Case] = [c for c in person.census_cases if _held_by_social_care(c)]  # type: ignore[attr-defined]
    raw = [r for case in cases for r in _raw_episodes(case) if _in_year(r, period)]
    if not raw:
        return None
    problems = _Problems(person)
    all_cp_starts = sorted(
        plan.started_on
        for case in cases
        for plan in _rows(case, "plans")
        if plan.kind == PlanKind.CHILD_PROTECTION
    )
    episodes = [
        _episode(r, person, period, calendar, all_cp_starts, problems)
        for r in sorted(raw, key=lambda r: (r.referral.received_on, r.referral.pk))
    ]
    _check_episodes_together(episodes, cases, problems)
    born = (
        person.date_of_birth
        if person.date_of_birth and person.date_of_birth <= period.end
        else None
    )
    expected = None if born else (person.expected_date_of_birth or person.date_of_birth)
    all_nfa = all(e.no_further_action for e in episodes)
    child = CensusChild(
        local_id=person.local_id,
        name=person.full_name,
        upn=person.upn,
        upn_unknown="UN7" if not person.upn and all_nfa else "",
        born_on=born,
        expected_on=expected,
        sex=person.sex if born else "U",
        died_on=period.reported(person.date_of_death),
        ethnicity=person.ethnicity,
        disabilities=list(person.disabilities),
        episodes=episodes,
        problems=problems.found,
    )
    _check_child(child, person, period, problems)
    return child


def _episode(
    raw: _RawEpisode,
    person: Person,
    period: CensusPeriod,
    calendar: WorkingDayCalendar,
    all_cp_starts: list[dt.date],
    problems: _Problems,
) -> CensusEpisode:
    case, referral = raw.case, raw.referral
    episode = CensusEpisode(
        case_id=case.pk,
        case_reference=case.reference,
        referral_on=referral.received_on,
        source=referral.source,
        primary_need=referral.primary_need,
        no_further_action=referral.no_further_action,
    )
    if raw.is_latest:
        episode.closed_on = period.reported(case.closed_on)
        episode.closure_reason = case.closure_reason if episode.closed_on else ""
    _read_activity(episode, case, period, all_cp_starts)
    if episode.no_further_action:
        # An NFA referral carries no activity (rules 8831, 8832, 4000). The case's work
        # belongs to a later referral on it if there is one; if there is none, the work is a
        # problem to put right, never census data.
        if raw.is_latest and episode.has_activity:
            problems.error(
                "ReferralNFA",
                "8831",
                f"Case {case.reference}: the referral of {long_date(referral.received_on)} is "
                "marked 'no further action', but assessments, enquiries or plans are "
                "recorded on the case. Record the referral that led to that work, or remove "
                "the 'no further action' mark from this one.",
                case,
            )
        episode.assessments, episode.cin_plans = [], []
        episode.section47s, episode.cp_plans, episode.icpc_on = [], [], None
    _check_episode(episode, case, person, period, calendar, problems)
    return episode


def _read_activity(
    episode: CensusEpisode, case: Case, period: CensusPeriod, all_cp_starts: list[dt.date]
) -> None:
    for assessment in _rows(case, "assessments"):
        authorised = assessment.authorised_on
        if assessment.started_on > period.end or (authorised and authorised < period.start):
            continue
        reported = period.reported(authorised)
        episode.assessments.append(
            CensusAssessment(
                started_on=assessment.started_on,
                authorised_on=reported,
                factors=list(assessment.factors) if reported else [],
            )
        )
    s47_icpcs: set[dt.date] = set()
    for enquiry in _rows(case, "section47_enquiries"):
        icpc = period.reported(enquiry.icpc_on)
        concluded = period.reported(enquiry.concluded_on)
        not_required = enquiry.outcome == Section47Outcome.NO_ICPC and concluded is not None
        if enquiry.started_on > period.end or (icpc and icpc < period.start):
            continue
        if not_required and concluded and concluded < period.start:
            continue
        episode.section47s.append(
            CensusSection47(
                started_on=enquiry.started_on,
                icpc_target_on=enquiry.icpc_target_on,
                icpc_on=icpc,
                icpc_not_required=not_required,
            )
        )
        if icpc:
            s47_icpcs.add(icpc)
    meetings = list(_rows(case, "meetings"))
    conferences = [
        m.held_on
        for m in meetings
        if m.kind == MeetingKind.INITIAL_CP_CONFERENCE
        and period.start <= m.held_on <= period.end
        and m.held_on not in s47_icpcs
    ]
    episode.icpc_on = conferences[0] if conferences else None
    reviews = sorted(
        m.held_on
        for m in meetings
        if m.kind == MeetingKind.CP_REVIEW and period.start <= m.held_on <= period.end
    )
    for plan in _rows(case, "plans"):
        ended = plan.ended_on
        if plan.started_on > period.end or (ended and ended < period.start):
            continue
        reported_end = period.reported(ended)
        if plan.kind == PlanKind.CHILD_IN_NEED:
            episode.cin_plans.append(CensusCinPlan(plan.started_on, reported_end))
            continue
        last_review_day = reported_end or period.end
        episode.cp_plans.append(
            CensusCpPlan(
                started_on=plan.started_on,
                ended_on=reported_end,
                initial_category=plan.initial_category,
                latest_category=plan.latest_category or plan.initial_category,
                previous_plans=sum(1 for day in all_cp_starts if day < plan.started_on),
                reviews=[r for r in reviews if plan.started_on < r <= last_review_day],
            )
        )


def _activity_dates(episode: CensusEpisode) -> list[tuple[str, str, dt.date]]:
    """(census field, words, date) for everything the closure must not come before (8565)."""
    found: list[tuple[str, str, dt.date]] = []
    for a in episode.assessments:
        found.append(("AssessmentActualStartDate", "an assessment started", a.started_on))
        if a.authorised_on:
            found.append(
                ("AssessmentAuthorisationDate", "an assessment was authorised", a.authorised_on)
            )
    for s in episode.section47s:
        found.append(("S47ActualStartDate", "a section 47 enquiry started", s.started_on))
        if s.icpc_on:
            found.append(("DateOfInitialCPC", "a conference was held", s.icpc_on))
    if episode.icpc_on:
        found.append(("DateOfInitialCPC", "a conference was held", episode.icpc_on))
    for p in episode.cin_plans:
        found.append(("CINPlanStartDate", "a child in need plan started", p.started_on))
        if p.ended_on:
            found.append(("CINPlanEndDate", "a child in need plan ended", p.ended_on))
    for c in episode.cp_plans:
        found.append(("CPPstartDate", "a child protection plan started", c.started_on))
        if c.ended_on:
            found.append(("CPPendDate", "a child protection plan ended", c.ended_on))
    return found


def _check_episode(
    episode: CensusEpisode,
    case: Case,
    person: Person,
    period: CensusPeriod,
    calendar: WorkingDayCalendar,
    problems: _Problems,
) -> None:
    ref = case.reference
    referral_on = episode.referral_on
    if episode.source not in _REFERRAL_SOURCES:
        problems.error(
            "ReferralSource",
            "8866",
            f"Case {ref}: record where the referral of {long_date(referral_on)} came from.",
            case,
        )
    if not episode.no_further_action and episode.primary_need not in _PRIMARY_NEEDS:
        problems.error(
            "PrimaryNeedCode",
            "8610",
            f"Case {ref}: the referral of {long_date(referral_on)} led to further action, so "
            "it needs a primary need code. Record the child's primary need on the referral.",
            case,
        )
    birth = person.date_of_birth or person.expected_date_of_birth
    if birth and referral_on < birth - dt.timedelta(weeks=40):
        problems.error(
            "CINreferralDate",
            "8606",
            f"Case {ref}: the referral of {long_date(referral_on)} is more than 40 weeks "
            f"before {person.full_name}'s (expected) birth on {long_date(birth)}. Check both "
            "dates.",
            case,
        )
    if person.date_of_death and referral_on > person.date_of_death:
        problems.query(
            "CINreferralDate",
            "8555Q",
            f"Case {ref}: the referral of {long_date(referral_on)} is after the child's "
            f"recorded death ({long_date(person.date_of_death)}). Check both dates.",
            case,
        )
    _check_closure(episode, case, person, problems)
    _check_activity_dates(episode, case, period, calendar, problems)


def _check_closure(episode: CensusEpisode, case: Case, person: Person, problems: _Problems) -> None:
    ref = case.reference
    closed_on, reason = episode.closed_on, episode.closure_reason
    if closed_on is None:
        return
    if not reason:
        problems.error(
            "ReasonForClosure",
            "8805",
            f"Case {ref} closed on {long_date(closed_on)} without a closure reason. Record "
            "the national reason (RC1 to RC9) on the closure.",
            case,
        )
    elif reason not in _CLOSURE_REASONS:
        problems.error(
            "ReasonForClosure",
            "8640",
            f"Case {ref} closed with the reason '{reason}', which is not a national CIN "
            "closure code. Correct the closure reason to one of RC1 to RC9 (check the "
            "closure procedure's reasons in the policy pack).",
            case,
        )
    if closed_on < episode.referral_on:
        problems.error(
            "CINclosureDate",
            "8630",
            f"Case {ref} closed on {long_date(closed_on)}, before the referral it reports was "
            f"received ({long_date(episode.referral_on)}). Correct the referral's date or "
            "the closure date so that the closure is on or after the referral.",
            case,
        )
    for field_name, words, day in _activity_dates(episode):
        if day > closed_on:
            problems.error(
                field_name,
                "8565",
                f"Case {ref} closed on {long_date(closed_on)}, but {words} after that "
                f"({long_date(day)}). Correct the date, or the closure date.",
                case,
            )
    for assessment in episode.assessments:
        if assessment.authorised_on is None:
            problems.error(
                "AssessmentAuthorisationDate",
                "8867",
                f"Case {ref} is closed but the assessment started on "
                f"{long_date(assessment.started_on)} was never authorised. Record the "
                "manager's authorisation of the assessment.",
                case,
            )
    for enquiry in episode.section47s:
        if enquiry.icpc_on is None and not enquiry.icpc_not_required:
            problems.error(
                "ICPCnotRequired",
                "8868",
                f"Case {ref} is closed but the section 47 enquiry started on "
                f"{long_date(enquiry.started_on)} has no outcome. Record whether a "
                "conference was held (and when) or was not required.",
                case,
            )
    for plan_words, plans in (
        ("child in need plan", [p.started_on for p in episode.cin_plans if not p.ended_on]),
        ("child protection plan", [p.started_on for p in episode.cp_plans if not p.ended_on]),
    ):
        for started in plans:
            problems.error(
                "CINclosureDate",
                "8565",
                f"Case {ref} is closed but the {plan_words} that started on "
                f"{long_date(started)} has no end date. End the plan on or before the "
                "closure date.",
                case,
            )
    if reason in RC_AFTER_ASSESSMENT_ONLY:
        if episode.section47s or episode.cp_plans or episode.cin_plans or episode.icpc_on:
            problems.error(
                "ReasonForClosure",
                "2990",
                f"Case {ref} closed with {reason} (closed after assessment), but it has a "
                "section 47 enquiry, conference or plan. Use RC7 (services ceased) instead.",
                case,
            )
        if not episode.assessments:
            problems.query(
                "ReasonForClosure",
                "8825Q",
                f"Case {ref} closed with {reason} (closed after assessment), but no "
                "assessment is recorded in the census year. Record the assessment, or "
                "choose another reason.",
                case,
            )
    elif (
        len(episode.assessments) == 1
        and episode.assessments[0].authorised_on
        and "21" in episode.assessments[0].factors
    ):
        problems.query(
            "ReasonForClosure",
            "8873Q",
            f"Case {ref}: the only assessment found no factors (21), so the closure reason "
            "should be RC8 or RC9 (closed after assessment). Check the reason.",
            case,
        )
    if reason == CinClosureReason.RC2 and person.date_of_death is None:
        problems.query(
            "PersonDeathDate",
            "8585Q",
            f"Case {ref} closed because the child died (RC2), but no date of death is "
            "recorded. Record the date of death on the person.",
            case,
        )


def _check_activity_dates(
    episode: CensusEpisode,
    case: Case,
    period: CensusPeriod,
    calendar: WorkingDayCalendar,
    problems: _Problems,
) -> None:
    ref, referral_on = case.reference, episode.referral_on
    before_referral = {
        "AssessmentActualStartDate": ("1103", "An assessment started"),
        "S47ActualStartDate": ("2889", "A section 47 enquiry started"),
        "DateOfInitialCPC": ("1104", "A conference was held"),
        "CPPstartDate": ("1105", "A child protection plan started"),
        "CINPlanStartDate": ("4015", "A child in need plan started"),
    }
    for field_name, _, day in _activity_dates(episode):
        if field_name in before_referral and day < referral_on:
            rule, words = before_referral[field_name]
            problems.error(
                field_name,
                rule,
                f"Case {ref}: {words.lower()} on {long_date(day)}, before the referral of "
                f"{long_date(referral_on)}. Correct the date, or record the earlier referral "
                "it followed.",
                case,
            )
    open_assessments = [a for a in episode.assessments if a.authorised_on is None]
    for assessment in open_assessments:
        if assessment.started_on < period.start:
            problems.error(
                "AssessmentActualStartDate",
                "8736",
                f"Case {ref}: the assessment started on {long_date(assessment.started_on)}, "
                f"before this census year, and was not authorised by "
                f"{long_date(period.end)}. Record its authorisation date.",
                case,
            )
        elif calendar.add_working_days(assessment.started_on, ASSESSMENT_WORKING_DAYS) < period.end:
            problems.query(
                "AssessmentAuthorisationDate",
                "8670Q",
                f"Case {ref}: the assessment started on {long_date(assessment.started_on)} "
                f"was still not authorised {ASSESSMENT_WORKING_DAYS} working days later, at "
                "the year end. Record its authorisation date if it was done.",
                case,
            )
    if len(open_assessments) > 1:
        problems.error(
            "AssessmentAuthorisationDate",
            "8896",
            f"Case {ref} has {len(open_assessments)} assessments open at once. Authorise "
            "the finished one(s).",
            case,
        )
    for assessment in episode.assessments:
        if assessment.authorised_on and not assessment.factors:
            problems.query(
                "AssessmentFactors",
                "8897Q",
                f"Case {ref}: the assessment authorised on "
                f"{long_date(assessment.authorised_on)} has no factors recorded. Record the "
                "factors identified (or 21, no factors).",
                case,
            )
    for enquiry in episode.section47s:
        if enquiry.icpc_on or enquiry.icpc_not_required:
            continue
        if enquiry.started_on < period.start:
            problems.error(
                "S47ActualStartDate",
                "8740",
                f"Case {ref}: the section 47 enquiry started on "
                f"{long_date(enquiry.started_on)}, before this census year, and had no "
                "outcome by the year end. Record its outcome.",
                case,
            )
        elif calendar.add_working_days(enquiry.started_on, S47_WORKING_DAYS) < period.end:
            problems.query(
                "DateOfInitialCPC",
                "8675Q",
                f"Case {ref}: the section 47 enquiry started on "
                f"{long_date(enquiry.started_on)} had no conference or outcome "
                f"{S47_WORKING_DAYS} working days later. Record its outcome.",
                case,
            )
    conferences = [s.icpc_on for s in episode.section47s if s.icpc_on]
    conferences += [episode.icpc_on] if episode.icpc_on else []
    for day in conferences:
        if day.weekday() >= 5:
            problems.error(
                "DateOfInitialCPC",
                "8875",
                f"Case {ref}: the conference is recorded on a {day:%A} ({long_date(day)}). "
                "Correct the date.",
                case,
            )
    for plan in episode.cp_plans:
        if not plan.initial_category:
            problems.error(
                "InitialCategoryOfAbuse",
                "8905",
                f"Case {ref}: the child protection plan that started on "
                f"{long_date(plan.started_on)} has no category of abuse. Record it.",
                case,
            )
        if plan.started_on >= period.start and plan.started_on not in conferences:
            problems.error(
                "CPPstartDate",
                "2885",
                f"Case {ref}: the child protection plan started on "
                f"{long_date(plan.started_on)}, but no initial conference is recorded that "
                "day. Record the section 47 enquiry's conference (or the conference meeting) "
                "on the day the plan was made.",
                case,
            )


def _overlaps(spans: Iterable[tuple[dt.date, dt.date | None]]) -> list[tuple[dt.date, dt.date]]:
    """Pairs of start dates whose spans overlap (an open span runs on for ever)."""
    ordered = sorted(spans, key=lambda s: s[0])
    clashes = []
    for (start, end), (next_start, _) in zip(ordered, ordered[1:], strict=False):
        if end is None or next_start < end:
            clashes.append((start, next_start))
    return clashes


def _check_episodes_together(
    episodes: list[CensusEpisode], cases: list[Case], problems: _Problems
) -> None:
    by_case = {case.pk: case for case in cases}
    social_care = [e for e in episodes if not e.no_further_action]
    for first, second in _overlaps((e.referral_on, e.closed_on) for e in social_care):
        case = next(e for e in social_care if e.referral_on == second)
        problems.error(
            "CINreferralDate",
            "8820",
            f"The episode referred on {long_date(second)} starts before the one referred on "
            f"{long_date(first)} closed. Close the earlier case before the new referral, or "
            "record the new referral on the case that was open.",
            by_case.get(case.case_id),
        )
    cin_plans = [(p.started_on, p.ended_on) for e in episodes for p in e.cin_plans]
    cp_plans = [(p.started_on, p.ended_on) for e in episodes for p in e.cp_plans]
    for rule, words, spans in (
        ("4014", "child in need plans", cin_plans),
        ("8940", "child protection plans", cp_plans),
    ):
        for first, second in _overlaps(spans):
            problems.error(
                "CINPlanStartDate" if rule == "4014" else "CPPstartDate",
                rule,
                f"Two {words} overlap (started {long_date(first)} and {long_date(second)}). "
                "End the first before the second starts.",
            )
    for cin_start, cin_end in cin_plans:
        for cp_start, cp_end in cp_plans:
            if cin_start < (cp_end or dt.date.max) and cp_start < (cin_end or dt.date.max):
                problems.error(
                    "CINPlanStartDate",
                    "4001",
                    f"The child in need plan from {long_date(cin_start)} and the child "
                    f"protection plan from {long_date(cp_start)} are open at the same time. "
                    "End one before the other starts.",
                )


def _check_child(
    child: CensusChild, person: Person, period: CensusPeriod, problems: _Problems
) -> None:
    if not (person.local_id.isalnum() and len(person.local_id) <= 20):
        problems.error(
            "LAchildID",
            "1580",
            f"The person ID '{person.local_id}' must be at most 20 letters and digits. Ask "
            "an administrator to correct it.",
        )
    if child.ethnicity not in _ETHNICITIES:
        problems.error(
            "Ethnicity",
            "4220",
            "No ethnicity is recorded. Record it, or 'Information not yet obtained' (NOBT) "
            "if the family has not been asked yet.",
        )
    unknown = [code for code in child.disabilities if code not in _DISABILITIES]
    needs_disability = child.born_on is not None and any(
        not e.no_further_action for e in child.episodes
    )
    if unknown:
        problems.error(
            "Disability", "8540", f"Unknown disability codes: {', '.join(unknown)}. Correct them."
        )
    elif needs_disability and not child.disabilities:
        problems.error(
            "Disability",
            "8540",
            "No disability information is recorded. Record the child's disabilities, or "
            "'No disability' (NONE).",
        )
    if Disability.NONE in child.disabilities and len(child.disabilities) > 1:
        problems.error(
            "Disability",
            "8790",
            "'No disability' is recorded together with disabilities. Keep one or the other.",
        )
    if person.date_of_birth is None and person.expected_date_of_birth is None:
        problems.query(
            "PersonBirthDate",
            "8525Q",
            "Neither a date of birth nor an expected date of birth is recorded. Record one.",
        )
    if child.upn:
        upn_error = upn_problem(child.upn)
        if upn_error:
            problems.error("UPN", "1510", upn_error)
    elif child.born_on and needs_disability:
        # DfE: school age is reached by 31 August of the calendar year of the census end.
        school_start = dt.date(period.end.year, 8, 31)
        if child.born_on <= school_start.replace(year=school_start.year - 6):
            problems.query(
                "UPN",
                "8770Q",
                "The child is of school age but has no UPN. Record the UPN from the school "
                "(the school or the education welfare service can give it).",
            )
    if child.born_on and (period.end - child.born_on).days > 25 * 365.25:
        problems.query(
            "PersonBirthDate",
            "8775Q",
            f"The child is over 25 at the year end (born {long_date(child.born_on)}). Check "
            "the date of birth.",
        )


# -------------------------------------------------------------------------------------------
# Public entry points.
# -------------------------------------------------------------------------------------------


def cin_census_problems(authority: Authority, census_year_end: dt.date) -> list[CensusProblem]:
    """Everything in the record that would stop (errors) or be questioned in (queries) the
    census for the year ending `census_year_end`, errors first, then by child."""
    found = [p for child in census_children(authority, census_year_end) for p in child.problems]
    return sorted(found, key=lambda p: (not p.is_error, p.child_name, p.child_id, p.rule))


_NO_ATTRIBUTES: AttributesImpl[str] = AttributesImpl({})


class _XmlWriter:
    """Writes indented elements to an XMLGenerator; `take()` hands over what is written so
    far, so the document never sits in memory whole."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._xml = XMLGenerator(self._buffer, encoding="utf-8", short_empty_elements=True)
        self._depth = 0

    def take(self) -> bytes:
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data

    def start_document(self) -> None:
        self._xml.startDocument()

    def open(self, name: str) -> None:
        if self._depth:
            self._xml.ignorableWhitespace("\n" + "  " * self._depth)
        self._xml.startElement(name, _NO_ATTRIBUTES)
        self._depth += 1

    def close(self, name: str) -> None:
        self._depth -= 1
        self._xml.ignorableWhitespace("\n" + "  " * self._depth)
        self._xml.endElement(name)

    def leaf(self, name: str, value: str | int | dt.date | None) -> None:
        if value is None or value == "":
            return
        self._xml.ignorableWhitespace("\n" + "  " * self._depth)
        self._xml.startElement(name, _NO_ATTRIBUTES)
        self._xml.characters(value.isoformat() if isinstance(value, dt.date) else str(value))
        self._xml.endElement(name)

    def end_document(self) -> None:
        self._xml.ignorableWhitespace("\n")
        self._xml.endDocument()


def _flag(value: bool) -> str:
    # "1"/"0" rather than "true"/"false": every rule of the sector validator reads these,
    # while some of its rules only recognise the lower-case words.
    return "1" if value else "0"


def _write_header(out: _XmlWriter, authority: Authority, period: CensusPeriod) -> None:
    out.open("Header")
    out.open("CollectionDetails")
    out.leaf("Collection", "CIN")
    out.leaf("Year", period.end.year)
    out.leaf("ReferenceDate", period.end)
    out.close("CollectionDetails")
    out.open("Source")
    out.leaf("SourceLevel", "L")
    out.leaf("LEA", authority.la_code)
    out.leaf("SoftwareCode", SOFTWARE_CODE)
    out.leaf("Release", RELEASE)
    out.leaf("SerialNo", "001")
    out.leaf("DateTime", timezone.localtime().replace(microsecond=0, tzinfo=None).isoformat())
    out.close("Source")
    out.close("Header")


def _write_child(out: _XmlWriter, child: CensusChild) -> None:
    out.open("Child")
    out.open("ChildIdentifiers")
    out.leaf("LAchildID", child.local_id)
    out.leaf("UPN", child.upn)
    out.leaf("UPNunknown", child.upn_unknown)
    out.leaf("PersonBirthDate", child.born_on)
    out.leaf("ExpectedPersonBirthDate", child.expected_on)
    out.leaf("Sex", child.sex)
    out.leaf("PersonDeathDate", child.died_on)
    out.close("ChildIdentifiers")
    out.open("ChildCharacteristics")
    out.leaf("Ethnicity", child.ethnicity)
    if child.disabilities:
        out.open("Disabilities")
        for code in child.disabilities:
            out.leaf("Disability", code)
        out.close("Disabilities")
    out.close("ChildCharacteristics")
    for episode in child.episodes:
        _write_episode(out, episode)
    out.close("Child")


def _write_episode(out: _XmlWriter, episode: CensusEpisode) -> None:
    out.open("CINdetails")
    out.leaf("CINreferralDate", episode.referral_on)
    out.leaf("ReferralSource", episode.source)
    out.leaf("PrimaryNeedCode", episode.primary_need)
    out.leaf("CINclosureDate", episode.closed_on)
    out.leaf("ReasonForClosure", episode.closure_reason)
    out.leaf("DateOfInitialCPC", episode.icpc_on)
    for assessment in episode.assessments:
        out.open("Assessments")
        out.leaf("AssessmentActualStartDate", assessment.started_on)
        out.leaf("AssessmentAuthorisationDate", assessment.authorised_on)
        if assessment.factors:
            out.open("FactorsIdentifiedAtAssessment")
            for factor in assessment.factors:
                out.leaf("AssessmentFactors", factor)
            out.close("FactorsIdentifiedAtAssessment")
        out.close("Assessments")
    for cin_plan in episode.cin_plans:
        out.open("CINPlanDates")
        out.leaf("CINPlanStartDate", cin_plan.started_on)
        out.leaf("CINPlanEndDate", cin_plan.ended_on)
        out.close("CINPlanDates")
    for enquiry in episode.section47s:
        out.open("Section47")
        out.leaf("S47ActualStartDate", enquiry.started_on)
        out.leaf("InitialCPCtarget", enquiry.icpc_target_on)
        out.leaf("DateOfInitialCPC", enquiry.icpc_on)
        out.leaf("ICPCnotRequired", _flag(enquiry.icpc_not_required))
        out.close("Section47")
    out.leaf("ReferralNFA", _flag(episode.no_further_action))
    for plan in episode.cp_plans:
        out.open("ChildProtectionPlans")
        out.leaf("CPPstartDate", plan.started_on)
        out.leaf("CPPendDate", plan.ended_on)
        out.leaf("InitialCategoryOfAbuse", plan.initial_category)
        out.leaf("LatestCategoryOfAbuse", plan.latest_category)
        out.leaf("NumberOfPreviousCPP", plan.previous_plans)
        if plan.reviews:
            out.open("Reviews")
            for review in plan.reviews:
                out.leaf("CPPreviewDate", review)
            out.close("Reviews")
        out.close("ChildProtectionPlans")
    out.close("CINdetails")


def cin_census_xml(
    authority: Authority,
    census_year_end: dt.date,
    *,
    progress: Callable[[int, int], None] | None = None,
    keep: Callable[[CensusChild], bool] | None = None,
) -> Iterator[bytes]:
    """The census return as UTF-8 XML, yielded a child at a time; `progress(done, total)`
    is called after each chunk of children read. Check `cin_census_problems` first, or pass
    `keep`, which sees every child (its problems included) and says whether to write it:
    checking and writing in one pass read the record once (issue 10: 30,000 children in
    30 s)."""
    period = CensusPeriod.ending(census_year_end)
    out = _XmlWriter()
    out.start_document()
    out.open("Message")
    _write_header(out, authority, period)
    out.open("Children")
    yield out.take()
    for child in census_children(authority, census_year_end, progress=progress):
        if keep is not None and not keep(child):
            continue
        _write_child(out, child)
        yield out.take()
    out.close("Children")
    out.close("Message")
    out.end_document()
    yield out.take()
