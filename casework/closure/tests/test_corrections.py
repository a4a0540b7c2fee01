"""A signed summary is never edited: a correction is a new version, linked to the one it
corrects, signed again by everyone (R000-09, X-05)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from casework.accounts.models import User
from casework.cases.models import Case
from casework.closure.documents import signed_document_pdf
from casework.closure.models import SignedDocument
from casework.closure.services import (
    closure_decide,
    closure_propose,
    content_hash,
    form_save_draft,
    form_submit,
    summary_correct,
    summary_sign,
)
from casework.core.errors import Conflict, InvalidInput, NotFound


def _closed_with_signed_summary(case: Case, worker: User, manager: User) -> SignedDocument:
    closure = closure_propose(actor=worker, case=case, reason_id="no-longer-in-need")
    closure = closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closing-summary",
        answers={
            "reason_for_closure": "Needs met",
            "achieved": "School attendance 97%",
        },
    )
    form_submit(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=worker, closure=closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=closure, form_id="closing-summary")
    return SignedDocument.objects.get(closure=closure)


def test_r000_09_correction_is_a_new_linked_version_signed_again(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-09: after both signatures the summary cannot be edited; a correction made after
    the case closed is version 2, linked to version 1, and both sign it again. Version 1's
    content, hash and PDF are unchanged."""
    bind("004-transfer-and-closure")
    original = _closed_with_signed_summary(child_case, worker, manager)
    child_case.refresh_from_db()
    assert child_case.status == "closed"
    first_hash = original.content_hash

    corrected = summary_correct(
        actor=manager,
        document=original,
        reason="Wrong figure",
        answers={"achieved": "School attendance 95%"},
    )
    assert (corrected.version, corrected.supersedes_id) == (2, original.pk)
    original.refresh_from_db()
    assert original.content_hash == first_hash == content_hash(original.content)
    assert "97%" in str(original.content)
    assert corrected.content_hash != first_hash
    assert not corrected.signatures.exists()

    summary_sign(actor=worker, closure=corrected.closure, form_id="closing-summary")
    summary_sign(actor=manager, closure=corrected.closure, form_id="closing-summary")
    assert {s.role for s in corrected.signatures.all()} == {"social_worker", "team_manager"}
    assert b"%PDF" in signed_document_pdf(corrected)[:8]

    with pytest.raises(Conflict, match="newer version"):
        summary_correct(actor=manager, document=original, reason="Again", answers={"achieved": "x"})


def test_r000_09_a_correction_needs_a_reason_and_a_change_from_a_signer(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    outsider: User,
) -> None:
    bind("004-transfer-and-closure")
    original = _closed_with_signed_summary(child_case, worker, manager)
    with pytest.raises(InvalidInput) as refused:
        summary_correct(
            actor=worker,
            document=original,
            reason="",
            answers={"achieved": "School attendance 97%"},
        )
    messages = str(refused.value)
    assert "Say what is corrected" in messages
    assert "Nothing was changed" in messages
    assert SignedDocument.objects.filter(closure=original.closure).count() == 1
    # Someone without need to know is told nothing exists (not "forbidden").
    with pytest.raises(NotFound):
        summary_correct(actor=outsider, document=original, reason="x", answers={"achieved": "y"})


def test_reopening_is_a_new_referral_never_an_edit_of_history(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-01: a closed case stays closed with its signed summary; a family coming back is
    a new case from a new referral, and nothing can be recorded on the closed one."""
    import datetime as dt

    from django.utils import timezone

    from casework.cases.services import case_open, visit_record

    bind("004-transfer-and-closure")
    original = _closed_with_signed_summary(child_case, worker, manager)
    today = timezone.localdate()
    with pytest.raises(InvalidInput, match="is closed"):
        visit_record(actor=worker, case=child_case, visited_on=today, subject_seen=True)
    again = case_open(
        actor=worker,
        subject=child_case.subject,
        team=child_case.responsible_team,
        received_on=today - dt.timedelta(days=0),
        source="2A",
        reason="New concern",
    )
    child_case.refresh_from_db()
    assert again.pk != child_case.pk
    assert (child_case.status, again.status) == ("closed", "open")
    assert SignedDocument.objects.get(pk=original.pk).content_hash == original.content_hash
