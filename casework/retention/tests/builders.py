"""Closed records made through the services, for the retention tests."""

from __future__ import annotations

import datetime as dt

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_close_imported, case_open, plan_end, plan_start
from casework.organisation.models import Team
from casework.people.models import Person
from casework.people.services import person_create

D = dt.date
BORN = D(2010, 5, 4)


def person(
    worker: User,
    given: str = "Robin",
    family: str = "Sample",
    *,
    born: dt.date | None = BORN,
    died: dt.date | None = None,
    local_id: str | None = None,
    nhs_number: str = "",
) -> Person:
    return person_create(
        actor=worker,
        given_name=given,
        family_name=family,
        date_of_birth=born,
        date_of_death=died,
        sex="F",
        local_id=local_id,
        nhs_number=nhs_number,
    )


def open_case(worker: User, team: Team, subject: Person, opened: dt.date) -> Case:
    return case_open(
        actor=worker,
        subject=subject,
        team=team,
        received_on=opened,
        source="2A",
        reason="School raised concerns about attendance.",
        primary_need="N1",
        allocated_worker=worker,
    )


def close(worker: User, case: Case, closed: dt.date, code: str = "RC7") -> Case:
    return case_close_imported(
        actor=worker, case=case, closed_on=closed, reason_code=code, note="Closed earlier."
    )


def closed_case(
    worker: User,
    team: Team,
    subject: Person,
    opened: dt.date,
    closed: dt.date,
    *,
    plan: str = "",
    code: str = "RC7",
) -> Case:
    """A case opened and closed on these dates, with a plan of `plan` kind ('cp', 'lac',
    'cin') running through it if given."""
    case = open_case(worker, team, subject, opened)
    if plan:
        extra = {"cp": {"category": "NEG"}, "lac": {"legal_status": "C2"}}.get(plan, {})
        started = plan_start(actor=worker, case=case, kind=plan, started_on=opened, **extra)
        plan_end(actor=worker, plan=started, ended_on=closed)
    return close(worker, case, closed, code)
