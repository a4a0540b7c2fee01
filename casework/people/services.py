"""The one write path for people. Each function checks, writes and audits in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from casework.accounts.models import User
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record, changes_between, snapshot
from casework.core.codes import Ethnicity, Sex
from casework.core.dates import long_date
from casework.core.errors import InvalidInput, NotPermitted, ProblemCollector
from casework.core.identifiers import nhs_number_problem, upn_problem
from casework.organisation.models import Membership
from casework.people.matching import sound_keys
from casework.people.models import (
    Address,
    CarerLink,
    ContactRole,
    Disability,
    KeySafe,
    Person,
    PersonNameKey,
    PhoneNumber,
    ProfessionalContact,
    Relationship,
    RelationshipKind,
    Residence,
)

PERSON_FIELDS = [
    "given_name",
    "family_name",
    "other_names",
    "date_of_birth",
    "expected_date_of_birth",
    "date_of_death",
    "sex",
    "ethnicity",
    "ethnicity_asked",
    "nhs_number",
    "upn",
]


def _require_staff(actor: User) -> None:
    if not actor.is_active or not Membership.objects.current().filter(user=actor).exists():
        raise NotPermitted(
            "You need a current team membership to change records. Ask an administrator."
        )


def _check_person(values: dict[str, Any], problems: ProblemCollector) -> None:
    today = timezone.localdate()
    problems.check(bool(values["given_name"].strip()), "given_name", "Enter a first name.")
    problems.check(bool(values["family_name"].strip()), "family_name", "Enter a last name.")
    born: dt.date | None = values["date_of_birth"]
    expected: dt.date | None = values["expected_date_of_birth"]
    died: dt.date | None = values["date_of_death"]
    if born and born > today:
        problems.add(
            "date_of_birth",
            "Date of birth must be today or in the past. For an unborn child, "
            "enter the expected date of birth instead.",
        )
    if born and expected:
        problems.add(
            "expected_date_of_birth",
            "Enter either a date of birth or an expected date of birth, not both.",
        )
    if died:
        if died > today:
            problems.add("date_of_death", "Date of death must be today or in the past.")
        if born and died < born:
            problems.add(
                "date_of_death",
                "Date of death must be on or after the date of birth: check both dates.",
            )
        if expected and not born:
            problems.add("date_of_death", "An unborn child cannot have a date of death.")
    problems.check(values["sex"] in Sex.values, "sex", "Select the person's sex.")
    if values["ethnicity"]:
        problems.check(
            values["ethnicity"] in Ethnicity.values,
            "ethnicity",
            "Select an ethnicity from the list.",
        )
    if values["nhs_number"]:
        problem = nhs_number_problem(values["nhs_number"])
        if problem:
            problems.add("nhs_number", problem)
    if values["upn"]:
        problem = upn_problem(values["upn"])
        if problem:
            problems.add("upn", problem)


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    values["given_name"] = values["given_name"].strip()
    values["family_name"] = values["family_name"].strip()
    values["nhs_number"] = values["nhs_number"].replace(" ", "")
    values["upn"] = values["upn"].strip().upper()
    return values


def _refresh_name_keys(person: Person) -> None:
    """Keep the person's name sound codes (for tolerant search) in step with their names."""
    keys = sound_keys(person.given_name, person.family_name, person.other_names)
    PersonNameKey.objects.filter(person=person).exclude(key__in=keys).delete()
    PersonNameKey.objects.bulk_create(
        [PersonNameKey(person=person, key=k) for k in keys], ignore_conflicts=True
    )


@transaction.atomic
def person_create(
    *,
    actor: User,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None = None,
    expected_date_of_birth: dt.date | None = None,
    date_of_death: dt.date | None = None,
    sex: str = Sex.UNKNOWN,
    ethnicity: str = "",
    ethnicity_asked: bool = False,
    nhs_number: str = "",
    upn: str = "",
    other_names: str = "",
    local_id: str | None = None,
) -> Person:
    _require_staff(actor)
    values = _normalise(
        {
            "given_name": given_name,
            "family_name": family_name,
            "other_names": other_names,
            "date_of_birth": date_of_birth,
            "expected_date_of_birth": expected_date_of_birth,
            "date_of_death": date_of_death,
            "sex": sex,
            "ethnicity": ethnicity,
            "ethnicity_asked": ethnicity_asked,
            "nhs_number": nhs_number,
            "upn": upn,
        }
    )
    problems = ProblemCollector()
    _check_person(values, problems)
    if local_id is not None:
        problems.check(
            local_id.isalnum() and len(local_id) <= 20,
            "local_id",
            "A local ID must be at most 20 letters and digits (the census rule).",
        )
        problems.check(
            not Person.objects.filter(local_id=local_id).exists(),
            "local_id",
            f"Local ID {local_id} is already used by another person: search for them instead.",
        )
    problems.raise_if_any()
    person = Person.objects.create(local_id=local_id or f"T{uuid.uuid4().hex[:18]}", **values)
    if local_id is None:
        person.local_id = f"P{person.pk:08d}"
        person.save(update_fields=["local_id"])
    _refresh_name_keys(person)
    audit_record(
        actor=actor,
        verb="person.created",
        category=AuditCategory.PERSON,
        obj=person,
        person=person,
        summary=f"Person record created for {person.full_name}",
        changes={k: [None, v] for k, v in snapshot(person, PERSON_FIELDS).items() if v},
    )
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, reason: str = "", **changes: Any) -> Person:
    _require_staff(actor)
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise InvalidInput(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = snapshot(person, PERSON_FIELDS)
    values = _normalise({**{f: getattr(person, f) for f in PERSON_FIELDS}, **changes})
    problems = ProblemCollector()
    _check_person(values, problems)
    problems.raise_if_any()
    for name, value in values.items():
        setattr(person, name, value)
    person.save()
    _refresh_name_keys(person)
    diff = changes_between(before, snapshot(person, PERSON_FIELDS))
    if diff:
        audit_record(
            actor=actor,
            verb="person.updated",
            category=AuditCategory.PERSON,
            obj=person,
            person=person,
            summary=f"Details changed: {', '.join(diff)}",
            reason=reason,
            changes=diff,
        )
    return person


@transaction.atomic
def person_disabilities_record(
    *, actor: User, person: Person, disabilities: list[str], reason: str = ""
) -> Person:
    """Record the person's disabilities as DfE codes (["NONE"] when they have none). The CIN
    census reports them for every child referred (rules 8540, 8790, 8794)."""
    _require_staff(actor)
    person = Person.objects.select_for_update().get(pk=person.pk)
    codes = [code.strip().upper() for code in disabilities]
    problems = ProblemCollector()
    unknown = sorted({code for code in codes if code not in Disability.values})
    problems.check(not unknown, "disabilities", f"Unknown disability codes: {', '.join(unknown)}.")
    problems.check(
        bool(codes),
        "disabilities",
        "Select at least one disability, or 'No disability' if the person has none.",
    )
    problems.check(
        not (Disability.NONE in codes and len(set(codes)) > 1),
        "disabilities",
        "'No disability' cannot be recorded together with a disability: choose one or the other.",
    )
    problems.raise_if_any()
    ordered = [code for code in Disability.values if code in codes]
    before = list(person.disabilities)
    if before == ordered:
        return person
    person.disabilities = ordered
    person.save(update_fields=["disabilities"])
    audit_record(
        actor=actor,
        verb="person.disabilities_recorded",
        category=AuditCategory.PERSON,
        obj=person,
        person=person,
        summary="Disabilities: " + ", ".join(Disability(code).label for code in ordered),
        reason=reason,
        changes={"disabilities": [before, ordered]},
    )
    return person


@transaction.atomic
def person_move_in(
    *,
    actor: User,
    person: Person,
    line_1: str,
    town: str,
    postcode: str,
    started_on: dt.date,
    line_2: str = "",
    address: Address | None = None,
) -> Residence:
    """Record that `person` lives at an address from `started_on`, ending their previous
    residence the day before. Pass `address` to join an existing household."""
    _require_staff(actor)
    problems = ProblemCollector()
    if address is None:
        problems.check(bool(line_1.strip()), "line_1", "Enter the first line of the address.")
        problems.check(bool(town.strip()), "town", "Enter the town or city.")
        problems.check(bool(postcode.strip()), "postcode", "Enter the postcode.")
    problems.check(
        started_on <= timezone.localdate(), "started_on", "A move-in date cannot be in the future."
    )
    if person.date_of_birth:
        problems.check(
            started_on >= person.date_of_birth,
            "started_on",
            "A move-in date cannot be before the person was born.",
        )
    current = person.residences.filter(ended_on__isnull=True).first()
    if current and started_on < current.started_on:
        problems.add(
            "started_on",
            f"The person moved to their current address on {long_date(current.started_on)}: "
            "a new address must start on or after that date.",
        )
    problems.raise_if_any()
    if address is None:
        address = Address.objects.create(
            line_1=line_1.strip(),
            line_2=line_2.strip(),
            town=town.strip(),
            postcode=postcode.strip().upper(),
        )
    if current:
        current.ended_on = max(current.started_on, started_on - dt.timedelta(days=1))
        current.save(update_fields=["ended_on"])
    residence = Residence.objects.create(person=person, address=address, started_on=started_on)
    audit_record(
        actor=actor,
        verb="person.moved",
        category=AuditCategory.PERSON,
        obj=residence,
        person=person,
        event_date=started_on,
        summary=f"Moved to {address}",
    )
    return residence


@transaction.atomic
def phone_number_add(*, actor: User, person: Person, number: str, label: str = "") -> PhoneNumber:
    _require_staff(actor)
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) < 10 or len(digits) > 13:
        raise InvalidInput(
            "Enter a phone number with 10 or 11 digits, like 07700 900 982.", field="number"
        )
    phone = PhoneNumber.objects.create(
        person=person,
        number=number.strip(),
        label=label.strip(),
        confirmed_on=timezone.localdate(),
    )
    audit_record(
        actor=actor,
        verb="person.phone_added",
        category=AuditCategory.PERSON,
        obj=phone,
        person=person,
        summary=f"Phone number added ({label or 'no label'})",
    )
    return phone


@transaction.atomic
def relationship_add(
    *,
    actor: User,
    person: Person,
    relative: Person,
    kind: str,
    has_parental_responsibility: bool = False,
    started_on: dt.date | None = None,
) -> Relationship:
    _require_staff(actor)
    problems = ProblemCollector()
    problems.check(
        person.pk != relative.pk, "relative", "A person cannot be related to themselves."
    )
    problems.check(kind in RelationshipKind.values, "kind", "Select a relationship from the list.")
    problems.check(
        not Relationship.objects.filter(person=person, relative=relative, kind=kind).exists(),
        "kind",
        "This relationship is already recorded.",
    )
    problems.raise_if_any()
    relationship = Relationship.objects.create(
        person=person,
        relative=relative,
        kind=kind,
        has_parental_responsibility=has_parental_responsibility,
        started_on=started_on,
    )
    label = RelationshipKind(kind).label.lower()
    audit_record(
        actor=actor,
        verb="relationship.added",
        category=AuditCategory.PERSON,
        obj=relationship,
        person=relative,
        summary=f"{person.full_name} recorded as {label} of {relative.full_name}",
    )
    return relationship


@transaction.atomic
def professional_contact_add(
    *,
    actor: User,
    person: Person,
    role: str,
    organisation: str,
    started_on: dt.date,
    name: str = "",
    designation: str = "",
    phone: str = "",
    email: str = "",
    is_lead_professional: bool = False,
) -> ProfessionalContact:
    _require_staff(actor)
    problems = ProblemCollector()
    problems.check(role in ContactRole.values, "role", "Select the contact's role from the list.")
    problems.check(bool(organisation.strip()), "organisation", "Enter the organisation or agency.")
    problems.check(
        started_on <= timezone.localdate(), "started_on", "The start date cannot be in the future."
    )
    problems.raise_if_any()
    contact = ProfessionalContact.objects.create(
        person=person,
        role=role,
        organisation=organisation.strip(),
        started_on=started_on,
        name=name.strip(),
        designation=designation.strip(),
        phone=phone.strip(),
        email=email.strip(),
        is_lead_professional=is_lead_professional,
    )
    audit_record(
        actor=actor,
        verb="contact.added",
        category=AuditCategory.PERSON,
        obj=contact,
        person=person,
        event_date=started_on,
        summary=f"{ContactRole(role).label} recorded: {contact.organisation}",
    )
    return contact


@transaction.atomic
def carer_link_add(
    *,
    actor: User,
    carer: Person,
    cared_for: Person,
    started_on: dt.date,
    lives_with_cared_for: bool = False,
    notes: str = "",
) -> CarerLink:
    _require_staff(actor)
    if carer.pk == cared_for.pk:
        raise InvalidInput("A person cannot be recorded as their own carer.", field="carer")
    link = CarerLink.objects.create(
        carer=carer,
        cared_for=cared_for,
        started_on=started_on,
        lives_with_cared_for=lives_with_cared_for,
        notes=notes,
    )
    audit_record(
        actor=actor,
        verb="carer.linked",
        category=AuditCategory.PERSON,
        obj=link,
        person=cared_for,
        event_date=started_on,
        summary=f"{carer.full_name} recorded as carer of {cared_for.full_name}",
    )
    return link


@transaction.atomic
def key_safe_record(*, actor: User, person: Person, location: str, code: str) -> KeySafe:
    _require_staff(actor)
    problems = ProblemCollector()
    problems.check(bool(location.strip()), "location", "Say where the key safe is.")
    problems.check(bool(code.strip()), "code", "Enter the key safe code.")
    problems.raise_if_any()
    key_safe, created = KeySafe.objects.update_or_create(
        person=person,
        defaults={
            "location": location.strip(),
            "code": code.strip(),
            "recorded_on": timezone.localdate(),
        },
    )
    # The code itself stays out of the audit log, which many more people can read.
    audit_record(
        actor=actor,
        verb="key_safe.recorded",
        category=AuditCategory.PERSON,
        obj=key_safe,
        person=person,
        summary="Key safe recorded" if created else "Key safe details changed",
    )
    return key_safe
