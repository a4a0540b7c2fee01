"""People: the subjects of cases, their families, carers and the professionals around them."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q

from casework.core.codes import Ethnicity, Sex
from casework.people.matching import KEY_MAX_LENGTH


class Disability(models.TextChoices):
    """The DfE disability codes (CIN census item Disability; domain-facts.md 1.8). NONE is
    recorded when the child has none, and cannot be combined with another code (rule 8790)."""

    NONE = "NONE", "No disability"
    MOB = "MOB", "Mobility"
    HAND = "HAND", "Hand function"
    PC = "PC", "Personal care"
    INC = "INC", "Incontinence"
    COMM = "COMM", "Communication"
    LD = "LD", "Learning"
    HEAR = "HEAR", "Hearing"
    VIS = "VIS", "Vision"
    BEH = "BEH", "Behaviour"
    CON = "CON", "Consciousness"
    AUT = "AUT", "Autism or Asperger syndrome"
    DDA = "DDA", "Other disability"


class Person(models.Model):
    local_id = models.CharField(
        max_length=20, unique=True, help_text="The authority's own ID (LAchildID in the census)."
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    other_names = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    expected_date_of_birth = models.DateField(
        null=True, blank=True, help_text="For an unborn child."
    )
    date_of_death = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ethnicity = models.CharField(max_length=4, choices=Ethnicity.choices, blank=True)
    ethnicity_asked = models.BooleanField(
        default=False, help_text="The worker asked the person (or their family) their ethnicity."
    )
    nhs_number = models.CharField(max_length=10, blank=True)
    upn = models.CharField("Unique Pupil Number", max_length=13, blank=True)
    # Empty means nobody has recorded it yet, which is not the same as ["NONE"]: the CIN
    # census needs one or the other for every child referred (rule 8540).
    disabilities = models.JSONField(
        default=list, blank=True, help_text="Disability codes, or ['NONE'] for none."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True)
                | Q(date_of_birth__isnull=True)
                | Q(date_of_death__gte=F("date_of_birth")),
                name="person_dies_after_birth",
            ),
        ]
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["date_of_birth"]),
            # Search by identifier (people_search): exact matches on two million people.
            models.Index(fields=["nhs_number"], name="person_nhs_number"),
            models.Index(fields=["upn"], name="person_upn"),
            # A date of birth searched matches an unborn child's expected date too.
            models.Index(fields=["expected_date_of_birth"], name="person_expected_birth"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


class Address(models.Model):
    """A place. People live at addresses through dated residences, so a household is the set
    of people whose current residence is the same address."""

    line_1 = models.CharField(max_length=200)
    line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line_1, self.line_2, self.town, self.postcode) if p)


class Residence(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="residences")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="residence_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["address", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.person} at {self.address} from {self.started_on}"


class PhoneNumber(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phone_numbers")
    number = models.CharField(max_length=30)
    label = models.CharField(max_length=40, blank=True, help_text="e.g. mobile, home, work")
    is_current = models.BooleanField(default=True)
    confirmed_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.number


class RelationshipKind(models.TextChoices):
    """Read as "person is <kind> of relative"."""

    PARENT = "parent", "Parent"
    CHILD = "child", "Child"
    SIBLING = "sibling", "Sibling"
    HALF_SIBLING = "half_sibling", "Half-sibling"
    STEP_PARENT = "step_parent", "Step-parent"
    STEP_CHILD = "step_child", "Step-child"
    PARTNER = "partner", "Partner"
    FORMER_PARTNER = "former_partner", "Former partner"
    GRANDPARENT = "grandparent", "Grandparent"
    GRANDCHILD = "grandchild", "Grandchild"
    AUNT_UNCLE = "aunt_uncle", "Aunt or uncle"
    NIECE_NEPHEW = "niece_nephew", "Niece or nephew"
    FOSTER_CARER = "foster_carer", "Foster carer"
    FOSTER_CHILD = "foster_child", "Foster child"
    FRIEND = "friend", "Friend or neighbour"
    OTHER = "other", "Other"


INVERSE_RELATIONSHIP: dict[str, str] = {
    RelationshipKind.PARENT: RelationshipKind.CHILD,
    RelationshipKind.CHILD: RelationshipKind.PARENT,
    RelationshipKind.SIBLING: RelationshipKind.SIBLING,
    RelationshipKind.HALF_SIBLING: RelationshipKind.HALF_SIBLING,
    RelationshipKind.STEP_PARENT: RelationshipKind.STEP_CHILD,
    RelationshipKind.STEP_CHILD: RelationshipKind.STEP_PARENT,
    RelationshipKind.PARTNER: RelationshipKind.PARTNER,
    RelationshipKind.FORMER_PARTNER: RelationshipKind.FORMER_PARTNER,
    RelationshipKind.GRANDPARENT: RelationshipKind.GRANDCHILD,
    RelationshipKind.GRANDCHILD: RelationshipKind.GRANDPARENT,
    RelationshipKind.AUNT_UNCLE: RelationshipKind.NIECE_NEPHEW,
    RelationshipKind.NIECE_NEPHEW: RelationshipKind.AUNT_UNCLE,
    RelationshipKind.FOSTER_CARER: RelationshipKind.FOSTER_CHILD,
    RelationshipKind.FOSTER_CHILD: RelationshipKind.FOSTER_CARER,
    RelationshipKind.FRIEND: RelationshipKind.FRIEND,
    RelationshipKind.OTHER: RelationshipKind.OTHER,
}


class Relationship(models.Model):
    """One edge of the genogram, stored once and read from either end."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships_out")
    relative = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships_in")
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    has_parental_responsibility = models.BooleanField(default=False)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(person=F("relative")), name="relationship_not_to_self"
            ),
            models.UniqueConstraint(
                fields=["person", "relative", "kind"], name="relationship_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} is {self.get_kind_display().lower()} of {self.relative}"


class ContactRole(models.TextChoices):
    GP = "gp", "GP"
    SCHOOL = "school", "School"
    NURSERY = "nursery", "Nursery or early years"
    HEALTH_VISITOR = "health_visitor", "Health visitor"
    SCHOOL_NURSE = "school_nurse", "School nurse"
    MIDWIFE = "midwife", "Midwife"
    POLICE = "police", "Police"
    HOUSING = "housing", "Housing"
    MENTAL_HEALTH = "mental_health", "Mental health service"
    SUBSTANCE_MISUSE = "substance_misuse", "Drug and alcohol service"
    PROBATION = "probation", "Probation"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    EARLY_HELP = "early_help", "Early help"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse service"
    DISTRICT_NURSE = "district_nurse", "District nurse"
    CARE_PROVIDER = "care_provider", "Care provider"
    VOLUNTARY = "voluntary", "Voluntary organisation"
    OTHER = "other", "Other agency"


class ProfessionalContact(models.Model):
    """A professional or agency involved with a person. Ending it keeps the history."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="professional_contacts"
    )
    role = models.CharField(max_length=30, choices=ContactRole.choices)
    name = models.CharField(max_length=200, blank=True)
    designation = models.CharField(max_length=120, blank=True)
    organisation = models.CharField(max_length=200)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    is_lead_professional = models.BooleanField(default=False)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["role", "organisation"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="contact_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.organisation}"


class CarerLink(models.Model):
    """An unpaid carer linked to the person they care for."""

    carer = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cares_for")
    cared_for = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="carers")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    lives_with_cared_for = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(carer=F("cared_for")), name="carer_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.carer} cares for {self.cared_for}"


class KeySafe(models.Model):
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="key_safe")
    location = models.CharField(max_length=200)
    code = models.CharField(max_length=20)
    recorded_on = models.DateField()

    def __str__(self) -> str:
        return f"Key safe for {self.person}"


class PersonNameKey(models.Model):
    """A sound code of one of the person's name words, or a pair of them, for tolerant
    search (see `casework.people.matching`). Kept in step by the people services."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_keys")
    key = models.CharField(max_length=KEY_MAX_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="one_name_key_per_person")
        ]
        # Key first, then person: search counts each person's matching keys from the index
        # alone, without visiting the table (tens of thousands of rows for a common name).
        indexes = [models.Index(fields=["key", "person"], name="person_name_key_lookup")]

    def __str__(self) -> str:
        return f"{self.key} for person {self.person_id}"
