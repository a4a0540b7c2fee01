"""`manage.py load_demo`: what a newcomer (and the team) relies on from the demo data.

The load takes several seconds, so it runs once for this module inside a transaction that is
rolled back at the end; each test still runs in its own savepoint.
"""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.access.models import Restriction
from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases.models import Case, CaseStatus, Plan, PlanKind, Visit
from casework.core.codes import CLD_EVENT_OUTCOMES
from casework.core.identifiers import nhs_number_problem, upn_problem
from casework.organisation.management.commands.load_demo import (
    UNKNOWN_PASSWORD,
    password_for_new_load,
)
from casework.organisation.models import Authority, Membership, Role, Team
from casework.people.models import CarerLink, Person, Relationship, RelationshipKind, Residence

PASSWORD = "demo-tests-only-password"


@pytest.fixture(scope="module")
def demo_output(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """Load the demo once for the module; roll it all back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("load_demo", password=PASSWORD, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_output: str, db: None) -> str:
    return demo_output


def _counts() -> dict[str, int]:
    return {
        "authorities": Authority.objects.count(),
        "teams": Team.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "people": Person.objects.count(),
        "cases": Case.objects.count(),
        "visits": Visit.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _today() -> dt.date:
    return timezone.localdate()


def test_first_load_reports_what_it_built_and_how_to_sign_in(demo: str) -> None:
    assert "Loaded the demo authority Northmoor Borough Council" in demo
    assert "http://127.0.0.1:" in demo
    assert f"Password: {PASSWORD}" in demo
    for username in ("ai-worker", "sgcp-manager", "su-iro", "csm-head", "adults-north-worker"):
        assert username in demo
    assert Person.objects.count() >= 300
    assert Case.objects.filter(service_area="children").count() >= 200
    assert Case.objects.filter(service_area="adults").count() >= 70


def test_loading_again_changes_nothing_and_reprints_the_sign_ins(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "8123")
    before = _counts()
    out = StringIO()
    call_command("load_demo", password=PASSWORD, stdout=out)
    assert _counts() == before
    assert "nothing was loaded or changed" in out.getvalue()
    assert "http://127.0.0.1:8123/" in out.getvalue()
    assert f"Password: {PASSWORD}" in out.getvalue()  # it matches, so it is shown


def test_loading_again_without_a_known_password_does_not_guess_one(
    demo: str, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper, tmp_path: Path
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert f"Password: {UNKNOWN_PASSWORD}" in out.getvalue()
    assert not list(tmp_path.iterdir()), "an existing demo must not generate a new password"


def test_authority_is_made_up_with_a_real_la_code(demo: str) -> None:
    authority = Authority.objects.get()
    assert authority.name == "Northmoor Borough Council"
    assert authority.la_code == "931"
    assert authority.closure_days.exists()


def test_every_role_has_a_demo_user_who_can_sign_in(demo: str) -> None:
    current = Membership.objects.current().filter(user__is_active=True)
    for role in Role:
        member = current.filter(role=role).select_related("user").first()
        assert member is not None, f"no demo user has the role {role.label}"
        assert member.user.check_password(PASSWORD)
        assert not member.user.is_staff
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff


def test_teams_keep_the_codes_policy_packs_use(demo: str) -> None:
    codes = set(Team.objects.values_list("code", flat=True))
    assert {
        "irt",
        "ai",
        "sgcp",
        "eoc",
        "swis",
        "wrap",
        "lac",
        "cwd",
        "eh",
        "su",
        "cbs",
        "dfa",
        "csm",
        "adults-north",
        "adults-south",
        "abs",
        "asm",
    } <= codes
    assert not Team.objects.filter(
        code__in=["wrap", "su", "cbs", "dfa", "csm", "abs", "asm"], holds_cases=True
    ).exists()


def test_every_case_was_built_through_the_audited_services(demo: str) -> None:
    unaudited = Case.objects.filter(~Exists(AuditEvent.objects.filter(case=OuterRef("pk"))))
    assert not unaudited.exists()
    assert not AuditEvent.objects.filter(case__isnull=False, actor__isnull=True).exists()


def test_a_worker_sees_their_own_teams_cases_and_not_another_teams(demo: str) -> None:
    worker = User.objects.get(username="ai-worker")
    visible = cases_visible_to(worker)
    restricted = Restriction.objects.in_force().values("person_id")
    ai_cases = Case.objects.filter(responsible_team__code="ai").exclude(subject__in=restricted)
    assert ai_cases.exists()
    assert set(visible.values_list("pk", flat=True)) >= set(ai_cases.values_list("pk", flat=True))
    # The demo's restricted record is hidden from the team, unless they are named.
    hidden = Case.objects.filter(subject__in=restricted)
    assert hidden.exists()
    named = Restriction.objects.in_force().filter(names__user=worker).values("person_id")
    assert not visible.filter(pk__in=hidden).exclude(subject__in=named).exists()
    assert not visible.filter(responsible_team__code="sgcp").exists()
    assert not visible.filter(service_area="adults").exists()
    assert Case.objects.filter(allocated_worker=worker, status=CaseStatus.OPEN).exists()


def test_front_door_has_fresh_unallocated_contacts(demo: str) -> None:
    contacts = Case.objects.filter(
        responsible_team__code="irt",
        status=CaseStatus.OPEN,
        allocated_worker__isnull=True,
        opened_on__gte=_today() - dt.timedelta(days=2),
    )
    assert contacts.count() >= 3


def _cp_plans_ended() -> list[tuple[Plan, bool]]:
    """Each ended CP plan, and whether a later visit saw the child alone at home."""
    return [
        (
            plan,
            plan.case.visits.filter(
                visited_on__gt=plan.ended_on, seen_alone=True, home_visited=True
            ).exists(),
        )
        for plan in Plan.objects.filter(
            kind=PlanKind.CHILD_PROTECTION, ended_on__isnull=False
        ).select_related("case")
    ]


def test_some_ended_cp_plans_were_followed_by_a_seen_alone_home_visit(demo: str) -> None:
    assert any(seen for _, seen in _cp_plans_ended())


def test_some_ended_cp_plans_were_not_followed_by_a_seen_alone_home_visit(demo: str) -> None:
    assert any(not seen for _, seen in _cp_plans_ended())


def test_open_cp_plans_carry_a_category_of_abuse(demo: str) -> None:
    plans = Plan.objects.filter(kind=PlanKind.CHILD_PROTECTION, ended_on__isnull=True)
    assert plans.exists()
    assert not plans.filter(initial_category="").exists()


def test_children_are_looked_after_now_and_were_in_the_past(demo: str) -> None:
    now = Plan.objects.filter(
        kind=PlanKind.LOOKED_AFTER, ended_on__isnull=True, case__responsible_team__code="lac"
    )
    assert now.filter(legal_status="C2").exists()
    assert now.filter(legal_status="V2").exists()
    assert Plan.objects.filter(kind=PlanKind.LOOKED_AFTER, ended_on__isnull=False).exists()


def test_recently_closed_cases_say_why_they_closed(demo: str) -> None:
    closed = Case.objects.filter(status=CaseStatus.CLOSED)
    assert closed.exists()
    children = closed.filter(service_area="children")
    adults = closed.filter(service_area="adults")
    assert set(children.values_list("closure_reason", flat=True)) <= {"RC7", "RC8"}
    # Adults' care that ended years ago (for the retention queue) carries a CLD outcome.
    assert adults.exists()
    assert set(adults.values_list("closure_reason", flat=True)) <= set(CLD_EVENT_OUTCOMES)
    assert not Plan.objects.filter(case__in=closed, ended_on__isnull=True).exists()
    assert (
        AuditEvent.objects.filter(
            case__in=closed, verb="case.closed_imported", reason="Closed before the demo period"
        ).count()
        == closed.count()
    )


def test_a_child_was_re_referred_after_an_earlier_case_closed(demo: str) -> None:
    re_referred = Person.objects.filter(
        Exists(Case.objects.filter(subject=OuterRef("pk"), status=CaseStatus.CLOSED)),
        Exists(Case.objects.filter(subject=OuterRef("pk"), status=CaseStatus.OPEN)),
    )
    assert re_referred.exists()


def test_some_cases_are_ready_to_close(demo: str) -> None:
    month_ago = _today() - dt.timedelta(days=31)
    ready = Case.objects.filter(
        status=CaseStatus.OPEN,
        decisions__kind="advise_closure",
        supervisions__held_on__gte=month_ago,
        visits__seen_alone=True,
        visits__home_visited=True,
        visits__visited_on__gte=month_ago,
        assessments__authorised_on__isnull=False,
        service_area="children",
    ).distinct()
    assert ready.exists()
    case = ready.first()
    assert case is not None
    assert case.plans.filter(kind=PlanKind.CHILD_IN_NEED, ended_on__isnull=False).exists()


def test_an_adult_has_an_unpaid_carer_who_lives_with_them(demo: str) -> None:
    link = CarerLink.objects.filter(
        cared_for__cases__service_area="adults", lives_with_cared_for=True
    ).first()
    assert link is not None
    home = Residence.objects.get(person=link.cared_for, ended_on__isnull=True).address
    assert Residence.objects.filter(person=link.carer, address=home, ended_on__isnull=True).exists()


def test_an_open_adult_case_has_never_seen_the_person(demo: str) -> None:
    never_seen = Case.objects.filter(service_area="adults", status=CaseStatus.OPEN).filter(
        ~Exists(Visit.objects.filter(case=OuterRef("pk"), subject_seen=True))
    )
    assert never_seen.exists()


def test_some_adults_have_a_key_safe(demo: str) -> None:
    assert Person.objects.filter(key_safe__isnull=False, cases__service_area="adults").exists()


def test_every_child_lives_with_a_parent_or_carer(demo: str) -> None:
    for case in Case.objects.filter(service_area="children").select_related("subject"):
        child = case.subject
        home = Residence.objects.get(person=child, ended_on__isnull=True).address
        carers = Relationship.objects.filter(
            Q(
                kind__in=[
                    RelationshipKind.PARENT,
                    RelationshipKind.STEP_PARENT,
                    RelationshipKind.FOSTER_CARER,
                ]
            ),
            relative=child,
            person__residences__address=home,
            person__residences__ended_on__isnull=True,
        )
        assert carers.exists(), f"{child} lives with no parent or carer"
    assert Relationship.objects.filter(
        kind=RelationshipKind.PARENT, has_parental_responsibility=True
    ).exists()
    assert Relationship.objects.filter(kind=RelationshipKind.SIBLING).exists()


def test_national_identifiers_are_valid(demo: str) -> None:
    nhs_numbers = list(Person.objects.exclude(nhs_number="").values_list("nhs_number", flat=True))
    assert len(nhs_numbers) == Person.objects.count()
    assert len(set(nhs_numbers)) == len(nhs_numbers)
    assert [n for n in nhs_numbers if nhs_number_problem(n)] == []
    upns = list(Person.objects.exclude(upn="").values_list("upn", flat=True))
    assert upns
    assert len(set(upns)) == len(upns)
    assert [u for u in upns if upn_problem(u)] == []
    assert all(u[1:4] == "931" for u in upns)


def test_most_people_were_asked_their_ethnicity_and_a_few_were_not(demo: str) -> None:
    asked = Person.objects.filter(ethnicity_asked=True).count()
    assert asked > 0.8 * Person.objects.count()
    assert Person.objects.filter(ethnicity_asked=False).exists()


# Password handling needs no database.


def test_a_generated_password_is_saved_privately_and_reused(
    settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path / "var"
    first = password_for_new_load(None)
    saved = tmp_path / "var" / "demo-password"
    assert saved.read_text().strip() == first
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert password_for_new_load(None) == first


def test_an_explicit_password_wins_and_is_not_saved(
    settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-environment")
    assert password_for_new_load(None) == "from-the-environment"
    assert password_for_new_load("from-the-option") == "from-the-option"
    assert not list(tmp_path.iterdir())


def test_demo_has_closures_under_way_in_each_service(demo: str) -> None:
    """Managers signing in to the demo find closures waiting on them: each service has a
    proposal under its bound procedure."""
    from casework.closure.models import Closure, ClosureState

    for area, pack in (("children", "003-ending-interventions"), ("adults", "002-adults-closure")):
        closures = Closure.objects.filter(case__service_area=area)
        assert closures.filter(state=ClosureState.PROPOSED, pack_id=pack).exists()


def test_demo_has_a_transfer_and_a_step_down_waiting_for_a_decision(demo: str) -> None:
    """The LAC manager has a care-order transfer to accept and the Early Help duty manager a
    step-down to decide, so both queues show something on first sign-in."""
    from casework.transfers.models import PathwayRequest, PathwayState, Transfer, TransferState
    from casework.transfers.selectors import transfer_queue

    transfer = Transfer.objects.get(state=TransferState.AUTHORISED)
    assert transfer.from_team.code in ("sgcp", "ai")
    assert (transfer.to_team.code, transfer.protocol_id) == ("lac", "to-looked-after")
    lac_manager = User.objects.get(username="lac-manager")
    assert transfer_queue(lac_manager).to_decide == [transfer]
    step_down = PathwayRequest.objects.get(state=PathwayState.REQUESTED)
    assert step_down.pathway_id == "step-down-full-assessment"
    assert transfer_queue(User.objects.get(username="eh-duty-manager")).requests == [step_down]


def test_business_support_has_three_monthly_audits_waiting(demo: str) -> None:
    """R004-11: the demo's long-open cases give Business Support audit tasks on first sign-in."""
    from casework.tasks.selectors import tasks_for

    support = (
        Membership.objects.current()
        .filter(role=Role.BUSINESS_SUPPORT, team__service_area="children")
        .first()
    )
    assert support is not None
    waiting = list(tasks_for(support.user))
    assert waiting
    assert all(t.requirement == "R004-11" for t in waiting)
