"""Race safety and atomicity: two managers authorising at once give exactly one
authorisation and one clean refusal, on SQLite and PostgreSQL alike, and a failure part-way
through a transition leaves nothing half-done."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case
from casework.cases.services import case_complexity_decide
from casework.closure.models import Closure, ClosureState, StepRecord
from casework.closure.services import (
    checklist_answer,
    checklist_complete,
    closure_authorise,
    closure_decide,
    closure_propose,
    closure_step_complete,
    form_save_draft,
    form_submit,
)
from casework.core.errors import Conflict, InvalidInput
from casework.organisation.models import Role, Team

TODAY = timezone.localdate()


def _ready_to_authorise(case: Case, worker: User, manager: User) -> Closure:
    """Drive a procedure-000 closure up to the authorisation step."""
    closure = closure_propose(actor=worker, case=case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    case_complexity_decide(actor=manager, case=case, is_complex=False, reason="Single issue")
    closure_step_complete(actor=manager, closure=closure, step_id="decide-complexity")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={
            "agreed_outcome": "Attendance above 95%",
            "outcome_evidence": "School data, May",
            "outcome_achieved": True,
            "reasons_for_closure": "Outcome achieved",
        },
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    closure_step_complete(actor=worker, closure=closure, step_id="present-for-closure")
    for item in ("recording-up-to-date", "household-recorded", "plans-ended", "decision-on-file"):
        checklist_answer(
            actor=manager,
            closure=closure,
            checklist_id="supervisor-audit",
            item_id=item,
            answer="yes",
            note="Checked the record",
        )
    checklist_complete(actor=manager, closure=closure, checklist_id="supervisor-audit")
    return Closure.objects.get(pk=closure.pk)


@pytest.mark.django_db(transaction=True)
def test_two_managers_authorising_at_once_give_one_authorisation_and_one_refusal(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    make_staff: Callable[..., User],
    team_ai: Team,
) -> None:
    """Both managers press "authorise" together: exactly one succeeds; the other is told
    plainly that someone else acted (or that it is already authorised). Never two."""
    bind("000-closing-cases")
    second_manager = make_staff("manager2", team_ai, Role.TEAM_MANAGER)
    closure = _ready_to_authorise(child_case, worker, manager)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def authorise(user: User) -> None:
        try:
            barrier.wait(timeout=10)
            closure_authorise(actor=user, closure=closure)
            outcomes.append("authorised")
        except (Conflict, InvalidInput) as refusal:
            outcomes.append(f"refused: {refusal}")
        finally:
            connection.close()

    threads = [threading.Thread(target=authorise, args=(u,)) for u in (manager, second_manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["authorised", "refused"], outcomes
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.AUTHORISED
    assert StepRecord.objects.filter(closure=closure, step_id="authorise").count() == 1
    assert AuditEvent.objects.filter(verb="closure.authorised", case=child_case).count() == 1


def test_a_failure_mid_transition_leaves_no_partial_state(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If anything fails after the state has changed (here: scheduling what follows), the
    whole authorisation is undone: state, step record, audit event and tasks."""
    bind("000-closing-cases")
    closure = _ready_to_authorise(child_case, worker, manager)
    events_before = AuditEvent.objects.count()

    def broken_emit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the notification service fell over")

    monkeypatch.setattr("casework.closure.services._emit", broken_emit)
    with pytest.raises(RuntimeError):
        closure_authorise(actor=manager, closure=closure)
    closure.refresh_from_db()
    assert closure.state == ClosureState.AGREED
    assert not StepRecord.objects.filter(closure=closure, step_id="authorise").exists()
    assert AuditEvent.objects.count() == events_before


def test_a_proposal_the_one_active_closure_rule_refuses_is_a_clean_conflict(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R000-01: two proposals at the same moment both pass the "none in progress" check; the
    database's one-active-closure rule lets one in. The other is a Conflict that says what to
    do, leaves nothing of itself (no step, no audit event, no notification), and leaves the
    caller's transaction usable: a web view or the API goes on to answer in it."""
    bind("000-closing-cases")
    first = closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    events, steps = AuditEvent.objects.count(), StepRecord.objects.count()
    # The second proposer read "none in progress" before the first committed.
    monkeypatch.setattr("casework.closure.services._ACTIVE_CLOSURE.exists", lambda case_id: False)
    with pytest.raises(Conflict, match="Someone else has just proposed closing this case"):
        closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    assert list(Closure.objects.filter(case=child_case)) == [first]
    assert (AuditEvent.objects.count(), StepRecord.objects.count()) == (events, steps)
