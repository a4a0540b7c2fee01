"""`section47_record` and `section47_conclude`: the S47 enquiries the CIN census reports.

Refusals name the field and say what to do; nothing is written when a call is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case, Section47Enquiry, Section47Outcome
from casework.cases.services import case_close_imported, case_open, section47_conclude
from casework.cases.services import section47_record as record
from casework.core.errors import InvalidInput
from casework.organisation.models import ServiceArea, Team
from casework.people.models import Person


def _weekday_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _saturday_before(day: dt.date) -> dt.date:
    while day.weekday() != 5:
        day -= dt.timedelta(days=1)
    return day


@pytest.fixture
def started(open_case: Case) -> dt.date:
    return _weekday_before(open_case.opened_on + dt.timedelta(days=3))


def _messages(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str | None, list[str]]:
    return error.value.by_field()


def test_records_an_enquiry_with_its_conference_and_audits_it(
    worker: User, open_case: Case, started: dt.date
) -> None:
    """Rule 8615 holds (conference after start); the target defaults to 15 working days."""
    icpc = _weekday_before(started + dt.timedelta(days=12))
    enquiry = record(
        actor=worker,
        case=open_case,
        started_on=started,
        outcome=Section47Outcome.ICPC,
        concluded_on=_weekday_before(icpc - dt.timedelta(days=2)),
        icpc_on=icpc,
    )
    assert enquiry.icpc_on == icpc
    assert enquiry.icpc_target_on is not None
    assert enquiry.icpc_target_on > started
    assert enquiry.icpc_target_on.weekday() < 5
    event = AuditEvent.objects.get(verb="section47.recorded")
    assert event.case_id == open_case.pk


def test_an_open_enquiry_is_concluded_later(
    worker: User, open_case: Case, started: dt.date
) -> None:
    enquiry = record(actor=worker, case=open_case, started_on=started)
    assert enquiry.outcome == ""
    section47_conclude(
        actor=worker,
        enquiry=enquiry,
        outcome=Section47Outcome.NO_ICPC,
        concluded_on=started + dt.timedelta(days=5),
    )
    enquiry.refresh_from_db()
    assert enquiry.outcome == Section47Outcome.NO_ICPC
    assert AuditEvent.objects.filter(verb="section47.concluded").count() == 1


def test_refuses_a_second_open_enquiry(worker: User, open_case: Case, started: dt.date) -> None:
    """Rules 8839/8890: one enquiry at a time."""
    record(actor=worker, case=open_case, started_on=started)
    with pytest.raises(InvalidInput, match="still open: record its outcome"):
        record(actor=worker, case=open_case, started_on=started + dt.timedelta(days=1))
    assert Section47Enquiry.objects.count() == 1


def test_refuses_a_conference_at_the_weekend_or_before_the_start(
    worker: User, open_case: Case, started: dt.date
) -> None:
    """Rule 8875 (no weekend conference) and rule 8615 (not before the enquiry)."""
    saturday = _saturday_before(timezone.localdate())
    with pytest.raises(InvalidInput) as weekend:
        record(
            actor=worker,
            case=open_case,
            started_on=started,
            outcome=Section47Outcome.ICPC,
            concluded_on=started,
            icpc_on=saturday,
        )
    assert "not a working day (Saturday)" in " ".join(_messages(weekend)["icpc_on"])
    with pytest.raises(InvalidInput) as early:
        record(
            actor=worker,
            case=open_case,
            started_on=started,
            outcome=Section47Outcome.ICPC,
            concluded_on=started,
            icpc_on=_weekday_before(started - dt.timedelta(days=1)),
        )
    assert "cannot be before the enquiry started" in " ".join(_messages(early)["icpc_on"])
    assert not Section47Enquiry.objects.exists()


def test_refuses_inconsistent_outcomes(worker: User, open_case: Case, started: dt.date) -> None:
    with pytest.raises(InvalidInput) as not_required:
        record(
            actor=worker,
            case=open_case,
            started_on=started,
            outcome=Section47Outcome.NO_ICPC,
            concluded_on=started,
            icpc_on=started,
        )
    assert "no conference is required" in " ".join(_messages(not_required)["icpc_on"])
    with pytest.raises(InvalidInput) as missing:
        record(
            actor=worker,
            case=open_case,
            started_on=started,
            outcome=Section47Outcome.ICPC,
            concluded_on=started,
        )
    assert (
        "Enter the date of the initial child protection conference."
        in _messages(missing)["icpc_on"]
    )
    with pytest.raises(InvalidInput, match="in the future"):
        record(
            actor=worker,
            case=open_case,
            started_on=timezone.localdate() + dt.timedelta(days=1),
        )
    assert not Section47Enquiry.objects.exists()


def test_refuses_adults_cases_and_closed_cases(
    worker: User,
    manager: User,
    open_case: Case,
    started: dt.date,
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
    child: Person,
) -> None:
    adults = make_team("adults", service_area=ServiceArea.ADULTS)
    adult_worker = make_staff("adultworker", adults)
    adult_case = case_open(
        actor=adult_worker,
        subject=child,
        team=adults,
        received_on=started,
        source="3A",
        reason="GP asks for an assessment.",
    )
    with pytest.raises(InvalidInput, match="children's cases only"):
        record(actor=adult_worker, case=adult_case, started_on=started)
    case_close_imported(
        actor=manager, case=open_case, closed_on=started, reason_code="RC7", note="Closed"
    )
    with pytest.raises(InvalidInput, match="is closed, so nothing new can be recorded"):
        record(actor=worker, case=open_case, started_on=started)
    assert not Section47Enquiry.objects.exists()
