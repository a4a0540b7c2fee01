"""Binding a policy pack to an authority's service area and purpose: validated (the pack
must load, be for that service area and govern that purpose), limited to administrators, and
audited like every other change. Switching procedure is configuration, not code (X-06)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from casework.accounts.models import User
from casework.audit.models import AuditCategory, AuditEvent
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Authority
from casework.policy.models import PackBinding
from casework.policy.services import bound_pack, pack_bind, pack_binding_problem


@pytest.fixture
def admin(db: None) -> User:
    """An active administrator (is_staff) with no team membership."""
    return User.objects.create_user(
        username="sysadmin", password="a-test-password-123", is_staff=True
    )


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(
        username="root", password="a-test-password-123", email="root@example.org"
    )


def _counts() -> tuple[int, int]:
    return PackBinding.objects.count(), AuditEvent.objects.count()


def _events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb="policy.bound").order_by("id"))


def test_x06_system_binds_a_pack_and_audits_it(authority: Authority) -> None:
    """X-06: the system (actor None) binds a pack: the binding is saved, and a configuration
    audit event records the change of pack_id from nothing to the pack."""
    binding = pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    assert PackBinding.objects.get() == binding
    assert binding.pack_id == "003-ending-interventions"
    assert binding.bound_by is None
    [event] = _events()
    assert event.category == AuditCategory.CONFIGURATION
    assert event.actor is None
    assert event.changes == {"pack_id": [None, "003-ending-interventions"]}
    assert event.object_id == str(binding.pk)
    assert "Ending Interventions with Families" in event.summary


def test_x06_switching_childrens_closure_procedure_needs_no_code_change(
    authority: Authority, admin: User
) -> None:
    """X-06: an administrator switches children's closure from 003 to 000 and then to 001;
    each switch is one binding (updated, not duplicated), each is audited with the old and
    new pack, and `bound_pack` returns the newly bound pack straight away."""
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    for before, after in (
        ("003-ending-interventions", "000-closing-cases"),
        ("000-closing-cases", "001-closure-record"),
    ):
        pack_bind(
            actor=admin,
            authority=authority,
            service_area="children",
            purpose="closure",
            pack_id=after,
        )
        pack = bound_pack(authority, "children", "closure")
        assert pack is not None
        assert pack.id == after
        event = _events()[-1]
        assert event.changes == {"pack_id": [before, after]}
        assert event.actor == admin
        assert event.category == AuditCategory.CONFIGURATION
    binding = PackBinding.objects.get()
    assert binding.bound_by == admin
    assert len(_events()) == 3
    assert bound_pack(authority, "children", "transfer") is None
    assert bound_pack(authority, "adults", "closure") is None


def test_x06_closure_and_transfer_are_bound_separately(authority: Authority) -> None:
    """X-06: children's closure and children's transfers can be governed by different packs,
    and adults' closure by an adults' pack, all for the same authority."""
    for area, purpose, pack_id in (
        ("children", "closure", "000-closing-cases"),
        ("children", "transfer", "004-transfer-and-closure"),
        ("adults", "closure", "002-adults-closure"),
    ):
        pack_bind(
            actor=None, authority=authority, service_area=area, purpose=purpose, pack_id=pack_id
        )
    closure = bound_pack(authority, "children", "closure")
    transfer = bound_pack(authority, "children", "transfer")
    adults = bound_pack(authority, "adults", "closure")
    assert closure is not None
    assert closure.id == "000-closing-cases"
    assert transfer is not None
    assert transfer.id == "004-transfer-and-closure"
    assert adults is not None
    assert adults.id == "002-adults-closure"
    assert PackBinding.objects.count() == 3


@pytest.mark.parametrize(
    ("area", "purpose", "pack_id", "message"),
    [
        (
            "children",
            "closure",
            "002-adults-closure",
            "Pack '002-adults-closure' is for adults",
        ),
        (
            "adults",
            "closure",
            "000-closing-cases",
            "Pack '000-closing-cases' is for children's services, not adults",
        ),
        (
            "adults",
            "transfer",
            "002-adults-closure",
            "Pack '002-adults-closure' does not govern transfer; it governs closure.",
        ),
        (
            "children",
            "transfer",
            "000-closing-cases",
            "Pack '000-closing-cases' does not govern transfer; it governs closure.",
        ),
        (
            "children",
            "closure",
            "children-common",
            "Pack 'children-common' does not govern closure; it governs nothing (it is shared "
            "by other packs).",
        ),
        (
            "children",
            "transfer",
            "children-common",
            "Pack 'children-common' does not govern transfer; it governs nothing",
        ),
        (
            "children",
            "closure",
            "000-closing-case",
            "Pack '000-closing-case' cannot be used: (packs): there is no pack '000-closing-case'",
        ),
        ("children", "archiving", "000-closing-cases", "Choose closure or transfer."),
    ],
)
def test_x06_binding_a_pack_that_does_not_fit_is_refused_and_nothing_is_written(
    authority: Authority, admin: User, area: str, purpose: str, pack_id: str, message: str
) -> None:
    """X-06: a pack for the wrong service area, a pack that does not govern the purpose (a
    transfer pack for closure, a shared pack for anything), an unknown pack, or an unknown
    purpose is refused with InvalidInput in plain words on the pack_id field, and neither a
    binding nor an audit event is written."""
    pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="003-ending-interventions",
    )
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        pack_bind(
            actor=admin, authority=authority, service_area=area, purpose=purpose, pack_id=pack_id
        )
    assert message in str(caught.value)
    assert caught.value.by_field() == {"pack_id": [str(caught.value)]}
    assert "Traceback" not in str(caught.value)
    assert _counts() == before
    assert PackBinding.objects.get().pack_id == "003-ending-interventions"


def test_wrong_service_area_message_is_good_english() -> None:
    """The refusal for an adults' pack bound to children's services reads "adults' services"
    (not "adults's")."""
    problem = pack_binding_problem("children", "closure", "002-adults-closure")
    assert problem is not None
    assert "adults's" not in problem
    assert "adults' services" in problem


def test_pack_binding_problem_is_none_for_a_pack_that_fits() -> None:
    """X-06: each procedure pack fits the service area and purpose it says it governs."""
    for area, purpose, pack_id in (
        ("children", "closure", "000-closing-cases"),
        ("children", "closure", "001-closure-record"),
        ("adults", "closure", "002-adults-closure"),
        ("children", "closure", "003-ending-interventions"),
        ("children", "transfer", "004-transfer-and-closure"),
    ):
        assert pack_binding_problem(area, purpose, pack_id) is None


def test_non_staff_user_may_not_bind_a_pack(authority: Authority, manager: User) -> None:
    """Only an administrator (an active is_staff user) or the system binds packs: a team
    manager gets NotPermitted, even for a pack that fits, and nothing is written."""
    before = _counts()
    with pytest.raises(NotPermitted, match="Only an administrator"):
        pack_bind(
            actor=manager,
            authority=authority,
            service_area="children",
            purpose="closure",
            pack_id="000-closing-cases",
        )
    assert _counts() == before


def test_inactive_administrator_may_not_bind_a_pack(authority: Authority, admin: User) -> None:
    """An administrator whose account is deactivated can no longer bind packs."""
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    with pytest.raises(NotPermitted):
        pack_bind(
            actor=admin,
            authority=authority,
            service_area="children",
            purpose="closure",
            pack_id="000-closing-cases",
        )
    assert _counts() == (0, 0)


# --- the admin ------------------------------------------------------------------------------


def _admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_x06_admin_refuses_a_pack_for_the_wrong_service_area(
    authority: Authority, superuser: User
) -> None:
    """X-06: adding a binding in the admin with an adults' pack for children's closure shows
    the same plain validation error as the service, and saves and audits nothing."""
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_add"),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "closure",
            "pack_id": "002-adults-closure",
        },
    )
    assert response.status_code == 200
    errors = list(response.context["adminform"].form.non_field_errors())
    assert errors == [pack_binding_problem("children", "closure", "002-adults-closure")]
    assert "Pack &#x27;002-adults-closure&#x27; is for adults" in response.content.decode()
    assert _counts() == (0, 0)


def test_x06_admin_refuses_a_pack_that_does_not_govern_the_purpose(
    authority: Authority, superuser: User
) -> None:
    """X-06: the admin refuses a closure-only pack as a transfer procedure."""
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_add"),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "transfer",
            "pack_id": "000-closing-cases",
        },
    )
    assert response.status_code == 200
    assert "does not govern transfer; it governs closure." in response.content.decode()
    assert _counts() == (0, 0)


def test_x06_admin_offers_only_packs_that_govern_something(superuser: User) -> None:
    """X-06: the admin's pack choices are the five procedure packs, not the shared packs."""
    response = _admin_client(superuser).get(reverse("admin:policy_packbinding_add"))
    assert response.status_code == 200
    choices = [value for value, _ in response.context["adminform"].form.fields["pack_id"].choices]
    assert choices == [
        "000-closing-cases",
        "001-closure-record",
        "002-adults-closure",
        "003-ending-interventions",
        "004-transfer-and-closure",
    ]


def test_x06_admin_binds_a_fitting_pack_through_the_service(
    authority: Authority, superuser: User
) -> None:
    """X-06: adding a fitting binding in the admin saves it through the same service, so it
    is audited as a configuration change by the signed-in administrator."""
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_add"),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "closure",
            "pack_id": "000-closing-cases",
        },
    )
    assert response.status_code == 302
    binding = PackBinding.objects.get()
    assert binding.pack_id == "000-closing-cases"
    assert binding.bound_by == superuser
    [event] = _events()
    assert event.actor == superuser
    assert event.category == AuditCategory.CONFIGURATION
    assert event.changes == {"pack_id": [None, "000-closing-cases"]}


def test_x06_admin_switches_an_existing_binding_and_audits_old_and_new(
    authority: Authority, superuser: User
) -> None:
    """X-06: changing an existing binding in the admin from 000 to 001 updates it and audits
    the change from the old pack to the new one."""
    binding = pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="000-closing-cases",
    )
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_change", args=[binding.pk]),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "closure",
            "pack_id": "001-closure-record",
        },
    )
    assert response.status_code == 302
    assert PackBinding.objects.get().pack_id == "001-closure-record"
    event = _events()[-1]
    assert event.actor == superuser
    assert event.changes == {"pack_id": ["000-closing-cases", "001-closure-record"]}
    pack = bound_pack(authority, "children", "closure")
    assert pack is not None
    assert pack.id == "001-closure-record"


def test_x06_admin_refuses_to_switch_an_existing_binding_to_a_wrong_pack(
    authority: Authority, superuser: User
) -> None:
    """X-06: changing an existing children's closure binding to the adults' pack in the admin
    is refused, and the binding and the audit log are unchanged."""
    binding = pack_bind(
        actor=None,
        authority=authority,
        service_area="children",
        purpose="closure",
        pack_id="000-closing-cases",
    )
    before = _counts()
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_change", args=[binding.pk]),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "closure",
            "pack_id": "002-adults-closure",
        },
    )
    assert response.status_code == 200
    assert "is for adults" in response.content.decode()
    assert _counts() == before
    assert PackBinding.objects.get().pack_id == "000-closing-cases"


def test_admin_add_links_to_the_saved_binding(authority: Authority, superuser: User) -> None:
    """After adding a binding in the admin, the success message links to the saved binding's
    change page and the admin's own log entry records its id."""
    response = _admin_client(superuser).post(
        reverse("admin:policy_packbinding_add"),
        {
            "authority": authority.pk,
            "service_area": "children",
            "purpose": "closure",
            "pack_id": "000-closing-cases",
        },
        follow=True,
    )
    binding = PackBinding.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    change_url = reverse("admin:policy_packbinding_change", args=[binding.pk])
    assert any(change_url in m for m in messages), messages
    assert LogEntry.objects.get().object_id == str(binding.pk)
