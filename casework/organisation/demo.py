"""A synthetic demo authority, built through the services so every record is audited.

Northmoor Borough Council is made up: its people, addresses, schools and GP practices are
invented (postcodes use the unused "NM" area; NHS numbers use the 999 range, which is never
issued). The DfE LA code 931 is real on purpose, so UPNs pass the census validator.

Everything is deterministic (seeded Faker and random.Random) except dates, which are relative
to today so "recent" stays recent. `load_demo` runs in one transaction and refuses to run
when an authority already exists, so it can never duplicate data.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from faker import Faker

from casework.accounts.models import User
from casework.audit.models import AuditEvent
from casework.cases import services as cases
from casework.cases.models import (
    Assessment,
    AssessmentKind,
    Case,
    CaseStatus,
    ConsentKind,
    DecisionKind,
    MeetingKind,
    NoteKind,
    Plan,
    PlanKind,
    ReferralKind,
    Section47Outcome,
    Visit,
)
from casework.closure.services import closure_decide, closure_propose
from casework.core.calendar import WorkingDayCalendar
from casework.core.codes import (
    CategoryOfAbuse,
    CinClosureReason,
    Ethnicity,
    LegalStatus,
    PrimaryNeed,
    ReferralSource,
    Sex,
)
from casework.core.errors import ServiceError
from casework.core.identifiers import make_upn
from casework.organisation.models import (
    Authority,
    ClosureDay,
    Membership,
    Role,
    ServiceArea,
    Team,
    TeamFunction,
)
from casework.people import services as people
from casework.people.models import Address, ContactRole, Disability, Person, RelationshipKind
from casework.policy.models import PackPurpose
from casework.policy.services import pack_bind
from casework.returns.cin import census_year_end_before
from casework.tasks.sweeps import three_monthly_audits
from casework.transfers.pathways import pathway_request
from casework.transfers.services import (
    transfer_audit_record,
    transfer_authorise,
    transfer_discuss,
    transfer_request,
    transfer_summary_submit,
)

SEED = 2026
AUTHORITY_NAME = "Northmoor Borough Council"
LA_CODE = "931"
TOWN = "Northmoor"
CLOSED_NOTE = "Closed before the demo period"
ADMIN_USERNAME = "admin"
ONE_DAY = dt.timedelta(days=1)

# ---------------------------------------------------------------------------------------------
# Teams and staff, as data. Team codes are used by policy packs: keep them exactly.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffSpec:
    """One member of staff in every team that lists it; username is `<team>-<suffix>`."""

    suffix: str
    role: Role
    job_title: str


WORKER = StaffSpec("worker", Role.SOCIAL_WORKER, "Social Worker")
WORKER2 = StaffSpec("worker2", Role.SOCIAL_WORKER, "Senior Social Worker")
MANAGER = StaffSpec("manager", Role.TEAM_MANAGER, "Team Manager")
EH_WORKER = StaffSpec("worker", Role.SOCIAL_WORKER, "Early Help Practitioner")
EH_WORKER2 = StaffSpec("worker2", Role.SOCIAL_WORKER, "Senior Early Help Practitioner")
EH_DUTY_MANAGER = StaffSpec("duty-manager", Role.EARLY_HELP_DUTY_MANAGER, "Early Help Duty Manager")
WRAP_WORKER = StaffSpec("worker", Role.SOCIAL_WORKER, "Family Support Worker")
IRO = StaffSpec("iro", Role.REVIEWING_OFFICER, "Independent Reviewing Officer")
SU_ADMIN = StaffSpec("admin", Role.SAFEGUARDING_UNIT_ADMIN, "Safeguarding Unit Administrator")
SU_MANAGER = StaffSpec("manager", Role.TEAM_MANAGER, "Safeguarding Unit Manager")
SUPPORT = StaffSpec("support", Role.BUSINESS_SUPPORT, "Business Support Officer")
SFM = StaffSpec("sfm", Role.SENIOR_FIELDWORK_MANAGER, "Senior Fieldwork Manager")
SERVICE_MANAGER = StaffSpec("service-manager", Role.SERVICE_MANAGER, "Service Manager")
HEAD = StaffSpec("head", Role.HEAD_OF_SERVICE, "Head of Service")

FIELD_TEAM = (WORKER, WORKER2, MANAGER)


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    area: ServiceArea
    function: TeamFunction
    staff: tuple[StaffSpec, ...]
    holds_cases: bool = True


_C, _A, _F = ServiceArea.CHILDREN, ServiceArea.ADULTS, TeamFunction

TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("irt", "Integrated Referral Team", _C, _F.FRONT_DOOR, FIELD_TEAM),
    TeamSpec("ai", "Assessment and Intervention", _C, _F.ASSESSMENT_INTERVENTION, FIELD_TEAM),
    TeamSpec(
        "sgcp", "Safeguarding and Care Planning", _C, _F.SAFEGUARDING_CARE_PLANNING, FIELD_TEAM
    ),
    TeamSpec("eoc", "Edge of Care", _C, _F.EDGE_OF_CARE, FIELD_TEAM),
    TeamSpec("swis", "Social Workers in Schools", _C, _F.SCHOOLS, FIELD_TEAM),
    TeamSpec(
        "wrap", "Wrap Around Team", _C, _F.WRAP_AROUND, (WRAP_WORKER, MANAGER), holds_cases=False
    ),
    TeamSpec("lac", "Looked After Children", _C, _F.LOOKED_AFTER, FIELD_TEAM),
    TeamSpec("cwd", "Children with Disabilities", _C, _F.DISABILITIES, FIELD_TEAM),
    TeamSpec(
        "eh", "Early Help", _C, _F.EARLY_HELP, (EH_WORKER, EH_WORKER2, MANAGER, EH_DUTY_MANAGER)
    ),
    TeamSpec(
        "su",
        "Safeguarding Unit",
        _C,
        _F.SAFEGUARDING_UNIT,
        (IRO, SU_ADMIN, SU_MANAGER),
        holds_cases=False,
    ),
    TeamSpec(
        "cbs",
        "Children's Business Support",
        _C,
        _F.BUSINESS_SUPPORT,
        (SUPPORT,),
        holds_cases=False,
    ),
    TeamSpec(
        "dfa", "Duty Fostering Admin", _C, _F.DUTY_FOSTERING_ADMIN, (SUPPORT,), holds_cases=False
    ),
    TeamSpec(
        "csm",
        "Children's Senior Management",
        _C,
        _F.OTHER,
        (SFM, SERVICE_MANAGER, HEAD),
        holds_cases=False,
    ),
    TeamSpec("adults-north", "Adults' Locality Team North", _A, _F.ADULTS_LOCALITY, FIELD_TEAM),
    TeamSpec("adults-south", "Adults' Locality Team South", _A, _F.ADULTS_LOCALITY, FIELD_TEAM),
    TeamSpec(
        "abs", "Adults' Business Support", _A, _F.BUSINESS_SUPPORT, (SUPPORT,), holds_cases=False
    ),
    TeamSpec(
        "asm",
        "Adults' Senior Management",
        _A,
        _F.OTHER,
        (SERVICE_MANAGER, HEAD),
        holds_cases=False,
    ),
)

DEMO_USERNAMES: tuple[str, ...] = (
    ADMIN_USERNAME,
    *(f"{team.code}-{spec.suffix}" for team in TEAMS for spec in team.staff),
)

# ---------------------------------------------------------------------------------------------
# Invented places and agencies.
# ---------------------------------------------------------------------------------------------

LOCALITIES: tuple[tuple[str, str], ...] = (
    ("", "NM1"),
    ("Moorside", "NM2"),
    ("Eastfield", "NM3"),
    ("Hollin Bank", "NM4"),
    ("Ashby", "NM5"),
    ("Lower Fold", "NM6"),
)
STREET_STEMS = (
    "Moor",
    "Mill",
    "Chapel",
    "Church",
    "Victoria",
    "Albert",
    "Station",
    "Park",
    "Oak",
    "Ash",
    "Beech",
    "Holly",
    "Heather",
    "Brook",
    "Ridge",
    "Fern",
    "Clough",
    "Weavers",
    "Spinners",
    "Canal",
    "Foundry",
    "Market",
    "Orchard",
    "Meadow",
    "Willow",
    "Rowan",
    "Larch",
    "Granville",
)
STREET_KINDS = (
    "Street",
    "Road",
    "Lane",
    "Avenue",
    "Close",
    "Terrace",
    "Grove",
    "Way",
    "Drive",
    "Crescent",
)
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the inward code never uses C, I, K, M, O or V

GP_PRACTICES = (
    "Moorside Medical Practice",
    "Northmoor Health Centre",
    "Ashby Road Surgery",
    "Chapel Street Medical Centre",
    "Hollin Bank Family Practice",
)
# (name, DfE establishment number within LA 931)
PRIMARY_SCHOOLS = (
    ("Northmoor Park Primary School", "2014"),
    ("Eastfield Community Primary School", "2031"),
    ("St Aidan's Catholic Primary School", "3402"),
    ("Hollin Bank Primary Academy", "2107"),
    ("Lower Fold Primary School", "2056"),
)
SECONDARY_SCHOOLS = (
    ("Northmoor High School", "4003"),
    ("Moorside Academy", "4012"),
    ("Ashby Vale School", "4020"),
)
SPECIAL_SCHOOL = ("Brookfield Special School", "7003")
HEALTH_VISITING = "Northmoor 0-19 Health Visiting Team"
COMMUNITY_NURSING = "Northmoor Community Nursing"
CARE_PROVIDERS = ("Moorcare Home Support Ltd", "Fold Lane Care Services", "Heatherbank Homecare")

# ---------------------------------------------------------------------------------------------
# Names that fit the family's heritage (Faker locales, or short lists where Faker has none).
# ---------------------------------------------------------------------------------------------

HAND_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "pakistani": (
        (
            "Ayesha",
            "Fatima",
            "Zainab",
            "Maryam",
            "Amina",
            "Hafsa",
            "Sana",
            "Noor",
            "Iqra",
            "Khadija",
            "Aleena",
            "Safa",
        ),
        (
            "Muhammad",
            "Ali",
            "Hamza",
            "Ibrahim",
            "Yusuf",
            "Bilal",
            "Zain",
            "Adam",
            "Umar",
            "Hassan",
            "Haris",
            "Usman",
        ),
        (
            "Hussain",
            "Khan",
            "Ahmed",
            "Akhtar",
            "Iqbal",
            "Mahmood",
            "Shah",
            "Rehman",
            "Butt",
            "Raza",
            "Aslam",
            "Javed",
        ),
    ),
    "bangladeshi": (
        ("Nusrat", "Tahmina", "Sumaya", "Rumana", "Shirin", "Farzana", "Jannat", "Anika"),
        ("Abdul", "Rahim", "Shahid", "Kamal", "Imran", "Rayhan", "Tanvir", "Arif"),
        ("Rahman", "Miah", "Uddin", "Islam", "Chowdhury", "Hoque", "Ali", "Begum"),
    ),
}


class Heritage(NamedTuple):
    ethnicity: Ethnicity
    weight: int
    names: str  # a Faker locale or a HAND_NAMES key
    other_parent: Ethnicity | None = None  # for mixed heritage: the second parent's ethnicity


HERITAGES: tuple[Heritage, ...] = (
    Heritage(Ethnicity.WBRI, 60, "en_GB"),
    Heritage(Ethnicity.WIRI, 2, "en_IE"),
    Heritage(Ethnicity.WOTH, 5, "pl_PL"),
    Heritage(Ethnicity.WROM, 2, "ro_RO"),
    Heritage(Ethnicity.APKN, 9, "pakistani"),
    Heritage(Ethnicity.ABAN, 3, "bangladeshi"),
    Heritage(Ethnicity.AIND, 3, "en_IN"),
    Heritage(Ethnicity.BAFR, 3, "en_NG"),
    Heritage(Ethnicity.BCRB, 2, "en_GB"),
    Heritage(Ethnicity.CHNE, 1, "zh_CN"),
    Heritage(Ethnicity.MWBC, 4, "en_GB", Ethnicity.BCRB),
    Heritage(Ethnicity.MWAS, 2, "en_GB", Ethnicity.AIND),
    Heritage(Ethnicity.MWBA, 2, "en_GB", Ethnicity.BAFR),
)
ETHNICITY_NOT_ASKED_SHARE = 0.08

# ---------------------------------------------------------------------------------------------
# Words: referral reasons, visit notes and case notes. {child}, {parent}, {name}, {carer}.
# ---------------------------------------------------------------------------------------------

# need -> (referral source, reason): the source always fits the words.
CHILD_REASONS: dict[str, tuple[tuple[str, str], ...]] = {
    PrimaryNeed.N1: (
        (
            ReferralSource.S6,
            "Police notification after a domestic incident at the family home; "
            "{child} was present and hid upstairs.",
        ),
        (
            ReferralSource.S2A,
            "School reports {child} arrived with bruising to the upper arm and "
            "gave different accounts of how it happened.",
        ),
        (
            ReferralSource.S3B,
            "Health visitor concerned about home conditions and {child}'s "
            "weight falling across two centiles.",
        ),
        (
            ReferralSource.S2A,
            "{child} told a teaching assistant that {parent} hits them with a belt when angry.",
        ),
        (
            ReferralSource.S3E,
            "{child} brought to A&E with a burn that does not fit the explanation given.",
        ),
    ),
    PrimaryNeed.N2: (
        (
            ReferralSource.S3D,
            "Request for an assessment of {child}'s needs arising from autism "
            "and a severe learning disability; {parent} is exhausted.",
        ),
        (
            ReferralSource.S3F,
            "Paediatrician asks for support for {child}, who has complex "
            "health needs and needs care through the night.",
        ),
        (
            ReferralSource.S2B,
            "Special educational needs team asks for a short breaks assessment for {child}.",
        ),
    ),
    PrimaryNeed.N3: (
        (
            ReferralSource.S2A,
            "{parent}'s mental health has deteriorated and {child} is missing "
            "school to look after them.",
        ),
        (
            ReferralSource.S1A,
            "{child}'s grandmother says {parent}'s multiple sclerosis means "
            "{parent} is struggling with {child}'s daily care.",
        ),
    ),
    PrimaryNeed.N4: (
        (
            ReferralSource.S1C,
            "{parent} says they are not coping after an eviction notice and a "
            "bereavement; {child} is sleeping on the sofa.",
        ),
        (
            ReferralSource.S4,
            "Housing report the family is in temporary accommodation after a "
            "flood and {parent} is asking for help.",
        ),
    ),
    PrimaryNeed.N5: (
        (
            ReferralSource.S2A,
            "Repeated arguments between parents witnessed by {child}; school "
            "reports {child} is withdrawn and tired.",
        ),
        (
            ReferralSource.S1A,
            "Conflict between {child} and {parent} has escalated; {parent} "
            "says {child} cannot stay at home.",
        ),
        (
            ReferralSource.S2A,
            "{child}'s attendance has fallen to 61% and {child} says home is 'all shouting'.",
        ),
    ),
    PrimaryNeed.N6: (
        (
            ReferralSource.S6,
            "{child} has been missing from home overnight three times this "
            "month and was found with older males.",
        ),
        (
            ReferralSource.S5B,
            "Youth justice service reports {child} is linked to a county lines group.",
        ),
    ),
    PrimaryNeed.N7: (
        (
            ReferralSource.S2A,
            "Family has no gas or electricity credit and {child} is going to school hungry.",
        ),
    ),
    PrimaryNeed.N8: (
        (
            ReferralSource.S1B,
            "Neighbour says {child} is being looked after by an older sibling "
            "while {parent} is abroad.",
        ),
    ),
}
LAC_REASON = (
    "Transferred from Safeguarding and Care Planning: {child} is to be accommodated after "
    "repeated neglect and a breakdown in the family's care."
)
CONTACT_NEEDS = (PrimaryNeed.N1, PrimaryNeed.N1, PrimaryNeed.N4, PrimaryNeed.N5, PrimaryNeed.N6)

# (referral source, reason), as for children.
ADULT_REASONS: tuple[tuple[str, str], ...] = (
    (
        ReferralSource.S3F,
        "Hospital discharge: {name} fell at home and needs help with washing and dressing.",
    ),
    (
        ReferralSource.S1A,
        "{carer_or_family} reports {name} is no longer managing meals or medication.",
    ),
    (ReferralSource.S3A, "GP asks for a Care Act assessment after {name}'s dementia diagnosis."),
    (ReferralSource.S1C, "Self-referral: {name} wants help to stay independent after a stroke."),
    (
        ReferralSource.S3D,
        "Occupational therapist asks for support for {name}, who can no longer use the stairs.",
    ),
)
SAFEGUARDING_REASONS: tuple[tuple[str, str], ...] = (
    (ReferralSource.S8, "Care provider reports unexplained bruising on {name}'s arms."),
    (ReferralSource.S8, "Bank raised concerns about large cash withdrawals from {name}'s account."),
    (
        ReferralSource.S1B,
        "Neighbour reports {name}'s son shouting and threatening; {name} appears frightened.",
    ),
    (
        ReferralSource.S3D,
        "District nurse found {name} without food or heating and with untreated pressure sores.",
    ),
)

SEEN_ALONE_HOME = (
    "Saw {child} alone in the garden; {child} talked about school and their pet rabbit. "
    "Kitchen cupboards and bedrooms seen.",
    "Saw {child} alone in their bedroom; {child} showed me their drawings and said things at "
    "home are calmer. Home warm, clean and well stocked with food.",
    "Spoke with {child} alone in the kitchen while {parent} waited in the garden. {child} "
    "said they feel safe. Sleeping arrangements seen and appropriate.",
)
SEEN_HOME = (
    "After-school visit; {child} was doing homework with {parent}. Home tidier than last "
    "time and the broken window has been repaired.",
    "Saw {child} with {parent} in the living room. {child} was chatty and appeared well "
    "cared for; {parent} engaged well.",
    "Home visit; {child} was playing and came to say hello. {parent} spoke about the "
    "routines agreed at the last meeting.",
)
SEEN_ALONE_AWAY = (
    "Saw {child} alone at school. {child} talked about friends and football and said home is "
    "'alright'.",
    "Met {child} alone at the family centre; we completed a three houses exercise.",
)
SEEN_AWAY = ("Saw {child} with {parent} at the family centre; brief visit.",)
NOT_SEEN = (
    "{child} was asleep when I arrived; spoke with {parent} about nursery attendance.",
    "No answer at the door; card left asking {parent} to call.",
    "Visited the home; {child} was at school so not seen. Spoke with {parent} about the plan.",
)
ADULT_SEEN_ALONE = (
    "Saw {name} alone at home and talked through how the support is going. {name} said the "
    "carers are kind and on time.",
    "Private conversation with {name} in the front room; {name} was clear about their wishes.",
)
ADULT_SEEN = (
    "Visited {name} at home with family present. Reviewed equipment and medication routine.",
    "Saw {name}; the house was warm and there was food in the fridge.",
)
ADULT_NOT_SEEN = (
    "{child} was asleep when I arrived; spoke with {parent} about nursery attendance.",
    "No answer at the door; card left with the office number.",
    "Family member answered and said {name} was asleep; I was not invited in.",
    "Telephone call with family: {name} declined to speak to me.",
)

CHILD_NOTES = (
    (
        "Telephone call with school",
        "Designated safeguarding lead says {child}'s attendance has "
        "improved to 92% and {child} is settled in class.",
    ),
    (
        "Call with health visitor",
        "Health visitor confirms {child} attended the 2-year check; "
        "development within expected range.",
    ),
    (
        "Discussion with {parent}",
        "{parent} called to say the new routine is working but money "
        "is tight; referred to the welfare rights service.",
    ),
    (
        "Strengths and worries",
        "Worries: parental conflict and missed appointments. Strengths: "
        "warm relationship between {child} and {parent}, wider family support.",
    ),
)
ADULT_NOTES = (
    (
        "Call with care provider",
        "Provider confirms double-handed calls in place; no missed visits this month.",
    ),
    (
        "Call with {carer_or_family}",
        "{carer_or_family} says {name} is sleeping better and eating well.",
    ),
    ("Equipment", "Occupational therapy delivered a perching stool and grab rails."),
)
CP_CATEGORIES = (
    (CategoryOfAbuse.NEG, 50),
    (CategoryOfAbuse.EMO, 30),
    (CategoryOfAbuse.PHY, 10),
    (CategoryOfAbuse.SAB, 5),
    (CategoryOfAbuse.MUL, 5),
)


# ---------------------------------------------------------------------------------------------
# The loader's state.
# ---------------------------------------------------------------------------------------------


@dataclass
class Demo:
    today: dt.date
    rng: random.Random
    fakers: dict[str, Faker]
    calendar: WorkingDayCalendar
    teams: dict[str, Team]
    staff: dict[str, User]
    gps: dict[str, str] = field(default_factory=dict)  # practice -> GP's name
    school_leads: dict[str, str] = field(default_factory=dict)  # school -> DSL's name
    nhs_numbers: set[str] = field(default_factory=set)
    upn_serials: Counter[tuple[str, int]] = field(default_factory=Counter)
    turns: Counter[str] = field(default_factory=Counter)

    @property
    def fake(self) -> Faker:
        return self.fakers["en_GB"]

    def ago(self, low: int, high: int | None = None) -> dt.date:
        """A day `low` (to `high`) days before today."""
        return self.today - dt.timedelta(days=self.rng.randint(low, high or low))

    def working_day(self, day: dt.date, not_before: dt.date | None = None) -> dt.date:
        """The last working day on or before `day` (never after today); if that falls before
        `not_before`, the first working day from `not_before` instead, while not in the future."""
        back = min(day, self.today)
        while not self.calendar.is_working_day(back):
            back -= ONE_DAY
        if not_before is None or back >= not_before:
            return back
        forward = not_before
        while not self.calendar.is_working_day(forward) and forward < self.today:
            forward += ONE_DAY
        return min(forward, self.today)

    def member(self, team: str, suffix: str) -> User:
        return self.staff[f"{team}-{suffix}"]

    def manager(self, team: str) -> User:
        return self.member(team, "manager")

    def next_worker(self, team: str) -> User:
        """The team's two workers in turn, so caseloads are spread."""
        self.turns[team] += 1
        return self.member(team, "worker" if self.turns[team] % 2 else "worker2")

    def chance(self, share: float) -> bool:
        return self.rng.random() < share

    def nhs_number(self) -> str:
        """A valid, unique NHS number in the 999 range (reserved: never issued to anyone)."""
        while True:
            stem = f"999{self.rng.randrange(10**6):06d}"
            total = sum(int(d) * (10 - i) for i, d in enumerate(stem))
            check = (11 - total % 11) % 11
            number = f"{stem}{check}"
            if check != 10 and number not in self.nhs_numbers:
                self.nhs_numbers.add(number)
                return number

    def upn(self, establishment: str, born: dt.date) -> str:
        year = min(born.year + 5, self.today.year)
        self.upn_serials[(establishment, year)] += 1
        return make_upn(LA_CODE, establishment, year, self.upn_serials[(establishment, year)])

    def given_name(self, names: str, sex: str) -> str:
        if names in HAND_NAMES:
            return self.rng.choice(HAND_NAMES[names][0 if sex == Sex.FEMALE else 1])
        fake = self.fakers[names]
        if names == "zh_CN":
            return fake.first_romanized_name()
        return fake.first_name_female() if sex == Sex.FEMALE else fake.first_name_male()

    def family_name(self, names: str) -> str:
        if names in HAND_NAMES:
            return self.rng.choice(HAND_NAMES[names][2])
        fake = self.fakers[names]
        return fake.last_romanized_name() if names == "zh_CN" else fake.last_name()


def years(n: float) -> dt.timedelta:
    return dt.timedelta(days=round(365.25 * n))


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def born(person: Person) -> dt.date:
    assert person.date_of_birth is not None  # noqa: S101 - every demo person has one
    return person.date_of_birth


# ---------------------------------------------------------------------------------------------
# Organisation: authority, teams, staff.
# ---------------------------------------------------------------------------------------------


def build_authority(today: dt.date) -> Authority:
    authority = Authority.objects.create(name=AUTHORITY_NAME, la_code=LA_CODE, nation="ENG")
    ClosureDay.objects.create(
        authority=authority, day=dt.date(today.year, 12, 24), reason="Council closure day"
    )
    return authority


def build_teams(authority: Authority) -> dict[str, Team]:
    return {
        spec.code: Team.objects.create(
            authority=authority,
            code=spec.code,
            name=spec.name,
            service_area=spec.area,
            function=spec.function,
            holds_cases=spec.holds_cases,
        )
        for spec in TEAMS
    }


def build_staff(
    fake: Faker, teams: dict[str, Team], today: dt.date, password: str
) -> dict[str, User]:
    """One user per role per team. Staff accounts are an administrator's job, not case work,
    so they are created directly; the password is hashed once and shared."""
    started = today - dt.timedelta(days=730)
    staff: dict[str, User] = {}
    for spec in TEAMS:
        for member in spec.staff:
            username = f"{spec.code}-{member.suffix}"
            first = fake.first_name_female() if fake.pybool(60) else fake.first_name_male()
            user = User.objects.create_user(
                username=username,
                email=f"{username}@northmoor.example",
                password=None,
                first_name=first,
                last_name=fake.last_name(),
                job_title=member.job_title,
                is_staff=False,
            )
            Membership.objects.create(
                user=user, team=teams[spec.code], role=member.role, started_on=started
            )
            staff[username] = user
    admin = User.objects.create_superuser(
        username=ADMIN_USERNAME,
        email="admin@northmoor.example",
        password=None,
        first_name="Demo",
        last_name="Administrator",
        job_title="System administrator",
    )
    User.objects.filter(pk__in=[admin.pk, *(u.pk for u in staff.values())]).update(
        password=make_password(password)
    )
    return staff


def new_demo(authority: Authority, staff_password: str, today: dt.date) -> Demo:
    fakers: dict[str, Faker] = {}
    for locale in sorted({h.names for h in HERITAGES if h.names not in HAND_NAMES}):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(SEED)
    teams = build_teams(authority)
    staff = build_staff(fakers["en_GB"], teams, today, staff_password)
    rng = random.Random(SEED)  # noqa: S311 - repeatable made-up data, not security
    demo = Demo(
        today=today,
        rng=rng,
        fakers=fakers,
        calendar=authority.calendar(),
        teams=teams,
        staff=staff,
    )
    demo.gps = {p: f"Dr {demo.fake.last_name()}" for p in GP_PRACTICES}
    schools = (*PRIMARY_SCHOOLS, *SECONDARY_SCHOOLS, SPECIAL_SCHOOL)
    demo.school_leads = {name: demo.fake.name() for name, _ in schools}
    return demo


# ---------------------------------------------------------------------------------------------
# People and households.
# ---------------------------------------------------------------------------------------------


@dataclass
class Member:
    person: Person
    label: str  # how they appear in meeting attendees: "Mother", "Foster carer"


@dataclass
class Household:
    subject: Person
    address: Address
    adults: list[Member]
    children: list[Person]  # other children (siblings), not the subject
    professionals: list[dict[str, str]] = field(default_factory=list)

    @property
    def lead_adult(self) -> Person:
        return self.adults[0].person if self.adults else self.subject

    def words(self) -> dict[str, str]:
        """Names for the text templates."""
        carer = self.adults[0].person.given_name if self.adults else "Family"
        return {
            "child": self.subject.given_name,
            "name": self.subject.given_name,
            "parent": self.lead_adult.given_name,
            "carer_or_family": carer,
        }


def new_address(demo: Demo) -> tuple[str, str, str, str]:
    locality, district = demo.rng.choice(LOCALITIES)
    street = f"{demo.rng.choice(STREET_STEMS)} {demo.rng.choice(STREET_KINDS)}"
    inward = f"{demo.rng.randint(1, 9)}{''.join(demo.rng.choices(POSTCODE_LETTERS, k=2))}"
    return f"{demo.rng.randint(1, 140)} {street}", locality, TOWN, f"{district} {inward}"


def add_person(
    demo: Demo,
    actor: User,
    *,
    given: str,
    family: str,
    date_of_birth: dt.date,
    sex: str,
    ethnicity: str,
    asked: bool,
    upn: str = "",
) -> Person:
    return people.person_create(
        actor=actor,
        given_name=given,
        family_name=family,
        date_of_birth=date_of_birth,
        sex=sex,
        ethnicity=ethnicity if asked else Ethnicity.NOBT,
        ethnicity_asked=asked,
        nhs_number=demo.nhs_number(),
        upn=upn,
    )


def house(demo: Demo, actor: User, residents: Sequence[Person], since: dt.date) -> Address:
    """Everyone in `residents` lives at one new address, from `since` (or birth, if later)."""
    line_1, line_2, town, postcode = new_address(demo)
    first = people.person_move_in(
        actor=actor,
        person=residents[0],
        line_1=line_1,
        line_2=line_2,
        town=town,
        postcode=postcode,
        started_on=max(since, born(residents[0])),
    )
    for person in residents[1:]:
        move_in(actor, person, first.address, since)
    return first.address


def move_in(actor: User, person: Person, address: Address, since: dt.date) -> None:
    people.person_move_in(
        actor=actor,
        person=person,
        line_1="",
        town="",
        postcode="",
        address=address,
        started_on=max(since, born(person)),
    )


def add_gp(demo: Demo, actor: User, residents: Sequence[Person], since: dt.date) -> str:
    practice = demo.rng.choice(GP_PRACTICES)
    for person in residents:
        people.professional_contact_add(
            actor=actor,
            person=person,
            role=ContactRole.GP,
            organisation=practice,
            name=demo.gps[practice],
            designation="GP",
            started_on=max(since, born(person)),
        )
    return practice


def add_child_professionals(
    demo: Demo, actor: User, child: Person, *, lead: bool = False, special: bool = False
) -> dict[str, str] | None:
    """School (with its DSL) for school-age children, health visitor for under-fives."""
    age = age_on(born(child), demo.today)
    if age < 5:
        name = demo.fake.name()
        people.professional_contact_add(
            actor=actor,
            person=child,
            role=ContactRole.HEALTH_VISITOR,
            organisation=HEALTH_VISITING,
            name=name,
            designation="Health Visitor",
            started_on=born(child) + dt.timedelta(days=10),
        )
        return {"name": name, "role": "Health visitor"}
    school = school_for(demo, age, special)
    people.professional_contact_add(
        actor=actor,
        person=child,
        role=ContactRole.SCHOOL,
        organisation=school[0],
        name=demo.school_leads[school[0]],
        designation="Designated Safeguarding Lead",
        started_on=demo.today - years(min(age - 4, 5)),
        is_lead_professional=lead,
    )
    return {"name": demo.school_leads[school[0]], "role": f"DSL, {school[0]}"}


def school_for(demo: Demo, age: int, special: bool) -> tuple[str, str]:
    if special:
        return SPECIAL_SCHOOL
    return demo.rng.choice(PRIMARY_SCHOOLS if age < 11 else SECONDARY_SCHOOLS)


def pick_heritage(demo: Demo) -> Heritage:
    return demo.rng.choices(HERITAGES, weights=[h.weight for h in HERITAGES])[0]


def child_dobs(demo: Demo, opened: dt.date, ages: tuple[int, int]) -> tuple[dt.date, list[dt.date]]:
    """The subject's date of birth (aged `ages` when the case opened) and 0-3 siblings'."""
    subject = opened - dt.timedelta(days=demo.rng.randint(ages[0] * 365 + 30, ages[1] * 365 + 300))
    count = demo.rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0]
    siblings: list[dt.date] = []
    while len(siblings) < count:
        dob = demo.ago(20, 17 * 365)
        if all(abs((dob - other).days) > 330 for other in (subject, *siblings)):
            siblings.append(dob)
    return subject, siblings


def child_household(
    demo: Demo,
    actor: User,
    opened: dt.date,
    ages: tuple[int, int],
    *,
    lead_school: bool = False,
    special_school: bool = False,
) -> Household:
    """A child (aged `ages` at `opened`) living with 1-2 parents and 0-3 siblings."""
    heritage = pick_heritage(demo)
    asked = not demo.chance(ETHNICITY_NOT_ASKED_SHARE)
    family = demo.family_name(heritage.names)
    subject_dob, sibling_dobs = child_dobs(demo, opened, ages)
    children = [
        add_child(demo, actor, heritage, family, dob, asked, special=special_school and i == 0)
        for i, dob in enumerate([subject_dob, *sibling_dobs])
    ]
    eldest = min([subject_dob, *sibling_dobs])
    adults = add_parents(demo, actor, heritage, family, eldest, asked)
    residents = [m.person for m in adults] + children
    since = min(opened - dt.timedelta(days=demo.rng.randint(30, 8 * 365)), demo.today)
    address = house(demo, actor, residents, since)
    home = Household(subject=children[0], address=address, adults=adults, children=children[1:])
    relate_family(demo, actor, home)
    practice = add_gp(demo, actor, residents, since)
    home.professionals.append({"name": demo.gps[practice], "role": f"GP, {practice}"})
    for i, child in enumerate(children):
        contact = add_child_professionals(
            demo, actor, child, lead=lead_school and i == 0, special=special_school and i == 0
        )
        if contact and i == 0:
            home.professionals.append(contact)
    people.phone_number_add(
        actor=actor,
        person=adults[0].person,
        number=f"07700 900{demo.rng.randrange(1000):03d}",
        label="mobile",
    )
    return home


def add_child(
    demo: Demo,
    actor: User,
    heritage: Heritage,
    family: str,
    dob: dt.date,
    asked: bool,
    *,
    special: bool = False,
) -> Person:
    sex = demo.rng.choice((Sex.FEMALE, Sex.MALE))
    upn = ""
    if age_on(dob, demo.today) >= 5:
        upn = demo.upn(school_for(demo, age_on(dob, demo.today), special)[1], dob)
    return add_person(
        demo,
        actor,
        given=demo.given_name(heritage.names, sex),
        family=family,
        date_of_birth=dob,
        sex=sex,
        ethnicity=heritage.ethnicity,
        asked=asked,
        upn=upn,
    )


def add_parents(
    demo: Demo, actor: User, heritage: Heritage, family: str, eldest: dt.date, asked: bool
) -> list[Member]:
    """A mother (or, sometimes, a lone father) and perhaps a father or step-parent."""
    first_sex = Sex.FEMALE if demo.chance(0.88) else Sex.MALE
    first_ethnicity = Ethnicity.WBRI if heritage.other_parent else heritage.ethnicity
    first_names = "en_GB" if heritage.other_parent else heritage.names
    first_born = (
        eldest - years(demo.rng.randint(18, 36)) - dt.timedelta(days=demo.rng.randint(0, 300))
    )
    first = add_person(
        demo,
        actor,
        given=demo.given_name(first_names, first_sex),
        family=family,
        date_of_birth=first_born,
        sex=first_sex,
        ethnicity=first_ethnicity,
        asked=asked,
    )
    adults = [Member(first, "Mother" if first_sex == Sex.FEMALE else "Father")]
    if first_sex == Sex.FEMALE and demo.chance(0.6):
        step = demo.chance(0.3)
        names = heritage.names if not step else first_names
        second = add_person(
            demo,
            actor,
            given=demo.given_name(names, Sex.MALE),
            family=demo.family_name(names) if step else family,
            date_of_birth=born(first) - dt.timedelta(days=demo.rng.randint(-900, 2500)),
            sex=Sex.MALE,
            ethnicity=heritage.other_parent or heritage.ethnicity,
            asked=asked,
        )
        adults.append(Member(second, "Step-father" if step else "Father"))
    return adults


def relate_family(demo: Demo, actor: User, home: Household) -> None:
    children = [home.subject, *home.children]
    for adult in home.adults:
        step = adult.label.startswith("Step")
        for child in children:
            people.relationship_add(
                actor=actor,
                person=adult.person,
                relative=child,
                kind=RelationshipKind.STEP_PARENT if step else RelationshipKind.PARENT,
                has_parental_responsibility=not step,
                started_on=born(child),
            )
    if len(home.adults) == 2:
        people.relationship_add(
            actor=actor,
            person=home.adults[0].person,
            relative=home.adults[1].person,
            kind=RelationshipKind.PARTNER,
        )
    for i, child in enumerate(children):
        for other in children[i + 1 :]:
            people.relationship_add(
                actor=actor, person=child, relative=other, kind=RelationshipKind.SIBLING
            )


def adult_household(
    demo: Demo, actor: User, opened: dt.date, *, with_carer: bool = False
) -> Household:
    """An adult (mostly older) living alone, with a partner, or with a grown-up child; when
    `with_carer`, one of them is recorded as their unpaid carer."""
    heritage = pick_heritage(demo)
    asked = not demo.chance(ETHNICITY_NOT_ASKED_SHARE)
    names = "en_GB" if heritage.other_parent else heritage.names
    ethnicity = Ethnicity.WBRI if heritage.other_parent else heritage.ethnicity
    family = demo.family_name(names)
    older = demo.chance(0.72)
    sex = demo.rng.choice((Sex.FEMALE, Sex.MALE))
    age = demo.rng.randint(68, 95) if older else demo.rng.randint(19, 64)
    subject = add_person(
        demo,
        actor,
        given=demo.given_name(names, sex),
        family=family,
        date_of_birth=opened - years(age) - dt.timedelta(days=demo.rng.randint(0, 360)),
        sex=sex,
        ethnicity=ethnicity,
        asked=asked,
    )
    others = household_adults(demo, actor, subject, names, ethnicity, asked, with_carer, older)
    since = opened - dt.timedelta(days=demo.rng.randint(365, 30 * 365))
    address = house(demo, actor, [subject, *(m.person for m in others)], since)
    home = Household(subject=subject, address=address, adults=others, children=[])
    practice = add_gp(demo, actor, [subject, *(m.person for m in others)], since)
    home.professionals.append({"name": demo.gps[practice], "role": f"GP, {practice}"})
    if older and demo.chance(0.4):
        nurse = demo.fake.name()
        people.professional_contact_add(
            actor=actor,
            person=subject,
            role=ContactRole.DISTRICT_NURSE,
            organisation=COMMUNITY_NURSING,
            name=nurse,
            designation="District Nurse",
            started_on=opened,
        )
        home.professionals.append({"name": nurse, "role": "District nurse"})
    return home


def household_adults(
    demo: Demo,
    actor: User,
    subject: Person,
    names: str,
    ethnicity: str,
    asked: bool,
    with_carer: bool,
    older: bool,
) -> list[Member]:
    """Who else lives there: perhaps a partner, perhaps a grown-up child (or, for a younger
    adult, a parent). With `with_carer` there is always at least one of them."""
    others: list[Member] = []
    if demo.chance(0.5 if with_carer else 0.4):
        sex = Sex.MALE if subject.sex == Sex.FEMALE else Sex.FEMALE
        partner = add_person(
            demo,
            actor,
            given=demo.given_name(names, sex),
            family=subject.family_name,
            date_of_birth=born(subject) + dt.timedelta(days=demo.rng.randint(-1500, 300)),
            sex=sex,
            ethnicity=ethnicity,
            asked=asked,
        )
        people.relationship_add(
            actor=actor, person=partner, relative=subject, kind=RelationshipKind.PARTNER
        )
        others.append(Member(partner, "Husband" if sex == Sex.MALE else "Wife"))
    if (with_carer and not others) or (older and demo.chance(0.15)):
        others.append(add_relative(demo, actor, subject, names, ethnicity, asked, older))
    return others


def add_relative(
    demo: Demo,
    actor: User,
    subject: Person,
    names: str,
    ethnicity: str,
    asked: bool,
    older: bool,
) -> Member:
    """A grown-up child of an older person, or a parent of a younger one."""
    sex = demo.rng.choice((Sex.FEMALE, Sex.MALE))
    gap = years(demo.rng.randint(22, 35))
    relative = add_person(
        demo,
        actor,
        given=demo.given_name(names, sex),
        family=subject.family_name,
        date_of_birth=born(subject) + gap if older else born(subject) - gap,
        sex=sex,
        ethnicity=ethnicity,
        asked=asked,
    )
    parent, child = (subject, relative) if older else (relative, subject)
    people.relationship_add(
        actor=actor,
        person=parent,
        relative=child,
        kind=RelationshipKind.PARENT,
        started_on=born(child),
    )
    if older:
        return Member(relative, "Daughter" if sex == Sex.FEMALE else "Son")
    return Member(relative, "Mother" if sex == Sex.FEMALE else "Father")


# ---------------------------------------------------------------------------------------------
# Case work, through the services, acting as the right worker or manager.
# ---------------------------------------------------------------------------------------------


def open_case(
    demo: Demo,
    home: Household,
    team: str,
    opened: dt.date,
    worker: User | None,
    *,
    need: str = "",
    source: str = "",
    reason: str = "",
    kind: str = ReferralKind.REFERRAL,
    actor: User | None = None,
) -> Case:
    """Open the case from a contact or referral. Without `reason`, one fitting the need (and
    `source`, if given) is chosen; a contact's primary need is left for the decision."""
    if not reason:
        options = [r for r in CHILD_REASONS[need] if r[0] == source] or CHILD_REASONS[need]
        picked, template = demo.rng.choice(options)
        source, reason = source or picked, template.format(**home.words())
    if not home.subject.disabilities:
        # The CIN census needs every referred child's disabilities, or NONE (rule 8540).
        people.person_disabilities_record(
            actor=actor or worker or demo.member(team, "worker"),
            person=home.subject,
            disabilities=[Disability.NONE],
        )
    return cases.case_open(
        actor=actor or worker or demo.member(team, "worker"),
        subject=home.subject,
        team=demo.teams[team],
        received_on=opened,
        source=source,
        reason=reason,
        kind=kind,
        primary_need=need if kind == ReferralKind.REFERRAL else "",
        allocated_worker=worker,
    )


def attendees(home: Household, actor: User, *extra: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": actor.display_name, "role": actor.job_title or "Social worker"},
        *({"name": m.person.full_name, "role": m.label} for m in home.adults),
        *home.professionals,
        *extra,
    ]


def meeting(
    demo: Demo,
    case: Case,
    home: Household,
    actor: User,
    kind: str,
    held_on: dt.date,
    minutes: str,
    *extra: dict[str, str],
) -> None:
    cases.meeting_record(
        actor=actor,
        case=case,
        kind=kind,
        held_on=held_on,
        attendees=attendees(home, actor, *extra),
        minutes=minutes,
    )


def visit(
    demo: Demo,
    case: Case,
    home: Household,
    actor: User,
    day: dt.date,
    *,
    seen: bool,
    alone: bool,
    at_home: bool,
    adult: bool = False,
) -> Visit:
    texts: tuple[str, ...]
    if adult:
        texts = ADULT_SEEN_ALONE if alone else ADULT_SEEN if seen else ADULT_NOT_SEEN
    elif seen:
        texts = (
            (SEEN_ALONE_HOME if at_home else SEEN_ALONE_AWAY)
            if alone
            else (SEEN_HOME if at_home else SEEN_AWAY)
        )
    else:
        texts = NOT_SEEN
    return cases.visit_record(
        actor=actor,
        case=case,
        visited_on=day,
        subject_seen=seen,
        seen_alone=alone,
        home_visited=at_home,
        notes=demo.rng.choice(texts).format(**home.words()),
    )


def routine_visits(
    demo: Demo,
    case: Case,
    home: Household,
    actor: User,
    *,
    start: dt.date,
    every: int,
    count: int,
    end: dt.date | None = None,
    alone_at_home: bool = True,
    adult: bool = False,
) -> None:
    """Up to `count` visits about `every` days apart, the latest close to `end` (today), none
    before `start`. `alone_at_home=False` never combines seen alone with a home visit."""
    last = end or demo.today
    days = sorted(
        {
            demo.working_day(last - dt.timedelta(days=i * every + demo.rng.randint(1, 4)), start)
            for i in range(count)
            if last - dt.timedelta(days=i * every) >= start
        }
    )
    for day in days:
        seen = demo.chance(0.88)
        alone = seen and demo.chance(0.55)
        at_home = demo.chance(0.7) and (alone_at_home or not alone)
        visit(demo, case, home, actor, day, seen=seen, alone=alone, at_home=at_home, adult=adult)


def case_note(demo: Demo, case: Case, home: Household, actor: User, day: dt.date) -> None:
    title, body = demo.rng.choice(CHILD_NOTES)
    words = home.words()
    cases.note_add(
        actor=actor,
        case=case,
        title=title.format(**words),
        body=body.format(**words),
        occurred_on=day,
    )


def assess(
    demo: Demo,
    case: Case,
    team: str,
    actor: User,
    kind: str,
    started: dt.date,
    completed: dt.date | None,
    *,
    factors: Sequence[str] = (),
    outcome: str = "Needs identified: a plan is recommended.",
) -> Assessment:
    """Start an assessment as the worker; the team manager completes and authorises it."""
    assessment = cases.assessment_start(actor=actor, case=case, kind=kind, started_on=started)
    if completed is not None:
        cases.assessment_complete(
            actor=demo.manager(team),
            assessment=assessment,
            completed_on=completed,
            outcome=outcome,
            factors=list(factors or ["21"]),
            sent_to="Parents; GP; school",
            authorise=True,
        )
    return assessment


def supervise(demo: Demo, case: Case, team: str, day: dt.date, about: str) -> None:
    cases.supervision_record(
        actor=demo.manager(team),
        case=case,
        held_on=day,
        discussion=f"Reviewed progress with the allocated worker. {about}",
        actions="Keep visiting within timescales; update the chronology before the next review.",
    )


def random_factors(demo: Demo, pool: Sequence[str], k: int = 2) -> list[str]:
    return sorted(set(demo.rng.sample(list(pool), k)))


def cin_plan(
    demo: Demo, case: Case, home: Household, actor: User, start: dt.date, end: dt.date | None
) -> Plan:
    """A child in need plan with meetings about every six weeks until `end` (or today)."""
    plan = cases.plan_start(
        actor=actor,
        case=case,
        kind=PlanKind.CHILD_IN_NEED,
        started_on=start,
        summary="Support with routines, school attendance and parenting.",
    )
    last = end or demo.today
    day = start + dt.timedelta(days=10)
    while day <= last:
        meeting(
            demo,
            case,
            home,
            actor,
            MeetingKind.CIN_MEETING,
            demo.working_day(day, start),
            "Plan reviewed; actions agreed with the family and school.",
        )
        day += dt.timedelta(days=42)
    if end is not None:
        cases.plan_end(actor=actor, plan=plan, ended_on=end, outcome="Needs met; plan ended.")
    return plan


def cp_plan(
    demo: Demo, case: Case, home: Household, actor: User, opened: dt.date, end: dt.date | None
) -> tuple[Plan, dt.date]:
    """Strategy discussion, assessment, ICPC, CP plan, core group and reviews."""
    meeting(
        demo,
        case,
        home,
        actor,
        MeetingKind.STRATEGY,
        opened,
        "Threshold met for section 47 enquiries.",
        {"name": "DC " + demo.fake.last_name(), "role": "Police"},
    )
    icpc = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(10, 15)), opened + ONE_DAY)
    cases.section47_record(
        actor=actor,
        case=case,
        started_on=opened,
        outcome=Section47Outcome.ICPC,
        concluded_on=demo.working_day(icpc - dt.timedelta(days=5), opened),
        icpc_on=icpc,
    )
    assess(
        demo,
        case,
        "sgcp",
        actor,
        AssessmentKind.SINGLE,
        opened,
        icpc,
        factors=random_factors(demo, ("3B", "4B", "2B", "1B", "16A", "17A")),
        outcome="Significant harm: initial child protection conference requested.",
    )
    chair = {"name": demo.member("su", "iro").display_name, "role": "Conference chair"}
    meeting(
        demo,
        case,
        home,
        actor,
        MeetingKind.INITIAL_CP_CONFERENCE,
        icpc,
        "Child protection plan agreed.",
        chair,
    )
    category = demo.rng.choices([c for c, _ in CP_CATEGORIES], [w for _, w in CP_CATEGORIES])[0]
    plan = cases.plan_start(
        actor=actor,
        case=case,
        kind=PlanKind.CHILD_PROTECTION,
        started_on=icpc,
        category=category,
        summary="Keep the child safe; parents to engage with support.",
    )
    last = end or demo.today
    core = demo.calendar.add_working_days(icpc, 10)
    if core <= last:
        meeting(demo, case, home, actor, MeetingKind.CORE_GROUP, core, "Core group plan agreed.")
    review = icpc + dt.timedelta(days=90)
    while review < last:
        meeting(
            demo,
            case,
            home,
            actor,
            MeetingKind.CP_REVIEW,
            demo.working_day(review, icpc),
            "Plan continues.",
            chair,
        )
        review += dt.timedelta(days=180)
    if end is not None:
        meeting(
            demo,
            case,
            home,
            actor,
            MeetingKind.CP_REVIEW,
            end,
            "Risks reduced: the child protection plan ends; step down to child in need.",
            chair,
        )
        cases.plan_end(actor=actor, plan=plan, ended_on=end, outcome="Risk reduced.")
    return plan, icpc


def close_imported(demo: Demo, case: Case, team: str, closed: dt.date, reason: str) -> None:
    cases.case_close_imported(
        actor=demo.manager(team), case=case, closed_on=closed, reason_code=reason, note=CLOSED_NOTE
    )


# ---------------------------------------------------------------------------------------------
# Children's scenarios: one function each.
# ---------------------------------------------------------------------------------------------


def front_door_contact(demo: Demo, n: int) -> None:
    """A contact in the Integrated Referral Team, a day or two old, not yet allocated."""
    actor = demo.next_worker("irt")
    received = demo.ago(0, 2)
    home = child_household(demo, actor, received, (0, 16))
    case = open_case(
        demo,
        home,
        "irt",
        received,
        None,
        actor=actor,
        need=demo.rng.choice(CONTACT_NEEDS),
        kind=ReferralKind.CONTACT,
    )
    cases.note_add(
        actor=actor,
        case=case,
        kind=NoteKind.TELEPHONE,
        title="Call with referrer",
        body="Referrer's concerns taken; checks with police, health and school requested.",
        occurred_on=received,
    )


def assessment_in_progress(demo: Demo, n: int) -> None:
    """Assessment and Intervention: a single assessment under way (every sixth unallocated)."""
    worker = None if n % 6 == 5 else demo.next_worker("ai")
    actor = worker or demo.member("ai", "worker")
    opened = demo.working_day(demo.ago(5, 40))
    home = child_household(demo, actor, opened, (0, 16))
    need = demo.rng.choice((PrimaryNeed.N1, PrimaryNeed.N4, PrimaryNeed.N5, PrimaryNeed.N3))
    case = open_case(demo, home, "ai", opened, worker, need=need)
    start = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(1, 3)), opened)
    assess(demo, case, "ai", actor, AssessmentKind.SINGLE, start, None)
    cases.consent_record(
        actor=actor,
        case=case,
        kind=ConsentKind.ASSESSMENT,
        given_by=home.lead_adult.full_name,
        given_on=start,
        signed=demo.chance(0.8),
    )
    routine_visits(demo, case, home, actor, start=start, every=9, count=2)
    case_note(demo, case, home, actor, start)


def cin_plan_open(demo: Demo, n: int) -> None:
    """Assessment and Intervention: assessment done, child in need plan running."""
    worker = demo.next_worker("ai")
    opened = demo.working_day(demo.ago(60, 300))
    home = child_household(demo, worker, opened, (0, 16))
    need = demo.rng.choice((PrimaryNeed.N3, PrimaryNeed.N4, PrimaryNeed.N5, PrimaryNeed.N7))
    case = open_case(demo, home, "ai", opened, worker, need=need)
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(20, 40)), opened)
    if n % 5 == 0:
        cases.section47_record(
            actor=worker,
            case=case,
            started_on=opened,
            outcome=Section47Outcome.NO_ICPC,
            concluded_on=demo.working_day(opened + dt.timedelta(days=8), opened),
        )
    assess(
        demo,
        case,
        "ai",
        worker,
        AssessmentKind.SINGLE,
        opened,
        done,
        factors=random_factors(demo, ("3B", "4B", "1B", "6B", "16A", "20")),
    )
    cin_plan(demo, case, home, worker, done, None)
    routine_visits(demo, case, home, worker, start=done, every=28, count=3)
    case_note(demo, case, home, worker, demo.working_day(demo.ago(3, 20), opened))


def cp_plan_open(demo: Demo, n: int) -> None:
    """Safeguarding and Care Planning: child protection plan in force."""
    worker = demo.next_worker("sgcp")
    opened = demo.working_day(demo.ago(25, 400))
    home = child_household(demo, worker, opened, (0, 14))
    case = open_case(demo, home, "sgcp", opened, worker, need=PrimaryNeed.N1)
    _, icpc = cp_plan(demo, case, home, worker, opened, None)
    routine_visits(demo, case, home, worker, start=icpc, every=10, count=4)
    supervise(
        demo,
        case,
        "sgcp",
        demo.working_day(demo.ago(2, 30), icpc),
        "Child protection plan progressing; visits within ten working days.",
    )
    case_note(demo, case, home, worker, demo.working_day(demo.ago(1, 10), opened))


def cp_ended(demo: Demo, *, seen_alone_at_home_after: bool) -> None:
    worker = demo.next_worker("sgcp")
    opened = demo.working_day(demo.ago(250, 600))
    home = child_household(demo, worker, opened, (1, 13))
    case = open_case(demo, home, "sgcp", opened, worker, need=PrimaryNeed.N1)
    end = demo.working_day(demo.ago(30, 150), opened + dt.timedelta(days=70))
    _, icpc = cp_plan(demo, case, home, worker, opened, end)
    routine_visits(demo, case, home, worker, start=icpc, every=10, count=3, end=end)
    cin_plan(demo, case, home, worker, demo.working_day(end + ONE_DAY, end + ONE_DAY), None)
    after = end + ONE_DAY
    if seen_alone_at_home_after:
        day = demo.working_day(demo.ago(1, (demo.today - after).days), after)
        visit(demo, case, home, worker, day, seen=True, alone=True, at_home=True)
    elif demo.chance(0.7):
        routine_visits(
            demo, case, home, worker, start=after, every=14, count=2, alone_at_home=False
        )


def cp_ended_then_seen(demo: Demo, n: int) -> None:
    """CP plan ended; a later visit saw the child alone and visited the home."""
    cp_ended(demo, seen_alone_at_home_after=True)


def cp_ended_not_seen(demo: Demo, n: int) -> None:
    """CP plan ended; no later visit has both seen the child alone and visited the home."""
    cp_ended(demo, seen_alone_at_home_after=False)


def placement(demo: Demo, actor: User, home: Household, since: dt.date) -> Household:
    """Foster carers at their own address; the child moves in with them on `since`."""
    carers = [
        add_person(
            demo,
            actor,
            given=demo.fake.first_name_female(),
            family=demo.fake.last_name(),
            date_of_birth=demo.ago(35 * 365, 60 * 365),
            sex=Sex.FEMALE,
            ethnicity=Ethnicity.WBRI,
            asked=True,
        )
    ]
    if demo.chance(0.6):
        carers.append(
            add_person(
                demo,
                actor,
                given=demo.fake.first_name_male(),
                family=carers[0].family_name,
                date_of_birth=born(carers[0]) - dt.timedelta(days=demo.rng.randint(-900, 1500)),
                sex=Sex.MALE,
                ethnicity=Ethnicity.WBRI,
                asked=True,
            )
        )
    address = house(demo, actor, carers, since - years(demo.rng.randint(2, 15)))
    move_in(actor, home.subject, address, since)
    for carer in carers:
        people.relationship_add(
            actor=actor,
            person=carer,
            relative=home.subject,
            kind=RelationshipKind.FOSTER_CARER,
            started_on=since,
        )
    return Household(
        subject=home.subject,
        address=address,
        children=home.children,
        adults=[Member(c, "Foster carer") for c in carers] + home.adults,
        professionals=home.professionals,
    )


def looked_after(
    demo: Demo, n: int, *, opened: dt.date, start: dt.date, end: dt.date | None
) -> tuple[Case, Household, User]:
    worker = demo.next_worker("lac")
    home = child_household(demo, worker, opened, (1, 14))
    case = open_case(
        demo,
        home,
        "lac",
        opened,
        worker,
        need=PrimaryNeed.N1,
        source=ReferralSource.S5A,
        reason=LAC_REASON.format(**home.words()),
    )
    assess(
        demo,
        case,
        "lac",
        worker,
        AssessmentKind.SINGLE,
        opened,
        demo.working_day(start, opened),
        factors=random_factors(demo, ("2B", "3B", "4B", "16A", "17A")),
        outcome="The child cannot safely remain at home.",
    )
    legal = LegalStatus.V2 if end is not None or n % 5 in (1, 3) else LegalStatus.C2
    if legal == LegalStatus.C2:
        meeting(
            demo,
            case,
            home,
            worker,
            MeetingKind.LEGAL_GATEWAY,
            opened,
            "Threshold met: issue care proceedings.",
        )
        cases.decision_record(
            actor=demo.member("csm", "service-manager"),
            case=case,
            kind=DecisionKind.OTHER,
            decided_on=opened,
            decision="Agreed to issue care proceedings.",
        )
    cared = placement(demo, worker, home, start)
    cases.plan_start(
        actor=worker,
        case=case,
        kind=PlanKind.LOOKED_AFTER,
        started_on=start,
        legal_status=legal,
        summary="Placed with local authority foster carers.",
    )
    lac_reviews(demo, case, cared, worker, start, end or demo.today)
    return case, cared, worker


def lac_reviews(
    demo: Demo, case: Case, home: Household, actor: User, start: dt.date, last: dt.date
) -> None:
    iro = {"name": demo.member("su", "iro").display_name, "role": "Independent reviewing officer"}
    day = demo.calendar.add_working_days(start, 20)
    gap = 70
    while day <= last:
        meeting(
            demo,
            case,
            home,
            actor,
            MeetingKind.LAC_REVIEW,
            demo.working_day(day, start),
            "Care plan and placement reviewed; the child's views shared.",
            iro,
        )
        day += dt.timedelta(days=gap)
        gap = 180


def looked_after_now(demo: Demo, n: int) -> None:
    """Looked After Children: in foster care now, under a care order (C2) or section 20 (V2)."""
    opened = demo.working_day(demo.ago(120, 650))
    start = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(10, 60)), opened)
    case, cared, worker = looked_after(demo, n, opened=opened, start=start, end=None)
    routine_visits(demo, case, cared, worker, start=start, every=42, count=3)
    case_note(demo, case, cared, worker, demo.working_day(demo.ago(2, 40), start))


def looked_after_past(demo: Demo, n: int) -> None:
    """Looked after under section 20, now back home with a child in need plan."""
    opened = demo.working_day(demo.ago(380, 650))
    start = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(14, 40)), opened)
    end = demo.working_day(demo.ago(60, 200), start + dt.timedelta(days=90))
    case, cared, worker = looked_after(demo, n, opened=opened, start=start, end=end)
    routine_visits(demo, case, cared, worker, start=start, every=42, count=2, end=end)
    assess(
        demo,
        case,
        "lac",
        worker,
        AssessmentKind.PREVENT_LOOKED_AFTER,
        demo.working_day(end - dt.timedelta(days=21), start),
        end,
        outcome="Return home agreed with support.",
    )
    lac = case.plans.get(kind=PlanKind.LOOKED_AFTER)
    cases.plan_end(actor=worker, plan=lac, ended_on=end, outcome="Returned home to parents.")
    family_home = home_address_of(cared)
    move_in(worker, cared.subject, family_home, end)
    back_home = Household(
        subject=cared.subject,
        address=family_home,
        adults=[m for m in cared.adults if m.label != "Foster carer"],
        children=cared.children,
        professionals=cared.professionals,
    )
    cin_plan(demo, case, back_home, worker, demo.working_day(end + ONE_DAY, end + ONE_DAY), None)
    routine_visits(demo, case, back_home, worker, start=end + ONE_DAY, every=28, count=2)


def home_address_of(cared: Household) -> Address:
    """The family home: where the child's parents live."""
    parent = next(m.person for m in cared.adults if m.label != "Foster carer")
    residence = parent.residences.get(ended_on__isnull=True)
    return residence.address


def early_help(demo: Demo, n: int) -> None:
    """Early Help: assessment, consent and (once assessed) an early help plan."""
    worker = demo.next_worker("eh")
    opened = demo.working_day(demo.ago(20, 300))
    home = child_household(demo, worker, opened, (0, 14), lead_school=demo.chance(0.5))
    need = demo.rng.choice((PrimaryNeed.N4, PrimaryNeed.N5, PrimaryNeed.N7, PrimaryNeed.N3))
    case = open_case(demo, home, "eh", opened, worker, need=need)
    cases.consent_record(
        actor=worker,
        case=case,
        kind=ConsentKind.EARLY_HELP,
        given_by=home.lead_adult.full_name,
        given_on=opened,
        signed=True,
    )
    assessed = (demo.today - opened).days > 35
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(15, 30)), opened)
    assess(
        demo,
        case,
        "eh",
        worker,
        AssessmentKind.EARLY_HELP,
        opened,
        done if assessed else None,
        factors=random_factors(demo, ("4B", "6B", "20", "14A")),
        outcome="Family agree to a team around the family plan.",
    )
    if assessed:
        cases.plan_start(
            actor=worker,
            case=case,
            kind=PlanKind.EARLY_HELP,
            started_on=done,
            summary="Routines, school attendance and debt advice.",
        )
        meeting(
            demo,
            case,
            home,
            worker,
            MeetingKind.TEAM_AROUND_FAMILY,
            demo.working_day(done + dt.timedelta(days=7), done),
            "Plan agreed.",
        )
    routine_visits(demo, case, home, worker, start=opened, every=21, count=3)
    case_note(demo, case, home, worker, demo.working_day(demo.ago(1, 20), opened))
    if n % 4 == 0:
        cases.decision_record(
            actor=demo.member("eh", "duty-manager"),
            case=case,
            kind=DecisionKind.ALLOCATE,
            decided_on=opened,
            decision=f"Allocate to {worker.display_name}.",
        )


# Children with Disabilities: one combination each, in turn (most have more than one).
CWD_DISABILITIES: tuple[list[str], ...] = (
    [Disability.AUT, Disability.LD, Disability.COMM],
    [Disability.MOB, Disability.HAND, Disability.PC],
    [Disability.LD, Disability.BEH],
    [Disability.HEAR, Disability.COMM],
    [Disability.VIS],
    [Disability.CON, Disability.MOB, Disability.INC],
    [Disability.AUT, Disability.BEH],
    [Disability.DDA],
)


def disabilities(demo: Demo, n: int) -> None:
    """Children with Disabilities: child in need plan for a disabled child."""
    worker = demo.next_worker("cwd")
    opened = demo.working_day(demo.ago(60, 500))
    home = child_household(demo, worker, opened, (3, 15), special_school=demo.chance(0.5))
    people.person_disabilities_record(
        actor=worker, person=home.subject, disabilities=CWD_DISABILITIES[n % len(CWD_DISABILITIES)]
    )
    case = open_case(demo, home, "cwd", opened, worker, need=PrimaryNeed.N2)
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(20, 45)), opened)
    assess(
        demo,
        case,
        "cwd",
        worker,
        AssessmentKind.CIN,
        opened,
        done,
        factors=random_factors(demo, ("5A", "6A", "4A")),
        outcome="Short breaks and a personal budget recommended.",
    )
    cin_plan(demo, case, home, worker, done, None)
    routine_visits(demo, case, home, worker, start=done, every=42, count=3)
    case_note(demo, case, home, worker, demo.working_day(demo.ago(5, 40), done))


def edge_of_care(demo: Demo, n: int) -> None:
    """Edge of Care: teenagers at risk of coming into care."""
    worker = demo.next_worker("eoc")
    opened = demo.working_day(demo.ago(40, 250))
    home = child_household(demo, worker, opened, (11, 16))
    case = open_case(
        demo, home, "eoc", opened, worker, need=demo.rng.choice((PrimaryNeed.N5, PrimaryNeed.N6))
    )
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(15, 30)), opened)
    assess(
        demo,
        case,
        "eoc",
        worker,
        AssessmentKind.SINGLE,
        opened,
        done,
        factors=random_factors(demo, ("10A", "24A", "13A", "11A", "2A", "14A")),
    )
    cin_plan(demo, case, home, worker, done, None)
    meeting(
        demo,
        case,
        home,
        worker,
        MeetingKind.MULTI_AGENCY,
        demo.working_day(done + dt.timedelta(days=5), done),
        "Exploitation risks mapped; disruption plan agreed.",
        {"name": "PC " + demo.fake.last_name(), "role": "Police"},
    )
    routine_visits(demo, case, home, worker, start=done, every=14, count=3)
    case_note(demo, case, home, worker, demo.working_day(demo.ago(1, 14), done))


def schools(demo: Demo, n: int) -> None:
    """Social Workers in Schools: referred by school, assessed and supported in school."""
    worker = demo.next_worker("swis")
    opened = demo.working_day(demo.ago(10, 200))
    home = child_household(demo, worker, opened, (5, 14), lead_school=True)
    case = open_case(
        demo, home, "swis", opened, worker, need=PrimaryNeed.N5, source=ReferralSource.S2A
    )
    done = opened + dt.timedelta(days=30)
    if done <= demo.today:
        done = demo.working_day(done, opened)
        assess(
            demo,
            case,
            "swis",
            worker,
            AssessmentKind.SINGLE,
            opened,
            done,
            factors=random_factors(demo, ("3B", "4B", "14A", "20")),
        )
        cin_plan(demo, case, home, worker, done, None)
    else:
        assess(demo, case, "swis", worker, AssessmentKind.SINGLE, opened, None)
    routine_visits(demo, case, home, worker, start=opened, every=14, count=2)
    case_note(demo, case, home, worker, demo.working_day(demo.ago(1, 10), opened))


def ready_to_close(demo: Demo, n: int) -> None:
    """CIN plan ended, assessment authorised, recent seen-alone home visit, supervision this
    month and the manager advising closure: everything the closure workflow needs."""
    worker = demo.next_worker("ai")
    opened = demo.working_day(demo.ago(150, 320))
    home = child_household(demo, worker, opened, (1, 15))
    case = open_case(
        demo, home, "ai", opened, worker, need=demo.rng.choice((PrimaryNeed.N4, PrimaryNeed.N5))
    )
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(20, 35)), opened)
    assess(
        demo,
        case,
        "ai",
        worker,
        AssessmentKind.SINGLE,
        opened,
        done,
        factors=random_factors(demo, ("3B", "4B", "20")),
    )
    end = demo.working_day(demo.ago(8, 25), done + dt.timedelta(days=30))
    cin_plan(demo, case, home, worker, done, end)
    meeting(
        demo,
        case,
        home,
        worker,
        MeetingKind.FINAL,
        end,
        "Family and agencies agree needs are met; closure to be advised.",
    )
    routine_visits(demo, case, home, worker, start=done, every=28, count=2, end=end)
    last_visit = demo.working_day(demo.ago(2, 7), end)
    visit(demo, case, home, worker, last_visit, seen=True, alone=True, at_home=True)
    supervise(
        demo,
        case,
        "ai",
        demo.working_day(demo.ago(3, 25), end),
        "Plan outcomes met; agreed to seek closure.",
    )
    cases.note_add(
        actor=worker,
        case=case,
        kind=NoteKind.CLOSURE_DISCUSSION,
        title="Closure discussed with family",
        occurred_on=last_visit,
        body="Explained closure and how to ask for help again; family agree.",
    )
    cases.decision_record(
        actor=demo.manager("ai"),
        case=case,
        kind=DecisionKind.ADVISE_CLOSURE,
        decided_on=demo.working_day(demo.ago(0, 2), last_visit),
        decision="Advise closure: the child in need plan has achieved its outcomes.",
        rationale="Recent visit saw the child alone at home; no outstanding concerns.",
    )


def closed_episode(demo: Demo, home: Household, worker: User, closed: dt.date) -> Case:
    """An A&I case closed on `closed`: RC8 after assessment, or RC7 after a CIN plan."""
    after_plan = demo.chance(0.5)
    opened = demo.working_day(closed - dt.timedelta(days=200 if after_plan else 35))
    case = open_case(
        demo,
        home,
        "ai",
        opened,
        worker,
        need=demo.rng.choice((PrimaryNeed.N4, PrimaryNeed.N5, PrimaryNeed.N1)),
    )
    done = demo.working_day(opened + dt.timedelta(days=25), opened)
    if not after_plan:
        assess(
            demo,
            case,
            "ai",
            worker,
            AssessmentKind.SINGLE,
            opened,
            done,
            factors=["21"],
            outcome="No further action: needs can be met by universal services.",
        )
        routine_visits(demo, case, home, worker, start=opened, every=10, count=2, end=done)
        close_imported(demo, case, "ai", closed, CinClosureReason.RC8)
        return case
    assess(
        demo,
        case,
        "ai",
        worker,
        AssessmentKind.SINGLE,
        opened,
        done,
        factors=random_factors(demo, ("4B", "6B", "20")),
    )
    cin_plan(demo, case, home, worker, done, closed)
    routine_visits(demo, case, home, worker, start=done, every=28, count=2, end=closed)
    close_imported(demo, case, "ai", closed, CinClosureReason.RC7)
    return case


def recently_closed(demo: Demo, n: int) -> None:
    """Closed in the last couple of months (RC7 or RC8), imported as history."""
    worker = demo.next_worker("ai")
    closed = demo.working_day(demo.ago(10, 60))
    home = child_household(demo, worker, closed - dt.timedelta(days=200), (0, 15))
    closed_episode(demo, home, worker, closed)


def re_referred(demo: Demo, n: int) -> None:
    """An earlier case closed months ago, and a new referral open now for the same child.
    Half of the earlier cases closed in the last finished census year (whatever today's
    date), so the CIN census always has closures to report."""
    worker = demo.next_worker("ai")
    if n % 2 == 0:
        latest = min(census_year_end_before(demo.today), demo.today - dt.timedelta(days=45))
        closed = demo.working_day(latest - dt.timedelta(days=demo.rng.randint(0, 150)))
    else:
        closed = demo.working_day(demo.ago(100, 250))
    home = child_household(demo, worker, closed - dt.timedelta(days=200), (0, 14))
    closed_episode(demo, home, worker, closed)
    opened = demo.working_day(demo.ago(3, 40), closed + ONE_DAY)
    case = open_case(demo, home, "ai", opened, worker, need=PrimaryNeed.N1)
    assess(demo, case, "ai", worker, AssessmentKind.SINGLE, opened, None)
    routine_visits(demo, case, home, worker, start=opened, every=7, count=2)


# ---------------------------------------------------------------------------------------------
# Adults' scenarios.
# ---------------------------------------------------------------------------------------------


def adults_team(n: int) -> str:
    return "adults-north" if n % 2 == 0 else "adults-south"


def open_adult_case(
    demo: Demo,
    team: str,
    worker: User | None,
    *,
    ago: tuple[int, int],
    with_carer: bool = False,
    safeguarding: bool = False,
) -> tuple[Case, Household, User]:
    actor = worker or demo.member(team, "worker")
    opened = demo.working_day(demo.ago(*ago))
    home = adult_household(demo, actor, opened, with_carer=with_carer)
    words = {
        **home.words(),
        "carer_or_family": home.lead_adult.given_name if home.adults else "A neighbour",
    }
    source, reason = demo.rng.choice(SAFEGUARDING_REASONS if safeguarding else ADULT_REASONS)
    case = open_case(
        demo, home, team, opened, worker, actor=actor, source=source, reason=reason.format(**words)
    )
    return case, home, actor


def care_and_support_plan(
    demo: Demo, case: Case, home: Household, team: str, actor: User, end: dt.date | None = None
) -> dt.date:
    """Care Act assessment (authorised by the manager) and a care and support plan."""
    opened = case.opened_on
    done = demo.working_day(opened + dt.timedelta(days=demo.rng.randint(14, 35)), opened)
    assess(
        demo,
        case,
        team,
        actor,
        AssessmentKind.CARE_ACT,
        opened,
        done,
        outcome="Eligible needs: personal care, meals and medication.",
    )
    plan = cases.plan_start(
        actor=actor,
        case=case,
        kind=PlanKind.ADULT_CARE_SUPPORT,
        started_on=done,
        summary="Two home care calls a day; day centre.",
    )
    provider = demo.rng.choice(CARE_PROVIDERS)
    people.professional_contact_add(
        actor=actor,
        person=home.subject,
        organisation=provider,
        role=ContactRole.CARE_PROVIDER,
        started_on=done,
    )
    review = done + dt.timedelta(days=365)
    if end is None and review <= demo.today:
        assess(
            demo,
            case,
            team,
            actor,
            AssessmentKind.CARE_ACT_REVIEW,
            review,
            demo.working_day(review + dt.timedelta(days=10), review),
            outcome="Needs unchanged; plan continues.",
        )
    if end is not None:
        cases.plan_end(
            actor=actor,
            plan=plan,
            ended_on=end,
            outcome="Reablement goals met; managing independently.",
        )
    return done


def adult_note(demo: Demo, case: Case, home: Household, actor: User, day: dt.date) -> None:
    title, body = demo.rng.choice(ADULT_NOTES)
    words = {
        **home.words(),
        "carer_or_family": home.lead_adult.given_name if home.adults else "Neighbour",
    }
    cases.note_add(
        actor=actor,
        case=case,
        title=title.format(**words),
        body=body.format(**words),
        occurred_on=day,
    )


def care_act_assessment(demo: Demo, n: int) -> None:
    """A Care Act assessment under way."""
    team = adults_team(n)
    case, home, actor = open_adult_case(demo, team, demo.next_worker(team), ago=(3, 45))
    start = demo.working_day(
        case.opened_on + dt.timedelta(days=demo.rng.randint(0, 5)), case.opened_on
    )
    assess(demo, case, team, actor, AssessmentKind.CARE_ACT, start, None)
    routine_visits(demo, case, home, actor, start=start, every=7, count=1, adult=True)
    cases.note_add(
        actor=actor,
        case=case,
        kind=NoteKind.TELEPHONE,
        title="Call with GP",
        body="GP confirmed diagnoses and current medication.",
        occurred_on=start,
    )


def care_and_support(demo: Demo, n: int) -> None:
    """A care and support plan in place; some people have a key safe."""
    team = adults_team(n)
    case, home, actor = open_adult_case(demo, team, demo.next_worker(team), ago=(120, 600))
    done = care_and_support_plan(demo, case, home, team, actor)
    routine_visits(demo, case, home, actor, start=done, every=60, count=2, adult=True)
    adult_note(demo, case, home, actor, demo.working_day(demo.ago(5, 60), done))
    if n % 4 == 0:
        people.key_safe_record(
            actor=actor,
            person=home.subject,
            location="Left of the front door",
            code=f"{demo.rng.randrange(10000):04d}",
        )


def with_unpaid_carer(demo: Demo, n: int) -> None:
    """A care and support plan with an unpaid carer who lives with the person."""
    team = adults_team(n)
    case, home, actor = open_adult_case(
        demo, team, demo.next_worker(team), ago=(90, 500), with_carer=True
    )
    carer = home.adults[0].person
    people.carer_link_add(
        actor=actor,
        carer=carer,
        cared_for=home.subject,
        started_on=case.opened_on,
        lives_with_cared_for=True,
        notes="Helps with washing, meals and medication every day.",
    )
    done = care_and_support_plan(demo, case, home, team, actor)
    routine_visits(demo, case, home, actor, start=done, every=60, count=2, adult=True)
    care_team = {"name": carer.full_name, "role": f"Unpaid carer ({home.adults[0].label})"}
    meeting(
        demo,
        case,
        home,
        actor,
        MeetingKind.CARE_TEAM,
        demo.working_day(done + dt.timedelta(days=14), done),
        "Carer's needs discussed; carer's assessment offered.",
        care_team,
    )
    if n % 3 == 0:
        people.key_safe_record(
            actor=actor,
            person=home.subject,
            location="Behind the side gate",
            code=f"{demo.rng.randrange(10000):04d}",
        )


def adult_safeguarding(demo: Demo, n: int) -> None:
    """An open adult protection plan after a safeguarding concern."""
    team = adults_team(n)
    case, home, actor = open_adult_case(
        demo, team, demo.next_worker(team), ago=(7, 90), safeguarding=True
    )
    start = demo.working_day(
        case.opened_on + dt.timedelta(days=demo.rng.randint(1, 5)), case.opened_on
    )
    cases.decision_record(
        actor=demo.manager(team),
        case=case,
        kind=DecisionKind.OTHER,
        decided_on=case.opened_on,
        decision="Section 42 enquiry to proceed.",
    )
    meeting(
        demo,
        case,
        home,
        actor,
        MeetingKind.OTHER,
        start,
        "Safeguarding planning meeting: protection plan agreed.",
    )
    cases.plan_start(
        actor=actor,
        case=case,
        kind=PlanKind.ADULT_PROTECTION,
        started_on=start,
        summary="Daily checks by the care provider; bank account protected.",
    )
    routine_visits(demo, case, home, actor, start=start, every=10, count=2, adult=True)
    adult_note(demo, case, home, actor, demo.working_day(demo.ago(0, 7), start))


def never_seen(demo: Demo, n: int) -> None:
    """Open for weeks but the person has never been seen: no visits, or only failed ones."""
    team = adults_team(n)
    case, home, actor = open_adult_case(demo, team, demo.next_worker(team), ago=(20, 120))
    assess(demo, case, team, actor, AssessmentKind.CARE_ACT, case.opened_on, None)
    if n % 2 == 0:
        return
    for i in range(demo.rng.randint(1, 3)):
        day = demo.working_day(demo.ago(2 + 9 * i, 8 + 9 * i), case.opened_on)
        visit(
            demo,
            case,
            home,
            actor,
            day,
            seen=False,
            alone=False,
            at_home=demo.chance(0.5),
            adult=True,
        )


def adult_ready_to_close(demo: Demo, n: int) -> None:
    """Plan ended, recent visit seeing the person alone at home, supervision, closure advised."""
    team = adults_team(n)
    worker = demo.next_worker(team)
    case, home, actor = open_adult_case(demo, team, worker, ago=(120, 300))
    end = demo.working_day(demo.ago(7, 25), case.opened_on + dt.timedelta(days=60))
    done = care_and_support_plan(demo, case, home, team, actor, end=end)
    routine_visits(demo, case, home, actor, start=done, every=40, count=2, end=end, adult=True)
    last_visit = demo.working_day(demo.ago(2, 6), end)
    visit(demo, case, home, actor, last_visit, seen=True, alone=True, at_home=True, adult=True)
    supervise(
        demo,
        case,
        team,
        demo.working_day(demo.ago(3, 25), end),
        "Reablement complete; agreed to seek closure.",
    )
    cases.decision_record(
        actor=demo.manager(team),
        case=case,
        kind=DecisionKind.ADVISE_CLOSURE,
        decided_on=demo.working_day(demo.ago(0, 2), last_visit),
        decision="Advise closure: outcomes met and the person is managing independently.",
    )


# ---------------------------------------------------------------------------------------------
# The scenario table and the loader.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    label: str
    count: int
    build: Callable[[Demo, int], None]


def adult_closed_long_ago(demo: Demo, n: int) -> None:
    """An adult whose care ended nine years ago: past the adults' eight years, so the
    records retention queue (X-04) has something for a reviewer to decide."""
    team = adults_team(n)
    case, _home, _actor = open_adult_case(demo, team, None, ago=(9 * 365 + 200, 9 * 365 + 400))
    closed = demo.working_day(demo.ago(9 * 365 + 20, 9 * 365 + 120), case.opened_on)
    close_imported(demo, case, team, closed, "NFA - Support ended - other reason")


CHILD_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("Front-door contact, unallocated (IRT)", 16, front_door_contact),
    Scenario("Single assessment in progress (A&I)", 24, assessment_in_progress),
    Scenario("Child in need plan (A&I)", 26, cin_plan_open),
    Scenario("Child protection plan (SGCP)", 22, cp_plan_open),
    Scenario("CP plan ended, then seen alone at home", 10, cp_ended_then_seen),
    Scenario("CP plan ended, not seen alone at home since", 8, cp_ended_not_seen),
    Scenario("Looked after now (LAC)", 18, looked_after_now),
    Scenario("Looked after in the past, home now (LAC)", 8, looked_after_past),
    Scenario("Early help (EH)", 20, early_help),
    Scenario("Children with disabilities (CWD)", 14, disabilities),
    Scenario("Edge of care (EoC)", 10, edge_of_care),
    Scenario("Social workers in schools (SWIS)", 8, schools),
    Scenario("Ready to close (A&I)", 10, ready_to_close),
    Scenario("Recently closed (A&I)", 14, recently_closed),
    Scenario("Re-referred after closure (A&I)", 12, re_referred),
)

ADULT_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("Care Act assessment in progress", 20, care_act_assessment),
    Scenario("Care and support plan", 22, care_and_support),
    Scenario("Care and support plan with an unpaid carer", 12, with_unpaid_carer),
    Scenario("Adult protection plan", 10, adult_safeguarding),
    Scenario("Never seen", 8, never_seen),
    Scenario("Ready to close", 8, adult_ready_to_close),
    Scenario("Care ended nine years ago (retention review due)", 3, adult_closed_long_ago),
)


@dataclass(frozen=True)
class LoadSummary:
    seconds: float
    people: int
    cases: int
    visits: int
    audit_events: int


def demo_already_loaded() -> bool:
    return Authority.objects.exists()


# Which procedure governs what in the demo. Children's closures follow procedure 003 (the
# journeys' closing example); an administrator can switch to 000 or 001 in the admin.
DEMO_PACKS: tuple[tuple[str, str, str], ...] = (
    (ServiceArea.CHILDREN, PackPurpose.CLOSURE, "003-ending-interventions"),
    (ServiceArea.CHILDREN, PackPurpose.TRANSFER, "004-transfer-and-closure"),
    (ServiceArea.ADULTS, PackPurpose.CLOSURE, "002-adults-closure"),
)


def bind_policy_packs(authority: Authority) -> None:
    for service_area, purpose, pack_id in DEMO_PACKS:
        pack_bind(
            actor=None,
            authority=authority,
            service_area=service_area,
            purpose=purpose,
            pack_id=pack_id,
        )


def closures_in_progress(demo: Demo) -> None:
    """A few closures under way, so managers' queues and task lists have something in them:
    for the cases a manager advised closing, one proposal awaiting the manager's decision
    and one agreed, in each service."""
    for area in (ServiceArea.CHILDREN, ServiceArea.ADULTS):
        advised = (
            Case.objects.filter(
                service_area=area,
                status="open",
                decisions__kind=DecisionKind.ADVISE_CLOSURE,
                allocated_worker__isnull=False,
            )
            .select_related("allocated_worker", "responsible_team")
            .distinct()
            .order_by("id")
        )
        proposed = 0
        for case in advised:
            worker = case.allocated_worker
            assert worker is not None  # noqa: S101 - filtered above
            reason = "no-longer-in-need" if area == ServiceArea.CHILDREN else "goals-achieved"
            try:
                closure = closure_propose(
                    actor=worker, case=case, reason_id=reason, note="Outcomes achieved"
                )
            except ServiceError:
                continue  # not ready under its procedure: leave it for a worker to try
            if proposed == 1:
                manager = (
                    Membership.objects.current()
                    .filter(team=case.responsible_team, role=Role.TEAM_MANAGER)
                    .first()
                )
                if manager is not None:
                    try:
                        closure_decide(
                            actor=manager.user,
                            closure=closure,
                            outcome="agreed",
                            note="Discussed in supervision: the plan's outcomes are met.",
                        )
                    except ServiceError:
                        pass  # its procedure wants more first: it waits in the queue
            proposed += 1
            if proposed == 2:
                break


def _team_member(team_code: str, role: str) -> User | None:
    membership = (
        Membership.objects.current()
        .filter(team__code=team_code, role=role)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


def transfers_in_progress(demo: Demo) -> None:
    """Transfers and a step-down under way, so the transfer queues have something in them:
    an SGCP child just made subject to a care order, offered to the Looked After Children
    team (genogram, summary, audit and authorisation done, waiting for LAC's manager), and
    an A&I child whose assessment is done asked of the Early Help duty manager. Best effort:
    a case its procedure does not allow yet is left for a worker."""
    lac = demo.teams.get("lac")
    if lac is not None:
        _offer_to_lac(demo, lac)
    _step_down_to_early_help(demo)


def _offer_to_lac(demo: Demo, lac: Team) -> None:
    looked_after = (
        Case.objects.filter(
            responsible_team__code="sgcp", status="open", allocated_worker__isnull=False
        )
        .select_related("allocated_worker", "responsible_team")
        .distinct()
        .order_by("id")
    )
    for case in looked_after:
        worker = case.allocated_worker
        manager = _team_member(case.responsible_team.code, Role.TEAM_MANAGER)
        assert worker is not None  # noqa: S101 - filtered above
        if manager is None:
            continue
        try:
            with transaction.atomic():
                # The court has just made a care order: the child is looked after.
                cases.plan_start(
                    actor=worker,
                    case=case,
                    kind=PlanKind.LOOKED_AFTER,
                    started_on=demo.working_day(demo.today - dt.timedelta(days=3)),
                    legal_status=LegalStatus.C2,
                    summary="Care order made; placed with local authority foster carers.",
                )
                cases.document_upload(
                    actor=worker,
                    case=case,
                    kind="genogram",
                    title="Genogram, drawn for the transfer",
                    upload=SimpleUploadedFile(
                        "genogram.txt",
                        f"Genogram of {case.subject.full_name}'s family, drawn with the family "
                        f"on {demo.today:%Y-%m-%d}.\n".encode(),
                        content_type="text/plain",
                    ),
                )
                transfer = transfer_request(
                    actor=worker,
                    case=case,
                    to_team=lac,
                    rationale="Care order made at the end of proceedings.",
                    trigger="care_order_made",
                    request_details={
                        "next_care_team_meeting": (demo.today + dt.timedelta(days=9)).isoformat()
                    },
                )
                transfer_summary_submit(
                    actor=worker,
                    transfer=transfer,
                    answers={
                        "rationale": "Care order made; the LAC team will hold the care plan.",
                        "outstanding": "Life story work; contact arrangements with siblings.",
                        "transition_point": "The agreed date, after the care team meeting.",
                    },
                )
                transfer_discuss(
                    actor=manager,
                    transfer=transfer,
                    discussed_on=demo.today,
                )
                transfer_audit_record(
                    actor=manager,
                    transfer=transfer,
                    answers={
                        item: {"answer": "yes", "note": "Checked in supervision"}
                        for item in ("chronology", "recording", "relationships", "genogram")
                    },
                )
                transfer_authorise(actor=manager, transfer=transfer)
        except ServiceError:
            continue  # not ready under the procedure: try the next child
        break


def _step_down_to_early_help(demo: Demo) -> None:
    assessed = (
        Case.objects.filter(
            responsible_team__code="ai",
            status="open",
            assessments__kind="single",
            assessments__completed_on__isnull=False,
            allocated_worker__isnull=False,
        )
        .select_related("allocated_worker", "responsible_team__authority")
        .distinct()
        .order_by("id")
    )
    for case in assessed:
        worker = case.allocated_worker
        assert worker is not None  # noqa: S101 - filtered above
        meeting = case.responsible_team.authority.calendar().add_working_days(demo.today, 6)
        try:
            with transaction.atomic():
                pathway_request(
                    actor=worker,
                    case=case,
                    pathway_id="step-down-full-assessment",
                    answers={
                        "meeting_date": meeting.isoformat(),
                        "plan_for_early_help": "Parenting support and school attendance plan.",
                        "consent": True,
                    },
                    meeting_on=meeting,
                )
        except ServiceError:
            continue
        break


TRY_WORKER = "adults-north-worker"
TRY_MANAGER = "adults-north-manager"


def retention_due(demo: Demo) -> None:
    """List the records past their retention date (as the nightly sweep does), and put a
    legal hold on one, so the queue shows a hold too."""
    from casework.retention.services import legal_hold_place, retention_sweep

    retention_sweep(demo.today)
    head = _team_member("asm", Role.HEAD_OF_SERVICE)
    held = (
        Case.objects.filter(service_area=ServiceArea.ADULTS, status=CaseStatus.CLOSED)
        .select_related("subject")
        .order_by("closed_on")
        .first()
    )
    if head is None or held is None:
        return
    legal_hold_place(
        actor=head,
        service_area=ServiceArea.ADULTS,
        reason="A public inquiry has asked the council to keep these records.",
        person_local_id=held.subject.local_id,
    )


def access_exceptions() -> None:
    """One restricted record (a child whose parent works for the council: only the A&I
    manager and the allocated worker see it) and one emergency access waiting for a manager's
    review (an SGCP worker answering an out-of-hours police call about an A&I child), so the
    access pages have something to show (X-02)."""
    from casework.access.services import emergency_access_open, restriction_place

    manager = _team_member("ai", Role.TEAM_MANAGER)
    outsider = _team_member("sgcp", Role.SOCIAL_WORKER)
    # Not the cases the README walks through, nor any with a closure or transfer under way.
    walked_through = case_to_try_closing()
    open_ai = list(
        Case.objects.filter(
            responsible_team__code="ai", status=CaseStatus.OPEN, allocated_worker__isnull=False
        )
        .exclude(pk=walked_through.pk if walked_through else 0)
        .filter(closures__isnull=True, transfers__isnull=True)
        .order_by("-id")[:2]
    )
    if manager is None or outsider is None or len(open_ai) < 2:
        return
    restriction_place(
        actor=manager,
        case=open_ai[0],
        reason="The child's parent works in the council's children's services.",
    )
    emergency_access_open(
        actor=outsider,
        case_reference=open_ai[1].reference,
        reason="Out-of-hours call from police about the child's safety: needed the safety plan.",
    )


def case_to_try_closing() -> Case | None:
    """An adult case whose manager advised closing it and that nobody has proposed to close
    yet: the README's five-minute closure walkthrough uses it."""
    return (
        Case.objects.filter(
            allocated_worker__username=TRY_WORKER,
            status="open",
            decisions__kind=DecisionKind.ADVISE_CLOSURE,
        )
        .exclude(closures__isnull=False)
        .order_by("id")
        .first()
    )


def load_demo(staff_password: str) -> LoadSummary | None:
    """Load the demo authority in one transaction; None (and nothing written) if any
    authority already exists."""
    started = time.monotonic()
    today = timezone.localdate()
    with transaction.atomic():
        if demo_already_loaded():
            return None
        authority = build_authority(today)
        bind_policy_packs(authority)
        demo = new_demo(authority, staff_password, today)
        for scenario in (*CHILD_SCENARIOS, *ADULT_SCENARIOS):
            for n in range(scenario.count):
                scenario.build(demo, n)
        closures_in_progress(demo)
        transfers_in_progress(demo)
        access_exceptions()
        retention_due(demo)
        # Business Support's three-monthly audits of the cases open that long (R004-11).
        three_monthly_audits(today)
    return LoadSummary(
        seconds=time.monotonic() - started,
        people=Person.objects.count(),
        cases=Case.objects.count(),
        visits=Visit.objects.count(),
        audit_events=AuditEvent.objects.count(),
    )


@dataclass(frozen=True)
class SignIn:
    username: str
    name: str
    role: str
    team: str


def sign_ins() -> list[SignIn]:
    """The demo's users who exist, in team order, with their current role and team."""
    rows = [
        SignIn(m.user.username, m.user.display_name, m.get_role_display(), m.team.name)
        for m in Membership.objects.current()
        .filter(user__username__in=DEMO_USERNAMES)
        .select_related("user", "team")
    ]
    order = {username: i for i, username in enumerate(DEMO_USERNAMES)}
    rows.sort(key=lambda row: order[row.username])
    admin = User.objects.filter(username=ADMIN_USERNAME, is_superuser=True).first()
    if admin is not None:
        rows.append(SignIn(admin.username, admin.display_name, "Django admin only", "-"))
    return rows
