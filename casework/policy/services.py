"""Binding packs to an authority: validated and audited like every other change."""

from __future__ import annotations

from django.db import transaction

from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.core.errors import InvalidInput, NotPermitted
from casework.organisation.models import Authority
from casework.policy.loader import PackError, PolicyPack, load_pack
from casework.policy.models import PackBinding, PackPurpose


def pack_binding_problem(service_area: str, purpose: str, pack_id: str) -> str | None:
    """Why `pack_id` cannot govern `purpose` in `service_area`, in words; None if it can."""
    if purpose not in PackPurpose.values:
        return "Choose closure or transfer."
    try:
        pack = load_pack(pack_id)
    except PackError as error:
        more = len(error.problems) - 1
        return (
            f"Pack '{pack_id}' cannot be used: {error.problems[0]}"
            + (f" (and {more} more problems)" if more else "")
            + ". Run manage.py check_pack to see them all."
        )
    if pack.spec.service_area != service_area:
        areas = {"children": "children's", "adults": "adults'"}
        return (
            f"Pack '{pack_id}' is for {areas[pack.spec.service_area]} services, "
            f"not {areas.get(service_area, service_area)} services."
        )
    if purpose not in pack.spec.governs:
        governs = ", ".join(pack.spec.governs) or "nothing (it is shared by other packs)"
        return f"Pack '{pack_id}' does not govern {purpose}; it governs {governs}."
    return None


@transaction.atomic
def pack_bind(
    *, actor: User | None, authority: Authority, service_area: str, purpose: str, pack_id: str
) -> PackBinding:
    """Make `pack_id` govern `purpose` for `service_area`. Only a valid pack for that service
    area that says it governs that purpose can be bound. `actor` None is the system (the
    demo loader); people need to be administrators."""
    if actor is not None and not (actor.is_active and actor.is_staff):
        raise NotPermitted("Only an administrator can change which policy pack applies.")
    problem = pack_binding_problem(service_area, purpose, pack_id)
    if problem:
        raise InvalidInput(problem, field="pack_id")
    pack = load_pack(pack_id)
    binding = PackBinding.objects.filter(
        authority=authority, service_area=service_area, purpose=purpose
    ).first()
    before = binding.pack_id if binding else None
    if binding is None:
        binding = PackBinding(authority=authority, service_area=service_area, purpose=purpose)
    binding.pack_id = pack_id
    binding.bound_by = actor
    binding.save()
    audit_record(
        actor=actor,
        verb="policy.bound",
        category=AuditCategory.CONFIGURATION,
        obj=binding,
        summary=f"{pack.spec.title} now governs {purpose} in {service_area}'s services",
        changes={"pack_id": [before, pack_id]},
    )
    return binding


def bound_pack(authority: Authority, service_area: str, purpose: str) -> PolicyPack | None:
    """The pack that governs `purpose` for `service_area`, or None if none is bound."""
    binding = PackBinding.objects.filter(
        authority=authority, service_area=service_area, purpose=purpose
    ).first()
    return load_pack(binding.pack_id) if binding else None
