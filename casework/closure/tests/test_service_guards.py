"""Guards on the closure services: the wrong person, the wrong moment or a repeated action
gets a plain refusal, never a server error or a second record."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from casework.accounts.models import User
from casework.cases.models import Case
from casework.cases.services import case_open, supervision_record
from casework.closure.models import Closure, ClosureState, GateAgreement
from casework.closure.services import (
    closure_decide,
    closure_propose,
    form_save_draft,
    gate_agree,
)
from casework.core.errors import Conflict, InvalidInput, NotPermitted
from casework.organisation.models import Role, Team, TeamFunction
from casework.people.services import person_create

TODAY = timezone.localdate()


def test_only_the_forms_own_role_can_write_its_draft(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    make_team: Callable[..., Team],
) -> None:
    """Business support can see every case but does not write the worker's summary."""
    bind("003-ending-interventions")
    support = make_staff(
        "support",
        make_team("cbs", TeamFunction.BUSINESS_SUPPORT, holds_cases=False),
        Role.BUSINESS_SUPPORT,
    )
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    with pytest.raises(NotPermitted, match="social worker"):
        form_save_draft(
            actor=support,
            closure=closure,
            form_id="ending-evidence",
            answers={"family_strategies": "overwritten"},
        )
    with pytest.raises(InvalidInput, match="not part of this closure"):
        form_save_draft(actor=worker, closure=closure, form_id="re-referral-review", answers={})


def test_r002_13_an_agreement_is_given_once_and_only_when_needed(
    bind: Callable[[str, str], None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R002-13: a service manager agrees to close for a client never seen; a second
    agreement is refused plainly, as is agreeing a condition the record already meets."""
    team = make_team("north", TeamFunction.ADULTS_LOCALITY, service_area="adults")
    worker = make_staff("aw", team)
    manager = make_staff("am", team, Role.TEAM_MANAGER)
    senior = make_staff(
        "asm",
        make_team("asm", TeamFunction.OTHER, service_area="adults", holds_cases=False),
        Role.SERVICE_MANAGER,
    )
    bind("002-adults-closure", "adults")
    client = person_create(
        actor=worker, given_name="Sam", family_name="Example", date_of_birth=dt.date(1948, 2, 2)
    )
    case = case_open(
        actor=worker,
        subject=client,
        team=team,
        received_on=TODAY - dt.timedelta(days=60),
        source="3A",
        reason="Support",
        allocated_worker=worker,
    )
    supervision_record(actor=manager, case=case, held_on=TODAY, discussion="Closing")
    closure = closure_propose(actor=worker, case=case, reason_id="goals-achieved")
    with pytest.raises(NotPermitted, match="service manager or head of service"):
        gate_agree(actor=manager, closure=closure, gate_id="never-seen", note="Fine")
    gate_agree(actor=senior, closure=closure, gate_id="never-seen", note="Phone contact only")
    with pytest.raises(InvalidInput, match="already been agreed"):
        gate_agree(actor=senior, closure=closure, gate_id="never-seen", note="Again")
    with pytest.raises(InvalidInput, match="already meets"):
        gate_agree(
            actor=senior, closure=closure, gate_id="high-risk-seen-face-to-face", note="Not needed"
        )
    assert GateAgreement.objects.filter(closure=closure).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_proposals_at_once_give_one_closure_and_one_refusal(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    make_staff: Callable[..., User],
    team_ai: Team,
) -> None:
    """Two workers press "propose" together: one closure, and a plain refusal."""
    bind("003-ending-interventions")
    colleague = make_staff("colleague", team_ai)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def propose(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            closure_propose(actor=user, case=child_case, reason_id="no-longer-in-need")
            outcomes.append("proposed")
        except (Conflict, InvalidInput):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=propose, args=(u,)) for u in (worker, colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["proposed", "refused"]
    assert Closure.objects.filter(case=child_case, state=ClosureState.PROPOSED).count() == 1


def test_r000_09_one_person_cannot_give_both_signatures(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-09: the caseworker and the supervisor sign. A manager who signs first signs as
    the manager, and cannot then sign again as the worker."""
    from casework.closure.models import Signature
    from casework.closure.services import form_submit, summary_sign

    bind("004-transfer-and-closure")
    closure = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={"reason_for_closure": "Needs met", "achieved": "Goals met"},
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    first = summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert first.role == Role.TEAM_MANAGER
    with pytest.raises(NotPermitted, match="already signed"):
        summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.AGREED
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    assert sorted(Signature.objects.values_list("role", flat=True)) == [
        "social_worker",
        "team_manager",
    ]
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.CLOSED
