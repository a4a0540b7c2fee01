"""The closure screens through Django's test client: each page renders for the role that
uses it, POSTs go through the services and redirect with a success banner, a role that may
not act gets a plain 403 page, gates that block are shown as a GOV.UK error summary, and the
managers' queue runs a constant number of queries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case, NoteKind
from casework.cases.services import (
    assessment_complete,
    assessment_start,
    case_complexity_decide,
    case_open,
    decision_record,
    document_upload,
    meeting_record,
    note_add,
    plan_end,
    plan_start,
    supervision_record,
)
from casework.closure.models import (
    ChecklistAnswer,
    Closure,
    ClosureState,
    FormResponse,
    GateAgreement,
    SignedDocument,
    StepRecord,
)
from casework.closure.services import (
    closure_decide,
    closure_propose,
    closure_step_complete,
    form_save_draft,
    form_submit,
    summary_sign,
)
from casework.organisation.models import Role, ServiceArea, Team, TeamFunction
from casework.people.models import Person
from casework.people.services import person_create
from casework.policy.loader import load_pack

TODAY = timezone.localdate()
SUMMARY = "case-closure-summary"


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, case: Case, **params: str) -> str:
    base = reverse(name, kwargs={"case_id": case.pk})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def html(response: Any) -> str:
    return str(response.content.decode())


def banner(client: Client, response: Any) -> str:
    """Follow a redirect and return the page it lands on."""
    page = html(response)
    assert response.status_code == 302, page[page.find("<main") :][:3000]
    return html(client.get(response["Location"]))


def agreed_003(case: Case, worker: User, manager: User) -> Closure:
    closure = closure_propose(actor=worker, case=case, reason_id="no-longer-in-need")
    return closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")


def final_meeting(case: Case, worker: User) -> None:
    meeting_record(
        actor=worker,
        case=case,
        kind="final",
        held_on=TODAY,
        attendees=[{"name": "Parent", "role": "mother"}, {"name": "School", "role": "head"}],
        minutes="Reasons for closure explained; family feedback heard.",
    )


def seven_points_submitted(worker: User, closure: Closure) -> None:
    """Procedure 003 writes the summary after the seven points are evidenced."""
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="ending-evidence",
        answers={
            "family_can_meet_needs": "Routines are stable",
            "why_no_longer_required": "Goals met",
            "family_strategies": "Grandmother will help",
            "sustainability_confidence": "High",
            "decision_understood": True,
            "safety_plan_score": 8,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")


def summary_submitted(case: Case, worker: User, closure: Closure) -> None:
    final_meeting(case, worker)
    seven_points_submitted(worker, closure)
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id=SUMMARY,
        answers={
            "intervention_and_impact": "Parenting work helped",
            "safety_plan": "School will watch",
            "minutes_uploaded": True,
        },
    )
    form_submit(actor=worker, closure=closure, form_id=SUMMARY)


# --- adults (procedure 002) ----------------------------------------------------------------


def adult_staff(
    make_team: Callable[..., Team], make_staff: Callable[..., User]
) -> tuple[User, User, User]:
    """An adults' locality team's worker and manager, and a service manager for adults."""
    team = make_team("asc", TeamFunction.ADULTS_LOCALITY, service_area=ServiceArea.ADULTS)
    senior_team = make_team(
        "asm", TeamFunction.OTHER, service_area=ServiceArea.ADULTS, holds_cases=False
    )
    return (
        make_staff("aworker", team),
        make_staff("amanager", team, Role.TEAM_MANAGER),
        make_staff("asenior", senior_team, Role.SERVICE_MANAGER),
    )


def adult_case_never_seen(worker: User, manager: User) -> Case:
    """An adult's case with a Care Act assessment done, sent and authorised, a closure
    discussion and supervision recorded, but no visit at which the client was seen."""
    client: Person = person_create(
        actor=worker,
        given_name="Edna",
        family_name="Client",
        date_of_birth=TODAY - dt.timedelta(days=82 * 365),
        sex="F",
        ethnicity="WBRI",
        ethnicity_asked=True,
    )
    team = worker.memberships.get().team
    case = case_open(
        actor=worker,
        subject=client,
        team=team,
        received_on=TODAY - dt.timedelta(days=200),
        source="3A",
        reason="GP asked for a Care Act assessment after a fall at home.",
        allocated_worker=worker,
    )
    assessment = assessment_start(
        actor=manager, case=case, kind="care_act", started_on=TODAY - dt.timedelta(days=90)
    )
    assessment_complete(
        actor=manager,
        assessment=assessment,
        completed_on=TODAY - dt.timedelta(days=70),
        outcome="Needs met by family support.",
        sent_to="Edna Client",
        authorise=True,
        eligible_unmet_needs=False,
    )
    note_add(
        actor=manager,
        case=case,
        title="Closure discussion",
        body="Discussed closure with the worker; outcomes achieved.",
        occurred_on=TODAY - dt.timedelta(days=1),
        kind=NoteKind.CLOSURE_DISCUSSION,
    )
    supervision_record(
        actor=manager,
        case=case,
        held_on=TODAY - dt.timedelta(days=3),
        discussion="Reviewed outcomes and the plan to close.",
    )
    return case


# --- readiness and proposal ----------------------------------------------------------------


def test_r000_03_readiness_panel_shows_each_gate_with_facts_and_where_to_record(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    """R000-03: before proposing, the case page lists the proposal gates met or not, why,
    where to record what is missing (a link to the case page section) and the facts read."""
    bind("000-closing-cases")
    plan = plan_start(
        actor=worker,
        case=child_case,
        kind="cp",
        category="NEG",
        started_on=TODAY - dt.timedelta(days=50),
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=10))
    page = html(client_for(worker).get(reverse("case-detail", args=[child_case.pk])))
    assert "Closing Cases (children)" in page
    assert "Seen alone, home visited, after the child protection plan ended" in page
    assert "Not met" in page
    assert "record a visit" in page
    assert f'href="/cases/{child_case.pk}/record/?what=visit"' in page
    assert "plans.cp.ever" in page
    assert "No plan is still open" in page
    assert "Propose closure" in page


def test_r000_03_a_blocked_proposal_shows_an_error_summary_and_changes_nothing(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    """R000-03: GateBlocked is a GOV.UK error summary naming each gate's explanation and
    linking to where it is recorded; no closure is created."""
    bind("000-closing-cases")
    plan = plan_start(
        actor=worker,
        case=child_case,
        kind="cp",
        category="NEG",
        started_on=TODAY - dt.timedelta(days=50),
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=10))
    client = client_for(worker)
    response = client.post(
        url("closure-propose", child_case), {"reason_id": "no-longer-in-need", "note": "Done"}
    )
    page = html(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert "<title>Error: " in page
    assert "This child was on a child protection plan" in page
    assert f'href="/cases/{child_case.pk}/record/?what=visit">Visits</a>' in page
    assert not Closure.objects.filter(case=child_case).exists()


def test_r000_01_proposing_redirects_to_the_task_list_with_a_success_banner(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    """R000-01, R000-02: the reasons are the pack's, with their national codes; a proposal
    redirects to the closure's task list with a success banner."""
    bind("003-ending-interventions")
    client = client_for(worker)
    form = html(client.get(url("closure-propose", child_case)))
    assert "Services ceased (including no longer in need) (RC7)" in form
    response = client.post(
        url("closure-propose", child_case), {"reason_id": "no-longer-in-need", "note": "Goals met"}
    )
    assert response["Location"] == url("closure-tasks", child_case)
    page = banner(client, response)
    assert "govuk-notification-banner--success" in page
    assert "Closure proposed" in page
    closure = Closure.objects.get(case=child_case)
    assert closure.state == ClosureState.PROPOSED
    assert closure.proposal_note == "Goals met"


def test_propose_without_a_reason_is_a_field_error(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    bind("003-ending-interventions")
    response = client_for(worker).post(url("closure-propose", child_case), {"note": ""})
    assert response.status_code == 200
    assert 'href="#id_reason_id"' in html(response)


def test_x02_every_closure_page_is_404_for_an_unrelated_user_with_any_parameters(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User, outsider: User
) -> None:
    """X-02: the query-string variants reach the same access check."""
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    client = client_for(outsider)
    for name, params in [
        ("closure-form", {"form": SUMMARY}),
        ("closure-form-check", {"form": SUMMARY}),
        ("closure-form-autosave", {"form": SUMMARY}),
        ("closure-checklist", {"checklist": "ending-checks"}),
        ("closure-step", {"step": "final-meeting"}),
        ("closure-agreement", {"gate": "final-meeting-recorded"}),
        ("closure-pdf", {}),
    ]:
        assert client.get(url(name, child_case, **params)).status_code == 404, name
    post = client.post(url("closure-form", child_case, form=SUMMARY), {"safety_plan": "x"})
    assert post.status_code == 404
    assert not FormResponse.objects.exists()


def test_case_page_queries_do_not_grow_with_the_record_when_a_procedure_is_bound(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    """The readiness panel evaluates the gates in a fixed number of queries."""
    from casework.cases.services import visit_record

    bind("000-closing-cases")
    client = client_for(worker)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("case-detail", args=[child_case.pk]))
        assert response.status_code == 200
        return len(captured)

    visit_record(actor=worker, case=child_case, visited_on=TODAY, subject_seen=True)
    queries()  # warm: the first page also reads the authority's calendar, which is then kept
    thin = queries()
    for n in range(1, 15):
        visit_record(
            actor=worker,
            case=child_case,
            visited_on=TODAY - dt.timedelta(days=n),
            subject_seen=True,
            seen_alone=True,
            home_visited=True,
        )
    plan = plan_start(
        actor=worker,
        case=child_case,
        kind="cp",
        category="NEG",
        started_on=TODAY - dt.timedelta(days=30),
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=20))
    assert queries() == thin


# --- task list, decision, further actions ---------------------------------------------------


def test_x03_task_list_shows_every_step_its_role_due_date_and_links_for_the_role(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """X-03, R000-10: every step in order with its status and who does it; the decision's
    due date comes from the task the pack scheduled; only the manager gets the decision
    link."""
    bind("000-closing-cases")
    closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    worker_page = html(client_for(worker).get(url("closure-tasks", child_case)))
    for label in (
        "Propose closure with a reason",
        "Discuss the case and agree whether closure can take place",
        "Write the closing summary",
        "Authorise and date the closing summary",
        "Caseworker and supervisor sign and date the closing summary",
    ):
        assert label in worker_page
    assert worker_page.index("Write the closing summary") < worker_page.index("Authorise and")
    assert "Done by the team manager" in worker_page
    assert "Due " in worker_page
    assert "Cannot start yet" in worker_page
    decide_url = url("closure-decide", child_case)
    assert f'href="{decide_url}"' not in worker_page
    manager_page = html(client_for(manager).get(url("closure-tasks", child_case)))
    assert f'href="{decide_url}"' in manager_page


def test_a_worker_cannot_decide_and_gets_a_plain_403_page(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    bind("003-ending-interventions")
    closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    client = client_for(worker)
    page = html(client.get(url("closure-decide", child_case)))
    assert "Waiting for the team manager" in page
    response = client.post(
        url("closure-decide", child_case), {"outcome": "agreed", "note": "I agree with myself"}
    )
    assert response.status_code == 403
    assert "Only the team manager can decide on the closure" in html(response)
    assert Closure.objects.get(case=child_case).state == ClosureState.PROPOSED


def test_r000_10_manager_agrees_with_the_closure_discussion(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    bind("003-ending-interventions")
    closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    client = client_for(manager)
    missing_note = client.post(url("closure-decide", child_case), {"outcome": "agreed"})
    assert "Record the closure discussion" in html(missing_note)
    response = client.post(
        url("closure-decide", child_case),
        {"outcome": "agreed", "note": "Discussed in supervision: agreed"},
    )
    assert "Closure agreed" in banner(client, response)
    closure = Closure.objects.get(case=child_case)
    assert closure.state == ClosureState.AGREED
    assert StepRecord.objects.get(closure=closure, step_id="manager-decision").note == (
        "Discussed in supervision: agreed"
    )


def test_further_actions_one_per_line_then_done_and_resubmitted(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """The manager lists further actions one per line; the worker records each and sends
    the closure back for a decision."""
    bind("003-ending-interventions")
    closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    manager_client = client_for(manager)
    manager_client.post(
        url("closure-decide", child_case),
        {
            "outcome": "further_actions",
            "note": "Not yet",
            "actions": "Visit the school\r\n\r\nCall the GP\r\n",
        },
    )
    closure = Closure.objects.get(case=child_case)
    assert closure.state == ClosureState.FURTHER_ACTIONS
    actions = list(closure.actions.order_by("id"))
    assert [a.description for a in actions] == ["Visit the school", "Call the GP"]

    client = client_for(worker)
    page = html(client.get(url("closure-further-actions", child_case)))
    assert "Visit the school" in page
    assert "Send the closure back" not in page
    for action in actions:
        response = client.post(
            url("closure-further-actions", child_case),
            {"action_id": str(action.pk), "note": "Done today"},
        )
        assert f"Recorded as done: {action.description}" in banner(client, response)
    response = client.post(url("closure-further-actions", child_case), {"resubmit": "1"})
    assert "Closure resubmitted" in banner(client, response)
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.PROPOSED


def test_withdrawing_keeps_the_case_open(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    bind("003-ending-interventions")
    closure_propose(actor=worker, case=child_case, reason_id="no-longer-in-need")
    client = client_for(worker)
    assert "Say why" in html(client.post(url("closure-withdraw", child_case), {"reason": ""}))
    response = client.post(url("closure-withdraw", child_case), {"reason": "Family moved back"})
    assert response["Location"] == reverse("case-detail", args=[child_case.pk])
    assert "Closure withdrawn" in banner(client, response)
    assert Closure.objects.get(case=child_case).state == ClosureState.WITHDRAWN


# --- steps, forms and autosave --------------------------------------------------------------


def test_r003_01_meeting_step_needs_the_meeting_on_record(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R003-01: the final meeting step can be marked done only once the meeting is recorded."""
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    client = client_for(worker)
    step_url = url("closure-step", child_case, step="final-meeting")
    response = client.post(step_url, {"note": ""})
    assert "Record the meeting on the case first" in html(response)
    final_meeting(child_case, worker)
    assert "2 attended, minutes recorded" in html(client.get(step_url))
    response = client.post(step_url, {"note": "Held at home"})
    assert "Done: Hold the final meeting" in banner(client, response)


def test_r003_04_form_shows_prefilled_headings_until_the_worker_edits_them(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R003-04, R000-06: headings the pack fills from the record arrive filled, marked with
    their source; saving the draft unchanged keeps the mark (line breaks as the browser
    sends them); editing the heading removes it."""
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    final_meeting(child_case, worker)
    client = client_for(worker)
    form_url = url("closure-form", child_case, form=SUMMARY)
    page = html(client.get(form_url))
    assert "Filled from the record: The reasons given on the contacts and referrals." in page
    assert "Filled from the record: The date of the final meeting" in page
    assert "School raised concerns about attendance" in page
    assert f'value="{TODAY.isoformat()}"' in page
    assert "casework/autosave.js" in page
    assert 'data-autosave-url="' in page

    reason = (
        page.split('id="id_reason_for_intervention"')[1].split(">", 1)[1].split("</textarea>")[0]
    )
    posted = {
        "reason_for_intervention": reason.strip().replace("\n", "\r\n"),
        "intervention_and_impact": "Parenting work helped",
        "safety_plan": "",
        "final_meeting_date": TODAY.isoformat(),
        "minutes_uploaded": "yes",
        "save": "1",
    }
    response = client.post(form_url, posted)
    assert "Draft saved" in banner(client, response)
    draft = FormResponse.objects.get(form_id=SUMMARY)
    assert draft.prefilled == {
        "reason_for_intervention": "reasons_for_involvement",
        "final_meeting_date": "final_meeting_date",
    }
    assert draft.answers["minutes_uploaded"] is True
    posted.update(reason_for_intervention="Neglect concerns", expected_version=str(draft.version))
    client.post(form_url, posted)
    draft.refresh_from_db()
    assert "reason_for_intervention" not in draft.prefilled
    assert "Filled from the record: The reasons given" not in html(client.get(form_url))


def test_autosave_saves_with_the_expected_version_and_refuses_a_stale_one(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """Autosave posts the form as JSON; another tab's save since makes it a 409 with a
    message, and nothing is overwritten."""
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    client = client_for(worker)
    autosave_url = url("closure-form-autosave", child_case, form=SUMMARY)
    first = client.post(
        autosave_url, {"safety_plan": "Grandmother collects", "expected_version": ""}
    )
    assert first.status_code == 200
    data = json.loads(first.content)
    assert data["ok"] is True
    assert data["saved_at"]
    version = data["version"]
    second = client.post(
        autosave_url, {"safety_plan": "Grandmother collects daily", "expected_version": version}
    )
    assert json.loads(second.content)["version"] == version + 1
    stale = client.post(
        autosave_url, {"safety_plan": "Typed in an old tab", "expected_version": version}
    )
    assert stale.status_code == 409
    assert "saved from somewhere else" in json.loads(stale.content)["message"]
    assert FormResponse.objects.get().answers["safety_plan"] == "Grandmother collects daily"
    assert json.loads(client.get(autosave_url).content)["version"] == version + 1


def test_a_stale_save_without_javascript_keeps_the_typed_text(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    bind("003-ending-interventions")
    closure = agreed_003(child_case, worker, manager)
    draft = form_save_draft(actor=worker, closure=closure, form_id=SUMMARY, answers={})
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id=SUMMARY,
        answers={"safety_plan": "From the other tab"},
        expected_version=draft.version,
    )
    response = client_for(worker).post(
        url("closure-form", child_case, form=SUMMARY),
        {"safety_plan": "My careful words", "expected_version": str(draft.version), "save": "1"},
    )
    assert response.status_code == 409
    page = html(response)
    assert "govuk-error-summary" in page
    assert "My careful words" in page
    assert f'name="expected_version" value="{draft.version + 1}"' in page
    assert FormResponse.objects.get().answers["safety_plan"] == "From the other tab"


def test_r003_04_check_answers_then_submit_and_submitting_twice_does_nothing_twice(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    bind("003-ending-interventions")
    closure = agreed_003(child_case, worker, manager)
    seven_points_submitted(worker, closure)
    final_meeting(child_case, worker)
    client = client_for(worker)
    response = client.post(
        url("closure-form", child_case, form=SUMMARY),
        {
            "intervention_and_impact": "Parenting work helped",
            "safety_plan": "",
            "continue": "1",
        },
    )
    check_url = url("closure-form-check", child_case, form=SUMMARY)
    assert response["Location"] == check_url
    page = html(client.get(check_url))
    assert "Check your answers" in page
    assert "Parenting work helped" in page
    missing = client.post(check_url)
    assert "Answer &#x27;What is the safety plan" in html(missing)
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id=SUMMARY,
        answers={
            "reason_for_intervention": "Neglect concerns",
            "final_meeting_date": TODAY.isoformat(),
            "safety_plan": "School will watch",
            "minutes_uploaded": True,
        },
    )
    response = client.post(check_url)
    assert "Case closure summary submitted" in banner(client, response)
    again = client.post(check_url)
    assert "already submitted" in banner(client, again)
    assert StepRecord.objects.filter(closure=closure, step_id=SUMMARY).count() == 1
    assert (
        AuditEvent.objects.filter(
            verb="closure.form_submitted", summary__startswith="Case closure summary"
        ).count()
        == 1
    )
    # The submitted form is read-only: its page shows the answers, not the fields.
    assert client.get(url("closure-form", child_case, form=SUMMARY))["Location"] == check_url


# --- checklists and agreements --------------------------------------------------------------


def test_r003_05_checklist_shows_automatic_checks_saves_answers_and_completes(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R003-05: each item shows what the record shows; the manager answers (all at once or
    one item), and completing is blocked, with where to record it, until the manager's
    decision is on file."""
    bind("003-ending-interventions")
    closure = agreed_003(child_case, worker, manager)
    client = client_for(manager)
    checklist_url = url("closure-checklist", child_case, checklist="ending-checks")
    page = html(client.get(checklist_url))
    assert "The record shows:" in page
    assert "subject.has_phone" in page
    assert "Save all answers" in page
    assert "Not applicable" not in page
    worker_page = html(client_for(worker).get(checklist_url))
    assert "Save all answers" not in worker_page

    response = client.post(
        checklist_url,
        {
            "save_all": "1",
            "item-decision-answer": "yes",
            "item-decision-note": "",
            "item-key-documents-answer": "yes",
            "item-key-documents-note": "Documents on file",
        },
    )
    assert response.status_code == 200
    assert 'href="#id_item-decision-note"' in html(response)
    assert ChecklistAnswer.objects.filter(closure=closure).count() == 1

    response = client.post(
        checklist_url,
        {"save_item": "decision", "item-decision-answer": "yes", "item-decision-note": "Seen"},
    )
    assert response["Location"].endswith("#item-decision")
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=TODAY, decision="Close"
    )
    response = client.post(
        checklist_url,
        {
            "save_item": "contact-details",
            "item-contact-details-answer": "yes",
            "item-contact-details-note": "Phone and address current",
        },
    )
    assert "Saved 1 answer." in banner(client, response)
    assert ChecklistAnswer.objects.filter(closure=closure).count() == 3
    response = client.post(checklist_url, {"complete": "1"})
    assert "Before the case is closed: done." in banner(client, response)


def test_r003_05_completing_with_a_gate_missing_is_an_error_summary(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    response = client_for(manager).post(
        url("closure-checklist", child_case, checklist="ending-checks"), {"complete": "1"}
    )
    page = html(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert "decision to end involvement must be recorded" in page
    assert (
        f'href="/cases/{child_case.pk}/record/?what=decision">Manager&#x27;s decisions</a>' in page
    )


def test_r002_13_never_seen_client_needs_a_service_manager_to_agree(
    bind: Callable[..., None],
    make_team: Callable[..., Team],
    make_staff: Callable[..., User],
) -> None:
    """R002-13: the checklist cannot be completed for a client never seen until a Service
    Manager agrees with a note; the team manager cannot agree it (403)."""
    bind("002-adults-closure", "adults")
    worker, manager, senior = adult_staff(make_team, make_staff)
    case = adult_case_never_seen(worker, manager)
    closure = closure_propose(actor=worker, case=case, reason_id="goals-achieved")
    closure_decide(actor=manager, closure=closure, outcome="agreed", note="Agreed")
    tasks = html(client_for(manager).get(url("closure-tasks", case)))
    assert "The client has been seen in person at some point" in tasks
    assert "Needs agreement" in tasks
    agreement_url = url("closure-agreement", case, gate="never-seen")
    manager_page = html(client_for(manager).get(agreement_url))
    assert "Only a service manager or head of service can agree this" in manager_page
    refused = client_for(manager).post(agreement_url, {"note": "Fine by me"})
    assert refused.status_code == 403
    client = client_for(senior)
    assert "Record why you agree" in html(client.post(agreement_url, {"note": ""}))
    response = client.post(agreement_url, {"note": "Telephone contact only; safe to close"})
    assert "You agreed: The client has been seen in person" in banner(client, response)
    assert GateAgreement.objects.get(closure=closure).role == Role.SERVICE_MANAGER
    again = client.post(agreement_url, {"note": "Twice"})
    assert "already agreed" in banner(client, again)


# --- authorise, sign, share -----------------------------------------------------------------


def _ready_to_authorise_000(case: Case, worker: User, manager: User) -> Closure:
    from casework.closure.services import checklist_answer, checklist_complete

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


def test_r000_10_only_the_manager_authorises(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-10: the authorise page summarises what was done; a worker who posts is refused
    with a 403 page; the manager's authorisation redirects with a banner."""
    bind("000-closing-cases")
    _ready_to_authorise_000(child_case, worker, manager)
    worker_client = client_for(worker)
    assert "Only the team manager can authorise" in html(
        worker_client.get(url("closure-authorise", child_case))
    )
    refused = worker_client.post(url("closure-authorise", child_case), {})
    assert refused.status_code == 403
    assert "Only the team manager can authorise the closure" in html(refused)
    client = client_for(manager)
    page = html(client.get(url("closure-authorise", child_case)))
    assert "Supervisor&#x27;s audit of the case record before closure" in page
    assert "4 answered: 4 yes" in page
    response = client.post(url("closure-authorise", child_case), {})
    assert "Closure authorised." in banner(client, response)
    assert Closure.objects.get(case=child_case).state == ClosureState.AUTHORISED


def test_x05_sign_shows_exact_content_then_the_hash_and_a_pdf(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-09, X-05: the sign page shows the submitted summary exactly as it will be
    signed; after signing it shows the content hash and a PDF download of that content."""
    bind("003-ending-interventions")
    closure = agreed_003(child_case, worker, manager)
    client = client_for(worker)
    assert "Nothing to sign yet" in html(client.get(url("closure-sign", child_case)))
    summary_submitted(child_case, worker, closure)
    page = html(client.get(url("closure-sign", child_case)))
    assert "School will watch" in page
    assert TODAY.isoformat() in page
    assert "Sign as social worker" in page
    response = client.post(url("closure-sign", child_case))
    signed = banner(client, response)
    assert "Signed as social worker" in signed
    document = SignedDocument.objects.get(closure=closure)
    assert document.content_hash in signed
    assert "Sign as" not in signed
    pdf = client.get(url("closure-pdf", child_case))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert f'filename="{child_case.reference}-{SUMMARY}-v1.pdf"' in pdf["Content-Disposition"]
    assert pdf.content.startswith(b"%PDF")
    manager_page = html(client_for(manager).get(url("closure-sign", child_case)))
    assert "Sign as team manager" in manager_page


def signed_003(child_case: Case, worker: User, manager: User) -> Closure:
    """A procedure-003 closure with every step done but sharing."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework.closure.services import checklist_answer, checklist_complete

    closure = agreed_003(child_case, worker, manager)
    final_meeting(child_case, worker)
    closure_step_complete(actor=worker, closure=closure, step_id="final-meeting")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="ending-evidence",
        answers={
            "family_can_meet_needs": "Routines are stable",
            "why_no_longer_required": "Goals met",
            "family_strategies": "Grandmother will help",
            "sustainability_confidence": "High",
            "decision_understood": True,
            "safety_plan_score": 8,
        },
    )
    form_submit(actor=worker, closure=closure, form_id="ending-evidence")
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id=SUMMARY,
        answers={
            "intervention_and_impact": "Helped",
            "safety_plan": "Plan",
            "minutes_uploaded": True,
        },
    )
    form_submit(actor=worker, closure=closure, form_id=SUMMARY)
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=TODAY, decision="Close"
    )
    document_upload(
        actor=worker,
        case=child_case,
        kind="minutes",
        title="Final meeting",
        upload=SimpleUploadedFile("m.pdf", b"%PDF-1.4 minutes", content_type="application/pdf"),
    )
    for item in ("decision", "key-documents", "contact-details"):
        checklist_answer(
            actor=manager,
            closure=closure,
            checklist_id="ending-checks",
            item_id=item,
            answer="yes",
            note="Checked",
        )
    checklist_complete(actor=manager, closure=closure, checklist_id="ending-checks")
    summary_sign(actor=worker, closure=closure, form_id=SUMMARY)
    summary_sign(actor=manager, closure=closure, form_id=SUMMARY)

    return closure


def test_r003_06_sharing_is_recorded_and_closes_the_case(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R003-06, R000-01: who the signed summary went to, how and when; the last step closes
    the case, which then shows as closed."""
    bind("003-ending-interventions")
    signed_003(child_case, worker, manager)
    client = client_for(worker)
    share_url = url("closure-share", child_case)
    added = html(client.post(share_url, {"rows": "3", "add_row": "1", "recipient-1": "Parent"}))
    assert "Recipient 4" in added
    assert 'value="Parent"' in added
    invalid = client.post(
        share_url,
        {"rows": "3", "recipient-1": "Parent", "shared_on": TODAY.isoformat()},
    )
    assert "Say how recipient 1 received it" in html(invalid)
    response = client.post(
        share_url,
        {
            "rows": "3",
            "recipient-1": "Parent",
            "kind-1": "family",
            "method-1": "in_person",
            "recipient-2": "Testford Primary",
            "kind-2": "professional",
            "method-2": "secure_email",
            "shared_on": TODAY.isoformat(),
        },
    )
    assert response["Location"] == reverse("case-detail", args=[child_case.pk])
    page = banner(client, response)
    assert "The case is now closed." in page
    child_case.refresh_from_db()
    assert child_case.status == "closed"
    assert "See how the case was closed" in page


# --- the managers' queue --------------------------------------------------------------------


def _propose_for_new_child(worker: User, team: Team, n: int) -> Closure:
    child = person_create(
        actor=worker,
        given_name=f"Child{n}",
        family_name="Queue",
        date_of_birth=TODAY - dt.timedelta(days=3000 + n),
    )
    case = case_open(
        actor=worker,
        subject=child,
        team=team,
        received_on=TODAY - dt.timedelta(days=30),
        source="2A",
        reason="Concern",
        allocated_worker=worker,
    )
    return closure_propose(actor=worker, case=case, reason_id="no-longer-in-need")


def _queue_queries(client: Client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("closure-queue"))
    assert response.status_code == 200
    return len(queries), html(response)


def test_queue_lists_closures_oldest_first_in_a_constant_number_of_queries(
    bind: Callable[[str], None],
    worker: User,
    manager: User,
    team_ai: Team,
    outsider: User,
    team_sgcp: Team,
) -> None:
    """Journey 7's queue: closures awaiting decision, with further actions and agreed, for
    the manager's cases only, oldest first; the query count does not grow with the rows."""
    bind("003-ending-interventions")
    client = client_for(manager)
    first = _propose_for_new_child(worker, team_ai, 0)
    few, _ = _queue_queries(client)
    Closure.objects.filter(pk=first.pk).update(proposed_on=TODAY - dt.timedelta(days=9))
    for n in range(1, 6):
        _propose_for_new_child(worker, team_ai, n)
    agreed = _propose_for_new_child(worker, team_ai, 6)
    closure_decide(actor=manager, closure=agreed, outcome="agreed", note="Agreed")
    further = _propose_for_new_child(worker, team_ai, 7)
    closure_decide(
        actor=manager, closure=further, outcome="further_actions", note="No", actions=["Visit"]
    )
    hidden = _propose_for_new_child(outsider, team_sgcp, 8)
    many, page = _queue_queries(client)
    assert many == few
    assert page.index(first.case.reference) < page.index("Child1 Queue")
    assert "Awaiting your decision (6)" in page
    assert "With further actions (1)" in page
    assert "1 of 1 not done" in page
    assert "Agreed: summary, checks and signatures in progress (1)" in page
    assert hidden.case.reference not in page


def test_queue_is_for_managers(worker: User) -> None:
    response = client_for(worker).get(reverse("closure-queue"))
    assert response.status_code == 403
    assert "for team managers" in html(response)


def test_my_cases_links_managers_to_the_queue(worker: User, manager: User) -> None:
    assert reverse("closure-queue") in html(client_for(manager).get(reverse("my-cases")))
    assert reverse("closure-queue") not in html(client_for(worker).get(reverse("my-cases")))


def test_pages_before_a_closure_say_there_is_nothing_to_do_yet(
    bind: Callable[[str], None], child_case: Case, worker: User
) -> None:
    bind("003-ending-interventions")
    client = client_for(worker)
    for name in ("closure-tasks", "closure-form", "closure-sign", "closure-share", "closure-pdf"):
        response = client.get(url(name, child_case))
        assert response.status_code == 200, name
        assert "Nothing to do here yet" in html(response), name
        assert url("closure-propose", child_case) in html(response)


@pytest.mark.parametrize("page", ["closure-form", "closure-checklist", "closure-step"])
def test_unknown_form_checklist_or_step_is_404(
    bind: Callable[[str], None],
    child_case: Case,
    worker: User,
    manager: User,
    page: str,
) -> None:
    bind("003-ending-interventions")
    agreed_003(child_case, worker, manager)
    key = {"closure-form": "form", "closure-checklist": "checklist", "closure-step": "step"}[page]
    assert client_for(worker).get(url(page, child_case, **{key: "nope"})).status_code == 404


# --- a procedure without a proposal step or signatures (001) --------------------------------


def test_r001_06_no_proposal_step_and_authorisation_with_a_compliance_review(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User, senior: User
) -> None:
    """R001-04, R001-05, R001-06, X-05: under procedure 001 (no proposal step, no signatures)
    the worker still proposes; the remedial-work task is recorded on its own page; the
    Senior Fieldwork Manager answers the Compliance Review checklist and authorises with the
    review written; what was authorised is frozen and downloadable as PDFs."""
    from casework.closure.services import checklist_answer

    bind("001-closure-record")
    plan = plan_start(
        actor=worker, case=child_case, kind="cin", started_on=TODAY - dt.timedelta(days=40)
    )
    meeting_record(
        actor=worker,
        case=child_case,
        kind="cin_meeting",
        held_on=TODAY - dt.timedelta(days=40),
        attendees=[{"name": "Parent", "role": "mother"}],
        minutes="Child's Plan",
    )
    plan_end(actor=worker, plan=plan, ended_on=TODAY - dt.timedelta(days=1), outcome="Met")
    note_add(actor=worker, case=child_case, title="Ending", body="Discussed", occurred_on=TODAY)
    client = client_for(worker)
    response = client.post(url("closure-propose", child_case), {"reason_id": "no-longer-in-need"})
    assert "Closure proposed" in banner(client, response)
    closure = Closure.objects.get(case=child_case)
    closure_decide(actor=manager, closure=closure, outcome="agreed", note="Plan achieved")
    decision_record(
        actor=manager, case=child_case, kind="advise_closure", decided_on=TODAY, decision="Close"
    )
    form_save_draft(
        actor=worker,
        closure=closure,
        form_id="closure-record",
        answers={
            "progress": "Attendance restored",
            "ending_discussed_with_parent": True,
            "ending_discussed_with_child": "na",
            "parent_given_plan": True,
        },
    )
    check = html(client.get(url("closure-form-check", child_case, form="closure-record")))
    assert "Not applicable" in check
    form_submit(actor=worker, closure=closure, form_id="closure-record")
    step_url = url("closure-step", child_case, step="remedial-work")
    assert "Remedial recording work completed" in html(client.get(step_url))
    assert "Done: " in banner(client, client.post(step_url, {"note": "Notes up to date"}))

    senior_client = client_for(senior)
    authorise_page = html(senior_client.get(url("closure-authorise", child_case)))
    assert "Answer the compliance review by the senior fieldwork manager" in authorise_page
    checklist_page = html(
        senior_client.get(url("closure-checklist", child_case, checklist="compliance-review"))
    )
    assert "Complete checklist" not in checklist_page
    review = load_pack("001-closure-record").spec.checklists["compliance-review"]
    pack_items = [item.id for section in review.sections for item in section.items]
    for item_id in pack_items:
        checklist_answer(
            actor=senior,
            closure=closure,
            checklist_id="compliance-review",
            item_id=item_id,
            answer="yes",
            note="Seen on the record",
            evidence_date=TODAY,
        )
    missing = senior_client.post(url("closure-authorise", child_case), {"compliance_review": ""})
    assert "Record the Compliance Review" in html(missing)
    response = senior_client.post(
        url("closure-authorise", child_case), {"compliance_review": "Recording in place"}
    )
    assert "The case is now closed." in banner(senior_client, response)
    tasks = html(senior_client.get(url("closure-tasks", child_case)))
    assert "Closure record (version 1, PDF)" in tasks
    assert "Compliance Review by the Senior Fieldwork Manager (version 1, PDF)" in tasks
    pdf = senior_client.get(url("closure-pdf", child_case, document="checklist:compliance-review"))
    assert pdf["Content-Type"] == "application/pdf"
    assert senior_client.get(url("closure-pdf", child_case, document="nope")).status_code == 404


def test_finish_page_says_what_is_missing_before_the_case_can_close(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """A closure whose steps are done but whose closing gates are not met waits; the finish
    page lists what is missing and closes the case once it is put right."""
    bind("003-ending-interventions")
    closure = agreed_003(child_case, worker, manager)
    client = client_for(worker)
    page = html(client.get(url("closure-finish", child_case)))
    assert "These steps are still to do" in page
    assert "Close the case" not in page
    refused = client.post(url("closure-finish", child_case))
    assert "Not done yet: Hold the final meeting" in html(refused)
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.AGREED


def test_finish_closes_the_case_once_the_missing_record_is_put_right(
    bind: Callable[[str], None], child_case: Case, worker: User, manager: User
) -> None:
    """R000-01: with every step done but a plan opened since, the closure waits; the task
    list says so, the finish page names the open plan, and once it is ended the worker
    closes the case."""
    bind("003-ending-interventions")
    closure = signed_003(child_case, worker, manager)
    plan = plan_start(actor=worker, case=child_case, kind="cin", started_on=TODAY)
    client = client_for(worker)
    shared = client.post(
        url("closure-share", child_case),
        {
            "rows": "3",
            "recipient-1": "Parent",
            "kind-1": "family",
            "method-1": "post",
            "shared_on": TODAY.isoformat(),
        },
    )
    assert "The case is now closed" not in banner(client, shared)
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.AGREED
    assert "See what is needed and finish the closure" in html(
        client.get(url("closure-tasks", child_case))
    )
    page = html(client.get(url("closure-finish", child_case)))
    assert "No plan is still open" in page
    blocked = client.post(url("closure-finish", child_case))
    assert "A plan is still open" in html(blocked)
    plan_end(actor=worker, plan=plan, ended_on=TODAY)
    response = client.post(url("closure-finish", child_case))
    assert "The case is now closed." in banner(client, response)
    assert Closure.objects.get(pk=closure.pk).state == ClosureState.CLOSED
