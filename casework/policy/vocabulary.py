"""The closed vocabularies a pack may use: events that start timescales and trigger
notifications, situations that trigger routing, pre-fill sources and retention triggers.
Workflow code emits exactly these names; packs are validated against them on load."""

from __future__ import annotations

EVENTS: dict[str, str] = {
    "case.opened": "A case was opened from a contact or referral.",
    "referral.received": "A new contact or referral was recorded.",
    "manager_decision.advise_closure": "A Manager's Decision or supervision advised closure.",
    "closure.proposed": "The worker proposed closure.",
    "closure.discussed": "The closure discussion was held.",
    "closure.agreed": "The manager agreed the closure.",
    "closure.further_actions": "The manager asked for further actions before closure.",
    "closure.summary_completed": "The closing summary or closure record was completed.",
    "closure.audited": "The checklist audit was completed.",
    "closure.authorised": "The closure was authorised.",
    "closure.signed": "Every signature the pack asks for is on the summary.",
    "closure.closed": "The case closed.",
    "closure.withdrawn": "The proposal was withdrawn.",
    "closure.escalated": "A gate with effect 'escalate' was found outstanding.",
    "closure.rejected": "The proposal was rejected.",
    "transfer.requested": "A transfer was requested.",
    "transfer.discussed": "The team manager discussed the transfer request.",
    "transfer.summary_completed": "The transfer summary was completed.",
    "transfer.authorised": "The sending manager authorised the transfer.",
    "transfer.accepted": "The receiving team accepted the case.",
    "transfer.declined": "The receiving team declined the case.",
    "transfer.completed": "Case responsibility moved to the receiving team.",
    "cin_review.held": "A child in need review was held.",
    "step_down.requested": "A request for early help was made.",
    "step_down.decided": "The early help duty manager decided the request.",
    "escalation.requested": "Early help asked for statutory services.",
    "escalation.decided": "The receiving team decided the escalation.",
    "case.placed_out_of_area": "A looked-after child was placed in another authority's area.",
    "case.moved_out_of_area": "The family moved to another authority's area.",
    "case.open_three_months": "Another three months passed with the case open.",
}

ROUTING_TRIGGERS: dict[str, str] = {
    "new_referral": "A contact or referral about a child arrives at the front door.",
    "re_referral": "A referral arrives for a child whose earlier case is closed.",
    "cp_plan_made_at_icpc": "An initial child protection conference made a CP plan.",
    "cp_plan_ended_cin_plan_made": "A CP plan ended and a child in need plan was made.",
    "child_accommodated": "The child became looked after (accommodated).",
    "first_looked_after_review": "The first looked-after review was held.",
    "letter_before_proceedings": "A letter before proceedings was sent.",
    "care_order_made": "A care order was made at the end of proceedings.",
    "section20_long_term_fostering": "Legal gateway agreed long-term fostering under section 20.",
    "disabled_child_meets_criteria": "A disabled child meets the disabilities team's criteria.",
    "court_report_ordered": "A court ordered a section 7 or section 37 report.",
    "private_fostering": "A private fostering arrangement was notified.",
    "family_assistance_order": "A court made a family assistance order.",
    "high_risk_of_care": "A child is at high risk of becoming looked after imminently.",
    "supervision_order": "A supervision order was made.",
}

PREFILL_SOURCES: dict[str, str] = {
    "household_members": "Everyone living with the subject: names, dates of birth, relationship.",
    "agencies_involved": "The professionals and agencies currently involved.",
    "period_covered": "From the case's opening date to today.",
    "contact_frequency": "How often the subject was visited, computed from the visits.",
    "lead_professional": "The lead professional's name, designation and agency.",
    "current_address": "The subject's current address.",
    "last_visit": "The date and details of the latest visit.",
    "final_meeting_date": "The date of the final meeting with the family, if recorded.",
    "plans_and_outcomes": "The plans on the case with their dates and recorded outcomes.",
    "reasons_for_involvement": "The reasons given on the contacts and referrals.",
}

RETENTION_TRIGGERS: dict[str, str] = {
    "date_of_birth": "The subject's date of birth (e.g. kept until the 75th birthday).",
    "date_of_death": "The subject's date of death.",
    "case_closed": "The date the case closed.",
    "adoption_order": "The date of the adoption order.",
    "end_of_care": "The date care and support ended (adults).",
    "last_contact": "The date of the last recorded contact.",
}

REQUIREMENT_ID_PATTERN = r"^(R\d{3}|X)-\d{2}$"
