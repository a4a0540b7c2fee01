"""A family comes back (R003-07): the front door sees the last closure summary beside the
new referral, records its three judgements, and the re-referral is flagged by the national
definition (a referral within 12 months of a previous referral)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from casework.access.policy import case_again, case_for
from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.cases.models import Case, Referral
from casework.closure.models import SignedDocument
from casework.core.errors import InvalidInput, Problem
from casework.policy.answers import answer_problems
from casework.policy.caseview import AlreadyRead, build_case_view, previous_case
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import form_fields
from casework.policy.loader import PolicyPack
from casework.policy.models import PackPurpose
from casework.policy.services import bound_pack
from casework.transfers.models import ReReferralReview

RE_REFERRAL_WINDOW = dt.timedelta(days=365)
REVIEW_FORM = "re-referral-review"


@dataclass(frozen=True)
class ComingBack:
    """The earlier episode a new referral should be read against."""

    previous_case: Case
    summary: SignedDocument | None
    is_re_referral: bool  # within 12 months of a previous referral (DfE definition)

    def heading(self, heading_id: str) -> Any:
        if self.summary is None:
            return None
        return next(
            (h["answer"] for h in self.summary.content["headings"] if h["id"] == heading_id), None
        )


def coming_back(
    actor: User, case: Case, *, already_read: AlreadyRead | None = None
) -> ComingBack | None:
    """For a case opened from a referral, the subject's last closed case in the same service
    and its last signed summary; None for a first referral. The case page passes what it
    has already read (the previous case among it)."""
    case = case_again(actor, case)
    if already_read is not None and already_read.case.pk != case.pk:
        raise ValueError("The records already read are of another case.")
    previous = already_read.previous if already_read is not None else previous_case(case)
    if previous is None:
        return None
    summary = (
        SignedDocument.objects.filter(closure__case=previous)
        .exclude(form_id__startswith="checklist:")
        .order_by("-closure__created_at", "-version")
        .first()
    )
    first_referral = (
        case.referrals.order_by("received_on").values_list("received_on", flat=True).first()
    )
    earlier = Referral.objects.filter(case__subject=case.subject).exclude(case=case)
    latest_earlier = earlier.order_by("-received_on").values_list("received_on", flat=True).first()
    within = bool(
        first_referral and latest_earlier and first_referral - latest_earlier <= RE_REFERRAL_WINDOW
    )
    return ComingBack(previous, summary, within)


def review_pack(case: Case) -> PolicyPack | None:
    """The bound closure procedure, if it has a re-referral review form."""
    pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.CLOSURE)
    return pack if pack is not None and REVIEW_FORM in pack.spec.forms else None


@transaction.atomic
def re_referral_review_record(
    *, actor: User, case: Case, answers: dict[str, Any]
) -> ReReferralReview:
    """Record the front door's three judgements against the last closure summary, using the
    bound closure procedure's re-referral form."""
    case = case_for(actor, case.pk)
    back = coming_back(actor, case)
    if back is None:
        raise InvalidInput("This child has no earlier closed case to compare with.")
    pack = review_pack(case)
    if pack is None:
        raise InvalidInput(
            "The closure procedure in use has no re-referral review form. Ask an administrator."
        )
    states = form_fields(pack, REVIEW_FORM, EvaluationContext(build_case_view(case)), answers)
    problems = [
        Problem(s.field.id, f"Answer '{s.field.label}'.")
        for s in states
        if s.shown and s.field.required and answers.get(s.field.id) in (None, "")
    ]
    problems = answer_problems(pack.spec.forms[REVIEW_FORM], answers) + problems
    if problems:
        raise InvalidInput(problems)
    review = ReReferralReview.objects.create(
        case=case,
        previous_case=back.previous_case,
        previous_summary=back.summary,
        pack_id=pack.id,
        answers=answers,
        recorded_by=actor,
    )
    needed = answers.get("further_statutory_intervention_needed")
    audit_record(
        actor=actor,
        verb="referral.re_referral_reviewed",
        category=AuditCategory.REFERRAL,
        obj=review,
        case=case,
        person=case.subject,
        summary="Re-referral reviewed against the last closure summary: further statutory "
        f"intervention {'needed' if needed else 'not needed'}",
    )
    return review
