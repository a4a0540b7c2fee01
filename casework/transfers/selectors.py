"""Reads for transfers, through the access-scoped case selector."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse

from casework.access.policy import case_for, cases_visible_to, holds_role_for_case
from casework.accounts.models import User
from casework.cases.models import Case, CaseStatus
from casework.closure.forms import answer_text
from casework.core.dates import long_date
from casework.core.errors import NotFound
from casework.organisation.models import Membership, Role, Team
from casework.policy.caseview import build_case_view
from casework.policy.conditions import EvaluationContext
from casework.policy.evaluate import GateResult, evaluate_gate
from casework.policy.loader import PolicyPack, load_pack
from casework.policy.models import PackPurpose
from casework.policy.schema import Pathway, Protocol
from casework.policy.schema import Transfer as TransferSpec
from casework.policy.services import bound_pack
from casework.tasks.models import Task
from casework.transfers.models import (
    ACTIVE_TRANSFER_STATES,
    OutOfAreaPlacement,
    PathwayRequest,
    PathwayState,
    Transfer,
    TransferState,
)
from casework.transfers.services import holds_role_in_team


def routing_overrides(user: User, *, since: dt.date | None = None) -> QuerySet[Transfer]:
    """Transfers sent somewhere other than the team the procedure recommended, with the rule
    and the manager's reason, for the cases `user` may see (R004-03: overrides are
    reportable). One query, newest first."""
    rows = (
        Transfer.objects.filter(case__in=cases_visible_to(user))
        .exclude(override_reason="")
        .select_related("case", "from_team", "to_team", "recommended_team", "requested_by")
        .order_by("-requested_on", "-id")
    )
    return rows.filter(requested_on__gte=since) if since else rows


# --- The transfer screens -----------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    """One line of a transfer's task list: what, who, its status and where to do it."""

    label: str
    who: str
    status: str
    url: str = ""
    detail: str = ""

    @property
    def tag_class(self) -> str:
        return {
            "Completed": "",
            "To do": "govuk-tag--blue",
            "Waiting": "govuk-tag--yellow",
            "Cannot start yet": "govuk-tag--grey",
            "Not needed": "govuk-tag--grey",
        }.get(self.status, "govuk-tag--grey")


@dataclass
class TransferPage:
    """A case (access-checked), its active or latest transfer, its pathway requests and the
    procedure that governs them, evaluated once for a page."""

    user: User
    case: Case
    pack: PolicyPack | None
    transfer: Transfer | None
    history: list[Transfer]
    requests: list[PathwayRequest]
    _evaluation: EvaluationContext | None = None
    _roles: dict[tuple[int, str], bool] = field(default_factory=dict)

    @property
    def evaluation(self) -> EvaluationContext:
        if self._evaluation is None:
            self._evaluation = EvaluationContext(build_case_view(self.case))
        return self._evaluation

    @property
    def spec(self) -> TransferSpec | None:
        return self.pack.spec.transfer if self.pack else None

    def procedure(self) -> tuple[PolicyPack, TransferSpec]:
        """The pack and its transfer section; callers have checked that there is one."""
        if self.pack is None or self.pack.spec.transfer is None:
            raise NotFound("No transfer procedure is set for this service.")
        return self.pack, self.pack.spec.transfer

    def current(self) -> Transfer:
        if self.transfer is None:
            raise NotFound("This case has no transfer.")
        return self.transfer

    @property
    def active(self) -> bool:
        return self.transfer is not None and self.transfer.state in ACTIVE_TRANSFER_STATES

    @property
    def protocol(self) -> Protocol | None:
        if self.transfer is None or self.spec is None:
            return None
        return next((p for p in self.spec.protocols if p.id == self.transfer.protocol_id), None)

    def in_team(self, team: Team, role: str) -> bool:
        key = (team.pk, role)
        if key not in self._roles:
            self._roles[key] = holds_role_in_team(self.user, team, role)
        return self._roles[key]

    @property
    def can_ask(self) -> bool:
        return self.case.status == CaseStatus.OPEN and holds_role_for_case(
            self.user, self.case, Role.SOCIAL_WORKER
        )

    @property
    def can_withdraw(self) -> bool:
        """The sending team's worker or manager (the service decides whose request)."""
        return (
            self.active
            and self.transfer is not None
            and (self.transfer.requested_by_id == self.user.pk or self.is_sending_manager)
        )

    @property
    def is_sending_manager(self) -> bool:
        return (
            self.transfer is not None
            and self.spec is not None
            and self.in_team(self.transfer.from_team, self.spec.authorised_by)
        )

    @property
    def is_receiving_manager(self) -> bool:
        return (
            self.transfer is not None
            and self.spec is not None
            and self.in_team(self.transfer.to_team, self.spec.accepted_by)
        )

    def url(self, name: str, **params: str) -> str:
        url = reverse(name, kwargs={"case_id": self.case.pk})
        return f"{url}?{urlencode(params)}" if params else url

    def outstanding_gates(self) -> list[GateResult]:
        if self.transfer is None or self.spec is None or self.pack is None:
            return []
        protocol = self.protocol
        ids = dict.fromkeys([*self.spec.gates, *(protocol.gates if protocol else [])])
        results = [evaluate_gate(self.pack, g, self.evaluation) for g in ids]
        return [r for r in results if r.outstanding]

    def steps(self) -> list[StepRow]:
        """The transfer's task list, in the order procedure 004 describes."""
        t = self.transfer
        if t is None or self.spec is None:
            return []
        requested = t.state == TransferState.REQUESTED
        protocol = self.protocol
        rows = [
            StepRow(
                "Ask to transfer, with the rationale",
                "Sending worker",
                "Completed",
                detail=f"{t.requested_by.display_name}, {long_date(t.requested_on)}",
            )
        ]
        if protocol and protocol.transfer_within:
            rows.append(
                StepRow(
                    "Discuss the transfer with the team manager",
                    "Sending team manager",
                    "Completed" if t.discussed_on else ("To do" if requested else "Not needed"),
                    self.url("transfer-discuss") if requested else "",
                    f"Discussed {long_date(t.discussed_on)}; "
                    f"moves by {long_date(t.agreed_transfer_date)}"
                    if t.discussed_on and t.agreed_transfer_date
                    else "Starts the procedure's clock",
                )
            )
        rows.append(
            StepRow(
                "Write the transfer summary",
                "Sending worker",
                "Completed" if t.summary_submitted_at else ("To do" if requested else "Not needed"),
                self.url("transfer-summary") if requested else "",
            )
        )
        rows.append(
            StepRow(
                "Audit the record",
                "Sending team manager",
                "Completed" if t.audit else ("To do" if requested else "Not needed"),
                self.url("transfer-audit") if requested else "",
                "Chronology, recording, relationships and genogram",
            )
        )
        ready = bool(t.summary_submitted_at and t.audit)
        rows.append(
            StepRow(
                "Authorise the transfer",
                "Sending team manager",
                "Completed"
                if t.authorised_on
                else ("To do" if requested and ready else "Cannot start yet"),
                self.url("transfer-authorise") if requested and ready else "",
                f"{t.authorised_by.display_name}, {long_date(t.authorised_on)}"
                if t.authorised_by and t.authorised_on
                else "",
            )
        )
        decided = t.decided_on is not None
        rows.append(
            StepRow(
                f"{t.to_team.name} accepts or declines",
                "Receiving team manager",
                "Completed"
                if decided
                else ("Waiting" if t.state == TransferState.AUTHORISED else "Cannot start yet"),
                self.url("transfer-decide") if t.state == TransferState.AUTHORISED else "",
                (
                    f"Declined: {t.decline_reason}"
                    if t.state == TransferState.DECLINED
                    else f"Accepted {long_date(t.decided_on)}"
                )
                if t.decided_on
                else "",
            )
        )
        point = protocol.transfer_point if protocol else "acceptance"
        meeting = protocol.meeting_kind if protocol and protocol.meeting_kind else "named meeting"
        point_text = {
            "acceptance": "when the receiving team accepts",
            "agreed_date": "on the agreed date, even if someone misses the transfer meeting",
            "meeting": f"at the {meeting.replace('_', ' ')}",
        }[point]
        rows.append(
            StepRow(
                "The case moves" if t.moves_responsibility else "Support starts",
                "A manager of either team",
                "Completed"
                if t.state == TransferState.COMPLETED
                else ("To do" if t.state == TransferState.ACCEPTED else "Cannot start yet"),
                self.url("transfer-complete") if t.state == TransferState.ACCEPTED else "",
                f"Moves {point_text}."
                if t.moves_responsibility
                else f"Responsibility stays with {t.from_team.name}.",
            )
        )
        return rows

    def summary_rows(self) -> list[tuple[str, str]]:
        """The transfer summary's answers under their headings, in the form's order."""
        if self.transfer is None or self.pack is None or self.spec is None:
            return []
        fields = self.pack.spec.forms[self.spec.summary_form].fields
        return [
            (f.label, answer_text(f, self.transfer.summary.get(f.id)))
            for f in fields
            if f.id in self.transfer.summary
        ]

    def transfer_tasks(self) -> list[Task]:
        if self.transfer is None:
            return []
        return list(
            Task.objects.filter(key__startswith=f"transfer:{self.transfer.pk}:")
            .select_related("team")
            .order_by("due_on", "id")
        )

    def pathway(self, pathway_id: str) -> Pathway | None:
        return next(
            (p for p in (self.spec.pathways if self.spec else []) if p.id == pathway_id), None
        )

    def pathway_options(self) -> list[Pathway]:
        """The routes out of (or into) the holding team that fit this case now."""
        if self.spec is None or self.pack is None or self.case.status != CaseStatus.OPEN:
            return []
        team = self.case.responsible_team.code
        open_ids = {r.pathway_id for r in self.requests if r.state == PathwayState.REQUESTED}
        options = []
        for pathway in self.spec.pathways:
            if pathway.from_teams and team not in pathway.from_teams:
                continue
            if not pathway.from_teams and pathway.kind != "transfer_in":
                continue
            if pathway.id in open_ids:
                continue
            applies = self.pack.condition(pathway.when).evaluate(self.evaluation)
            if applies.holds or applies.error:
                options.append(pathway)
        return options

    def request_rows(self) -> list[tuple[PathwayRequest, Pathway | None, bool]]:
        """Each request, its pathway and whether this user may decide it."""
        rows = []
        for request in self.requests:
            pathway = self.pathway(request.pathway_id)
            rows.append((request, pathway, bool(pathway and self.can_decide(request, pathway))))
        return rows

    def can_decide(self, request: PathwayRequest, pathway: Pathway) -> bool:
        team = request.to_team or self.case.responsible_team
        return request.state == PathwayState.REQUESTED and (
            self.in_team(team, pathway.decided_by)
            or holds_role_for_case(self.user, self.case, pathway.decided_by)
        )


def transfer_page(user: User, case_id: int) -> TransferPage:
    """The transfer page's data: NotFound if the user may not see the case."""
    case = case_for(user, case_id)
    case = Case.objects.select_related(
        "subject", "responsible_team__authority", "allocated_worker"
    ).get(pk=case.pk)
    transfers = list(
        Transfer.objects.filter(case=case).select_related(
            "from_team",
            "to_team",
            "requested_by",
            "authorised_by",
            "decided_by",
            "receiving_worker",
            "recommended_team",
        )
    )
    transfer = next((t for t in transfers if t.state in ACTIVE_TRANSFER_STATES), None)
    transfer = transfer or (transfers[0] if transfers else None)
    if transfer is not None:
        pack: PolicyPack | None = load_pack(transfer.pack_id)
    else:
        pack = bound_pack(case.responsible_team.authority, case.service_area, PackPurpose.TRANSFER)
    requests = list(
        PathwayRequest.objects.filter(case=case)
        .select_related("to_team", "requested_by", "decided_by")
        .order_by("-requested_on", "-id")
    )
    return TransferPage(
        user=user,
        case=case,
        pack=pack,
        transfer=transfer,
        history=[t for t in transfers if t is not transfer],
        requests=requests,
    )


@dataclass(frozen=True)
class TransferQueue:
    to_decide: list[Transfer]
    to_authorise: list[Transfer]
    requests: list[PathwayRequest]


def transfer_queue(user: User) -> TransferQueue:
    """What waits on `user`'s teams: transfers offered to them, transfers they are sending
    that still need authorising, and pathway requests asked of them. A fixed number of
    queries."""
    teams = Membership.objects.current().filter(user=user).values("team_id")
    visible = cases_visible_to(user)
    related = ("case__subject", "from_team", "to_team", "requested_by")
    return TransferQueue(
        to_decide=list(
            Transfer.objects.filter(
                case__in=visible, state=TransferState.AUTHORISED, to_team_id__in=teams
            )
            .select_related(*related)
            .order_by("authorised_on", "id")
        ),
        to_authorise=list(
            Transfer.objects.filter(
                case__in=visible, state=TransferState.REQUESTED, from_team_id__in=teams
            )
            .select_related(*related)
            .order_by("requested_on", "id")
        ),
        requests=list(
            PathwayRequest.objects.filter(case__in=visible, state=PathwayState.REQUESTED)
            .filter(
                Q(to_team_id__in=teams)
                | Q(to_team__isnull=True, case__responsible_team_id__in=teams)
            )
            .select_related("case__subject", "to_team", "requested_by")
            .order_by("requested_on", "id")
        ),
    )


def out_of_area_register(user: User) -> QuerySet[OutOfAreaPlacement]:
    """The duty fostering register, for the cases `user` may see. One query."""
    return (
        OutOfAreaPlacement.objects.filter(case__in=cases_visible_to(user))
        .select_related("case__subject", "case__responsible_team", "recorded_by")
        .order_by("-placed_on", "-id")
    )
