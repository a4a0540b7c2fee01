"""The import files and their columns: the one description that reading, checking and the
documentation (`manage.py import_legacy --describe`, pasted into docs/import.md) all use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from casework.cases.models import NoteKind, PlanKind, ReferralKind, RiskFlag
from casework.core.codes import (
    CLD_EVENT_OUTCOMES,
    CategoryOfAbuse,
    CinClosureReason,
    Ethnicity,
    LegalStatus,
    PrimaryNeed,
    ReferralSource,
    Sex,
)
from casework.legacy.models import LegacyKind
from casework.people.models import Disability, RelationshipKind

Codes = Sequence[tuple[str, str]]

LEGACY_ID_MAX = 64
LIST_SEPARATOR = ";"
TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})

# Adults' closures carry the Client Level Data "NFA" outcome, as planned closures do.
ADULT_CLOSURE_REASONS: tuple[str, ...] = tuple(o for o in CLD_EVENT_OUTCOMES if o.startswith("NFA"))
CLOSURE_REASONS: Codes = (
    *CinClosureReason.choices,
    *((o, "adults' services") for o in ADULT_CLOSURE_REASONS),
)


class Type(Enum):
    ID = "legacy ID"
    REF = "legacy ID of a row in another file"
    TEXT = "text"
    DATE = "date (YYYY-MM-DD)"
    BOOL = "yes or no"
    CODE = "code"
    CODES = "codes separated by ;"
    USER = "Casework username"
    TEAM = "Casework team code"


@dataclass(frozen=True)
class Column:
    name: str
    type: Type
    required: bool
    about: str
    codes: Codes = ()
    max_length: int | None = None
    default: str | bool | None = None
    refers_to: LegacyKind | None = None

    @property
    def code_values(self) -> frozenset[str]:
        return frozenset(code for code, _label in self.codes)


@dataclass(frozen=True)
class FileSpec:
    name: str
    kind: LegacyKind
    about: str
    columns: tuple[Column, ...]

    @property
    def noun(self) -> str:
        return str(self.kind.label).lower()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _id(what: str) -> Column:
    return Column(
        "legacy_id",
        Type.ID,
        True,
        f"The legacy system's own ID for the {what}, once in the file. Re-runs recognise "
        "the row by it, so it must not change between exports.",
        max_length=LEGACY_ID_MAX,
    )


def _case_ref() -> Column:
    return Column(
        "case_legacy_id",
        Type.REF,
        True,
        "The case it belongs to: a `legacy_id` in cases.csv, or of a case imported before.",
        max_length=LEGACY_ID_MAX,
        refers_to=LegacyKind.CASE,
    )


def _person_ref(name: str, about: str) -> Column:
    return Column(
        name,
        Type.REF,
        True,
        f"{about}: a `legacy_id` in people.csv, or of a person imported before.",
        max_length=LEGACY_ID_MAX,
        refers_to=LegacyKind.PERSON,
    )


def _user(name: str, about: str) -> Column:
    return Column(
        name,
        Type.USER,
        True,
        f"{about}: the username of an existing Casework account (people who have left "
        "keep their accounts, disabled).",
        max_length=150,
    )


PEOPLE = FileSpec(
    "people.csv",
    LegacyKind.PERSON,
    "One row per person: children, adults, relatives and carers.",
    (
        _id("person"),
        Column(
            "local_id",
            Type.TEXT,
            False,
            "The council's own ID (LAchildID in the CIN census): letters and digits, at most "
            "20, not used by anyone else. Empty: Casework gives one (P and 8 digits), as it "
            "does for a person added on screen.",
            max_length=20,
        ),
        Column("given_name", Type.TEXT, True, "First name.", max_length=100),
        Column("family_name", Type.TEXT, True, "Last name.", max_length=100),
        Column("other_names", Type.TEXT, False, "Middle or other names.", max_length=200),
        Column("date_of_birth", Type.DATE, False, "Not in the future; empty for an unborn child."),
        Column(
            "expected_date_of_birth",
            Type.DATE,
            False,
            "For an unborn child only (not together with `date_of_birth`).",
        ),
        Column(
            "date_of_death",
            Type.DATE,
            False,
            "Not in the future, not before the date of birth.",
        ),
        Column("sex", Type.CODE, False, "Empty means U.", codes=tuple(Sex.choices), default="U"),
        Column("ethnicity", Type.CODE, False, "CIN census ethnicity.", codes=Ethnicity.choices),
        Column(
            "ethnicity_asked",
            Type.BOOL,
            False,
            "Whether the person (or their family) was asked. Empty means no.",
            default=False,
        ),
        Column(
            "nhs_number",
            Type.TEXT,
            False,
            "10 digits (spaces allowed), with a valid check digit; no one else's.",
            max_length=12,
        ),
        Column(
            "upn",
            Type.TEXT,
            False,
            "Unique Pupil Number: a check letter and 12 characters; no one else's.",
            max_length=13,
        ),
        Column(
            "disabilities",
            Type.CODES,
            False,
            "DfE disability codes, or NONE alone for none. Empty: not recorded yet.",
            codes=Disability.choices,
        ),
    ),
)

RELATIONSHIPS = FileSpec(
    "relationships.csv",
    LegacyKind.RELATIONSHIP,
    "The family and network around people (the genogram). Read as: person is `kind` of "
    "relative. Each relationship once (Casework reads it from both ends).",
    (
        _id("relationship"),
        _person_ref("person_legacy_id", "The person"),
        _person_ref("relative_legacy_id", "Their relative (not the same person)"),
        Column(
            "kind",
            Type.CODE,
            True,
            "What the person is to the relative.",
            codes=RelationshipKind.choices,
        ),
        Column(
            "has_parental_responsibility",
            Type.BOOL,
            False,
            "The person has parental responsibility for the relative. Empty means no.",
            default=False,
        ),
        Column("started_on", Type.DATE, False, "Not in the future."),
        Column("ended_on", Type.DATE, False, "Not in the future, not before `started_on`."),
    ),
)

CASES = FileSpec(
    "cases.csv",
    LegacyKind.CASE,
    "One row per case (episode of involvement). A case without `closed_on` is open: a "
    "person has at most one open case per service area. The team's service area is the case's.",
    (
        _id("case"),
        _person_ref("person_legacy_id", "Whose case it is"),
        Column(
            "team_code",
            Type.TEAM,
            True,
            "The responsible team's code in Casework (e.g. `ai`). The team must hold cases "
            "(and be active, for an open case).",
            max_length=40,
        ),
        Column(
            "worker_username",
            Type.USER,
            False,
            "The allocated worker's username; for an open case, a current member of the "
            "team. Empty: unallocated.",
            max_length=150,
        ),
        Column(
            "opened_on",
            Type.DATE,
            True,
            "Not in the future, not after the person died, not more than 40 weeks before "
            "their (expected) birth.",
        ),
        Column(
            "closed_on",
            Type.DATE,
            False,
            "For a closed case: not before `opened_on`, not in the future.",
        ),
        Column(
            "closure_reason",
            Type.CODE,
            False,
            "Required with `closed_on`, and only then. Children's services: the CIN census "
            "reason (RC1 to RC9); adults' services: the Client Level Data outcome, one of the "
            "NFA values, spelt exactly.",
            codes=CLOSURE_REASONS,
        ),
        Column(
            "risk_flags", Type.CODES, False, "Flags the procedures use.", codes=RiskFlag.choices
        ),
    ),
)

REFERRALS = FileSpec(
    "referrals.csv",
    LegacyKind.REFERRAL,
    "Contacts and referrals received on a case, the first usually on the day it opened.",
    (
        _id("referral"),
        _case_ref(),
        Column("kind", Type.CODE, True, "Contact or referral.", codes=ReferralKind.choices),
        Column(
            "received_on",
            Type.DATE,
            True,
            "Not in the future, not before the case opened, not after it closed or the "
            "person died.",
        ),
        Column(
            "source", Type.CODE, True, "CIN census referral source.", codes=ReferralSource.choices
        ),
        Column(
            "primary_need", Type.CODE, False, "CIN census primary need.", codes=PrimaryNeed.choices
        ),
        Column("reason", Type.TEXT, True, "The reason for the contact or referral."),
        Column(
            "no_further_action",
            Type.BOOL,
            False,
            "The referral ended in no further action. Empty means no.",
            default=False,
        ),
        _user("recorded_by", "Who recorded it"),
    ),
)

PLANS = FileSpec(
    "plans.csv",
    LegacyKind.PLAN,
    "Plans on a case. Two plans of the same kind on a case cannot overlap in time, nor can a "
    "child in need plan and a child protection plan (one may start the day the other ends). "
    "A closed case's plans have all ended by its closure date.",
    (
        _id("plan"),
        _case_ref(),
        Column("kind", Type.CODE, True, "The kind of plan.", codes=PlanKind.choices),
        Column(
            "started_on",
            Type.DATE,
            True,
            "Not in the future, not before the case opened or the person was born, not "
            "after the case closed or the person died.",
        ),
        Column(
            "ended_on",
            Type.DATE,
            False,
            "Not before `started_on`, not in the future, not after the case closed. "
            "Empty: still open (only on an open case).",
        ),
        Column(
            "category",
            Type.CODE,
            False,
            "Child protection plans only, and required for them: the initial category of abuse.",
            codes=CategoryOfAbuse.choices,
        ),
        Column(
            "latest_category",
            Type.CODE,
            False,
            "Child protection plans only: the latest category. Empty: the same as `category`.",
            codes=CategoryOfAbuse.choices,
        ),
        Column(
            "legal_status",
            Type.CODE,
            False,
            "Looked-after episodes (`lac`) only, and required for them: the SSDA903 legal status.",
            codes=LegalStatus.choices,
        ),
        Column("summary", Type.TEXT, False, "What the plan is for."),
        Column("outcome", Type.TEXT, False, "How it ended."),
    ),
)

VISITS = FileSpec(
    "visits.csv",
    LegacyKind.VISIT,
    "Visits to the person on a case (statutory visits included).",
    (
        _id("visit"),
        _case_ref(),
        Column(
            "visited_on",
            Type.DATE,
            True,
            "Not in the future, not before the case opened or the person was born, not "
            "after the case closed or the person died.",
        ),
        _user("visited_by", "Who visited"),
        Column("subject_seen", Type.BOOL, True, "Whether the child or adult was seen."),
        Column(
            "seen_alone",
            Type.BOOL,
            False,
            "Seen alone (only if seen). Empty means no.",
            default=False,
        ),
        Column(
            "home_visited",
            Type.BOOL,
            False,
            "The home or accommodation was visited. Empty means no.",
            default=False,
        ),
        Column(
            "face_to_face",
            Type.BOOL,
            False,
            "The visit was face to face. Empty means yes.",
            default=True,
        ),
        Column("notes", Type.TEXT, False, "What happened."),
    ),
)

NOTES = FileSpec(
    "notes.csv",
    LegacyKind.NOTE,
    "Case notes.",
    (
        _id("note"),
        _case_ref(),
        Column(
            "kind",
            Type.CODE,
            False,
            "The kind of note. Empty means general.",
            codes=NoteKind.choices,
            default=NoteKind.GENERAL.value,
        ),
        Column(
            "occurred_on",
            Type.DATE,
            True,
            "Not in the future, not before the case opened or the person was born, not "
            "after the case closed or the person died.",
        ),
        _user("author", "Who wrote it"),
        Column("title", Type.TEXT, True, "A short title.", max_length=200),
        Column("body", Type.TEXT, True, "The note."),
    ),
)

# In the order they are checked and written: each file refers only to files before it.
FILES: tuple[FileSpec, ...] = (PEOPLE, RELATIONSHIPS, CASES, REFERRALS, PLANS, VISITS, NOTES)
FILE_FOR_KIND: dict[LegacyKind, FileSpec] = {spec.kind: spec for spec in FILES}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def describe() -> str:
    """The files and their columns as Markdown, for docs/import.md."""
    lines = [
        "<!-- Generated by `manage.py import_legacy --describe`: do not edit by hand. -->",
        "",
    ]
    for spec in FILES:
        lines += [f"### {spec.name}", "", spec.about, ""]
        lines += ["| column | required | type | meaning |", "| --- | --- | --- | --- |"]
        for col in spec.columns:
            kind = col.type.value
            if col.max_length and col.type in (Type.TEXT, Type.ID):
                kind += f", at most {col.max_length} characters"
            codes = ""
            if col.codes and len(col.codes) <= 30:
                codes = " Codes: " + ", ".join(f"`{code}` ({label})" for code, label in col.codes)
                codes += "."
            lines.append(
                f"| `{col.name}` | {'yes' if col.required else 'no'} | {kind} | "
                f"{_cell(col.about + codes)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
