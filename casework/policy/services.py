"""Binding packs to an authority: validated and audited like every other change."""

from __future__ import annotations

from collections import OrderedDict

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
    binding.authority = authority  # so the caller's copy sees its new bindings key at once
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
    """The pack that governs `purpose` for `service_area`, or None if none is bound. Which
    pack that is, is kept per process under the authority's `bindings_key`, which every
    change of binding replaces (as its calendar is kept under `calendar_key`): a case page
    and a closure proposal each asked once or twice. The authority is as the caller read it,
    normally with the case in this request."""
    key = (authority.pk, authority.bindings_key, service_area, purpose)
    keep = authority.pk is not None and bool(authority.bindings_key)
    if keep and key in _BOUND:
        pack_id = _BOUND[key]
    else:
        pack_id = (
            PackBinding.objects.filter(
                authority=authority, service_area=service_area, purpose=purpose
            )
            .values_list("pack_id", flat=True)
            .first()
        )
        if keep:
            _BOUND[key] = pack_id
            while len(_BOUND) > _BOUND_KEPT:
                _BOUND.popitem(last=False)
    return load_pack(pack_id) if pack_id else None


_BOUND: OrderedDict[tuple[int | None, str, str, str], str | None] = OrderedDict()
_BOUND_KEPT = 256  # one Casework serves one authority (a few areas and purposes); tests many
