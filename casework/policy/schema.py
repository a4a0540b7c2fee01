"""The policy-pack file format, as pydantic models. Unknown keys are errors (a misspelt key
must not be silently ignored); every problem in a file is reported at once.

`docs/policy-packs.md` explains the format with a worked example.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from casework.cases.models import MeetingKind
from casework.organisation.models import Role
from casework.policy.vocabulary import (
    EVENTS,
    PREFILL_SOURCES,
    REQUIREMENT_ID_PATTERN,
    RETENTION_TRIGGERS,
    ROUTING_TRIGGERS,
)


def _one_of(allowed: list[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed:
            options = ", ".join(allowed)
            raise ValueError(f"'{value}' is not a known {what}; expected one of {options}")
        return value

    return AfterValidator(check)


def _event_or_step(value: str) -> str:
    if value.startswith("step:") or value in EVENTS:
        return value
    raise ValueError(
        f"'{value}' is not a known event; expected step:<step id> or one of {', '.join(EVENTS)}"
    )


RoleName = Annotated[str, _one_of(sorted(Role.values), "role")]
EventName = Annotated[str, _one_of(sorted(EVENTS), "event")]
EventOrStep = Annotated[str, AfterValidator(_event_or_step)]
TriggerName = Annotated[str, _one_of(sorted(ROUTING_TRIGGERS), "routing trigger")]
PrefillSource = Annotated[str, _one_of(sorted(PREFILL_SOURCES), "pre-fill source")]
RetentionTrigger = Annotated[str, _one_of(sorted(RETENTION_TRIGGERS), "retention trigger")]
MeetingKindName = Annotated[str, _one_of(sorted(MeetingKind.values), "meeting kind")]

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60)]
RequirementId = Annotated[str, StringConstraints(pattern=REQUIREMENT_ID_PATTERN)]
Expression = Annotated[str, StringConstraints(min_length=1)]
Text = Annotated[str, StringConstraints(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Due(Strict):
    """A timescale: exactly one unit, counted from an event (see vocabulary.EVENTS) or from
    another step being done (`step:<id>`)."""

    working_days: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)
    weeks: int | None = Field(default=None, ge=0)
    from_: EventOrStep = Field(alias="from")
    description: str = ""

    @model_validator(mode="after")
    def _one_unit(self) -> Due:
        units = [u for u in (self.working_days, self.days, self.weeks) if u is not None]
        if len(units) != 1:
            raise ValueError("give exactly one of working_days, days or weeks")
        return self


class Choice(Strict):
    """A decision the pack makes where its document is silent or vague."""

    id: Slug
    text: Text


class Gate(Strict):
    """A condition that must hold before a step can be done. `require` is evaluated only when
    `applies_when` holds. `effect` says what happens when it does not hold: the step is
    blocked, or it needs the agreement of (or is escalated to) the roles named."""

    requirement: RequirementId | None = None
    label: Text
    applies_when: Expression = "true"
    require: Expression
    blocked_reason: Text
    record_at: Text = Field(description="Where in the record the missing thing is recorded.")
    evidence: Expression | None = Field(
        default=None, description="A CEL list expression whose items are cited as evidence."
    )
    effect: Literal["block", "needs_agreement", "escalate"] = "block"
    roles: list[RoleName] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_for_effect(self) -> Gate:
        if self.effect != "block" and not self.roles:
            raise ValueError(f"a gate with effect '{self.effect}' must name the roles involved")
        return self


class ClosureReason(Strict):
    id: Slug
    label: Text
    national_code: Text
    gates: list[str] = Field(default_factory=list)
    requirement: RequirementId | None = None


StepKind = Literal[
    "propose",
    "discuss",
    "decide",
    "form",
    "checklist",
    "meeting",
    "authorise",
    "sign",
    "share",
    "archive",
    "assess",
    "task",
]


class Step(Strict):
    id: Slug
    label: Text
    kind: StepKind
    role: RoleName
    requirement: list[RequirementId] = Field(default_factory=list)
    when: Expression | None = None
    gates: list[str] = Field(default_factory=list)
    after: list[str] = Field(
        default_factory=list, description="Steps that must be done before this one."
    )
    form: str | None = None
    checklist: str | None = None
    meeting_kind: MeetingKindName | None = None
    signatures: list[RoleName] = Field(default_factory=list)
    due: Due | None = None
    escalate_to: RoleName | None = Field(
        default=None,
        description="Who is told when the step is overdue; else the pack's overdue_escalation.",
    )
    produces: Text
    compliance_review: bool = False
    optional: bool = False

    @model_validator(mode="after")
    def _kind_needs(self) -> Step:
        if self.kind == "form" and not self.form:
            raise ValueError("a 'form' step must name its form")
        if self.kind == "checklist" and not self.checklist:
            raise ValueError("a 'checklist' step must name its checklist")
        if self.kind == "sign" and not self.signatures:
            raise ValueError("a 'sign' step must list the roles that sign")
        if self.kind == "meeting" and not self.meeting_kind:
            raise ValueError("a 'meeting' step must name the meeting_kind")
        return self


FieldType = Literal[
    "text",
    "yes_no",
    "yes_no_na",
    "date",
    "people",
    "agencies",
    "number",
    "choice",
    "score",
]


class FormField(Strict):
    id: Slug
    label: Text
    type: FieldType
    hint: str = ""
    required: bool = True
    shown_when: Expression | None = Field(
        default=None,
        description="CEL over the case view and `form.<field>` answers of this form.",
    )
    prefill: PrefillSource | None = None
    options: list[str] = Field(default_factory=list)
    requirement: RequirementId | None = None

    @model_validator(mode="after")
    def _choice_options(self) -> FormField:
        if self.type == "choice" and not self.options:
            raise ValueError("a 'choice' field must list its options")
        return self


class Form(Strict):
    title: Text
    purpose: Text
    requirement: list[RequirementId] = Field(default_factory=list)
    shared_with_family: bool = False
    signed: bool = False
    fields: list[FormField] = Field(min_length=1)


class AutoCheck(Strict):
    """An automatic check of the record; its evidence is cited to the person confirming."""

    expression: Expression
    evidence: Expression | None = None


class ChecklistItem(Strict):
    id: Text
    text: Text
    requirement: list[RequirementId] = Field(default_factory=list)
    check: AutoCheck | None = None


class ChecklistSection(Strict):
    id: Slug
    title: Text
    not_applicable_allowed: bool = False
    items: list[ChecklistItem] = Field(min_length=1)


class Checklist(Strict):
    title: Text
    requirement: list[RequirementId] = Field(default_factory=list)
    header: list[Text] = Field(default_factory=list)
    item_note_required: bool = True
    evidence_date_required: bool = False
    sections: list[ChecklistSection] = Field(min_length=1)


class Notification(Strict):
    event: EventName
    role: RoleName
    message: Text
    when: Expression = "true"
    requirement: RequirementId | None = None


class Task(Strict):
    id: Slug
    label: Text
    role: RoleName
    due: Due
    requirement: RequirementId | None = None
    escalate_to: RoleName | None = Field(
        default=None,
        description="Who is told when the task is overdue; else the pack's overdue_escalation.",
    )


class Escalation(Strict):
    """Who is told when a protocol's deadline passes with the work not done."""

    role: RoleName
    message: Text


class Protocol(Strict):
    id: Slug
    label: Text
    requirement: list[RequirementId] = Field(default_factory=list)
    from_teams: list[str] = Field(min_length=1)
    to_teams: list[str] = Field(min_length=1)
    when: Expression = "true"
    request_fields: list[Slug] = Field(default_factory=list)
    transfer_within: Due | None = None
    transfer_point: Literal["acceptance", "agreed_date", "meeting"] = "acceptance"
    meeting_kind: MeetingKindName | None = None
    transfers_on_agreed_date_if_meeting_missed: bool = False
    gates: list[str] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    notifications: list[Notification] = Field(default_factory=list)
    escalate_if_late: Escalation | None = None
    moves_responsibility: bool = True


class RoutingRule(Strict):
    id: Slug
    requirement: RequirementId | None = None
    trigger: TriggerName
    when: Expression = "true"
    to_team: str | None = None
    to_team_expression: Expression | None = Field(
        default=None, description="CEL giving a team code, e.g. the team that last held it."
    )
    fallback_team: str | None = None
    with_siblings: bool = False
    explanation: Text

    @model_validator(mode="after")
    def _one_target(self) -> RoutingRule:
        if (self.to_team is None) == (self.to_team_expression is None):
            raise ValueError("give exactly one of to_team or to_team_expression")
        if self.to_team_expression is not None and self.fallback_team is None:
            raise ValueError("to_team_expression needs a fallback_team for when it gives ''")
        return self


class Pathway(Strict):
    """Step-down to early help, escalation from it, and transfers in and out of the
    authority: who asks, what they send, who decides, and what happens next."""

    id: Slug
    label: Text
    kind: Literal["step_down", "escalation", "transfer_in", "transfer_out"]
    requirement: list[RequirementId] = Field(default_factory=list)
    from_teams: list[str] = Field(default_factory=list)
    to_team: str | None = None
    to_team_expression: Expression | None = None
    fallback_team: str | None = None
    when: Expression = "true"
    form: str | None = None
    meeting_notice: Due | None = None
    gates: list[str] = Field(default_factory=list)
    decided_by: RoleName
    outcomes: list[Slug] = Field(min_length=1)
    closes_case_with: str | None = Field(
        default=None, description="The national closure code used if the pathway closes."
    )
    closes_on: list[Slug] = Field(
        default_factory=list,
        description="The outcomes after which the case closes (through the closure workflow, "
        "with closes_case_with).",
    )
    notifications: list[Notification] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    enters_register: Literal["out_of_area_placements"] | None = Field(
        default=None,
        description="A register the request is entered in, e.g. the duty fostering register "
        "of looked-after children placed in other authorities' areas.",
    )
    letter: str | None = Field(
        default=None,
        description="The heading of a notification letter (PDF) made from the request's form.",
    )

    @model_validator(mode="after")
    def _closing(self) -> Pathway:
        if bool(self.closes_case_with) != bool(self.closes_on):
            raise ValueError("give closes_case_with and closes_on together")
        unknown = sorted(set(self.closes_on) - set(self.outcomes))
        if unknown:
            raise ValueError(f"closes_on names outcomes not listed: {', '.join(unknown)}")
        return self


class Closure(Strict):
    reasons: list[ClosureReason] = Field(min_length=1)
    gates: list[str] = Field(default_factory=list, description="Gates on every closure.")
    steps: list[Step] = Field(min_length=1)
    notifications: list[Notification] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)


class Transfer(Strict):
    summary_form: str
    audit_checklist: str
    authorised_by: RoleName
    accepted_by: RoleName
    requirement: list[RequirementId] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list)
    protocols: list[Protocol] = Field(default_factory=list)
    routing: list[RoutingRule] = Field(default_factory=list)
    pathways: list[Pathway] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    notifications: list[Notification] = Field(default_factory=list)


class RetentionRule(Strict):
    when: Expression
    trigger: RetentionTrigger
    years: int = Field(ge=0)


class RetentionClass(Strict):
    id: Slug
    label: Text
    applies_when: Expression
    trigger: RetentionTrigger
    years: int = Field(ge=0)
    instead: list[RetentionRule] = Field(default_factory=list)
    basis: Text
    requirement: RequirementId | None = None


class NationalCodes(Strict):
    closure_code_set: Literal["cin_reason_for_closure", "cld_event_outcome"]


class PackFile(Strict):
    """One YAML file. `extends` merges other packs in first; this file's entries win."""

    pack: Slug
    title: Text
    implements: Text
    service_area: Literal["children", "adults"]
    governs: list[Literal["closure", "transfer"]] = Field(default_factory=list)
    extends: list[Slug] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    teams: dict[Slug, Text] = Field(default_factory=dict)
    national_codes: NationalCodes | None = None
    gates: dict[Slug, Gate] = Field(default_factory=dict)
    forms: dict[Slug, Form] = Field(default_factory=dict)
    checklists: dict[Slug, Checklist] = Field(default_factory=dict)
    closure: Closure | None = None
    transfer: Transfer | None = None
    notifications: list[Notification] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    overdue_escalation: dict[RoleName, RoleName] = Field(
        default_factory=dict,
        description="X-03: for work overdue in one role, the role told (e.g. social_worker: "
        "team_manager), unless the step or task names its own `escalate_to`.",
    )
    retention: list[RetentionClass] = Field(default_factory=list)
