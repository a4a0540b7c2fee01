"""A family comes back (R003-07, R004-03): the last closure summary is at hand, the three
judgements are recorded, and routing sends a quick return to SGCP back to SGCP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_open
from casework.closure.services import (
    closure_decide,
    closure_propose,
    form_save_draft,
    form_submit,
    summary_sign,
)
from casework.core.errors import InvalidInput
from casework.organisation.models import Authority, Role, Team, TeamFunction
from casework.people.services import person_create, person_move_in, phone_number_add
from casework.policy.services import pack_bind
from casework.transfers.rereferral import coming_back, re_referral_review_record
from casework.transfers.services import transfer_recommendation


@pytest.fixture
def sgcp_staff(
    authority: Authority, make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> tuple[Team, User, User]:
    for purpose, pack in (
        ("closure", "004-transfer-and-closure"),
        ("transfer", "004-transfer-and-closure"),
    ):
        pack_bind(
            actor=None, authority=authority, service_area="children", purpose=purpose, pack_id=pack
        )
    team = make_team("sgcp", TeamFunction.SAFEGUARDING_CARE_PLANNING)
    return team, make_staff("sgcpworker", team), make_staff("sgcpmanager", team, Role.TEAM_MANAGER)


def _closed_by_sgcp(team: Team, worker: User, manager: User, *, opened: dt.date) -> Case:
    child = person_create(
        actor=worker, given_name="Ash", family_name="Example", date_of_birth=dt.date(2014, 5, 5)
    )
    person_move_in(
        actor=worker,
        person=child,
        line_1="6 Example Street",
        town="Testford",
        postcode="TE6 6EX",
        started_on=dt.date(2014, 5, 5),
    )
    phone_number_add(actor=worker, person=child, number="07700 900456")
    case = case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=opened,
        source="6",
        reason="Domestic abuse notification",
        allocated_worker=worker,
    )
    closure = closure_propose(actor=worker, case=case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={
            "reason_for_closure": "Risks reduced",
            "achieved": "Safety plan in place",
            "continuing_support": "School nurse weekly",
        },
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    case.refresh_from_db()
    assert case.status == "closed"
    return case


def test_r003_07_front_door_sees_the_last_summary_and_records_three_judgements(
    sgcp_staff: tuple[Team, User, User], authority: Authority
) -> None:
    """R003-07: when the family comes back, the new case shows the last signed closure
    summary (what support was handed over) and flags a re-referral within 12 months of the
    previous referral; the worker must answer the three questions of the bound procedure."""
    team, worker, manager = sgcp_staff
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), tick=False):
        earlier = _closed_by_sgcp(team, worker, manager, opened=dt.date(2026, 1, 5))
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    today = timezone.localdate()
    again = case_open(
        actor=worker,
        subject=earlier.subject,
        team=team,
        received_on=today,
        source="2A",
        reason="School worried again",
    )
    back = coming_back(worker, again)
    assert back is not None
    assert back.previous_case == earlier
    assert back.heading("continuing_support") == "School nurse weekly"
    assert back.is_re_referral is (today - dt.date(2026, 1, 5) <= dt.timedelta(days=365))
    with pytest.raises(InvalidInput) as missing:
        re_referral_review_record(actor=worker, case=again, answers={})
    assert set(missing.value.by_field()) == {
        "further_statutory_intervention_needed",
        "parent_following_arrangements",
        "agencies_completed_support",
        "analysis",
    }
    review = re_referral_review_record(
        actor=worker,
        case=again,
        answers={
            "further_statutory_intervention_needed": True,
            "parent_following_arrangements": False,
            "agencies_completed_support": True,
            "analysis": "The safety plan lapsed when the school nurse left.",
        },
    )
    assert review.previous_summary == back.summary


def test_r004_03_a_return_within_three_months_of_sgcp_closing_routes_to_sgcp(
    sgcp_staff: tuple[Team, User, User],
) -> None:
    """R004-03: a re-referral within three months of SGCP closing goes back to SGCP."""
    team, worker, manager = sgcp_staff
    today = timezone.localdate()
    earlier = _closed_by_sgcp(team, worker, manager, opened=today - dt.timedelta(days=60))
    again = case_open(
        actor=worker,
        subject=earlier.subject,
        team=team,
        received_on=today,
        source="2A",
        reason="New concern",
    )
    recommendation = transfer_recommendation(worker, again, "re_referral")
    assert recommendation is not None
    assert recommendation.team == "sgcp"
    assert recommendation.rule.id == "re-referral-after-sgcp"
