"""Reads for returns and exports, each starting from who is asking.

An export covers a whole service area, so running one needs a role whose need to know spans
the area (business support, senior managers: `SERVICE_AREA_WIDE_ROLES`). The Client Level
Data reads the asker's `cases_visible_to`; the CIN census is the authority's statutory
return and reads every children's case of the authority (which those roles may open anyway).
Jobs are seen only by the person who asked (administrators included: need to know applies to
them too); anyone else gets a 404, exactly as for a job that does not exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.cases.models import Assessment, AssessmentKind, Case, Plan, PlanKind, Referral
from casework.core.errors import NotFound
from casework.organisation.models import SERVICE_AREA_WIDE_ROLES, Authority, Membership, ServiceArea
from casework.returns.models import ExportJob

if TYPE_CHECKING:
    from casework.returns.cld import Period

# What the CLD reads of a case: Care Act assessments and reviews, and care and support plans.
CLD_ASSESSMENT_KINDS = (AssessmentKind.CARE_ACT, AssessmentKind.CARE_ACT_REVIEW)
CLD_PLAN_KINDS = (PlanKind.ADULT_CARE_SUPPORT,)


def cld_cases(authority: Authority, period: Period, visible_to: User | None) -> QuerySet[Case]:
    """Adults' cases of `authority` open at some time in `period`, oldest first, with the
    subject and the events the CLD reads prefetched (one query each per chunk when iterated
    with a chunk size). `visible_to` None is the command line: the operator runs the whole
    authority's return."""
    cases = cases_visible_to(visible_to) if visible_to is not None else Case.objects.all()
    return (
        cases.filter(
            service_area=ServiceArea.ADULTS,
            responsible_team__authority=authority,
            opened_on__lte=period.end,
        )
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=period.start))
        .select_related("subject")
        .prefetch_related(
            Prefetch("referrals", queryset=Referral.objects.order_by("received_on", "id")),
            Prefetch(
                "assessments",
                queryset=Assessment.objects.filter(kind__in=CLD_ASSESSMENT_KINDS).order_by(
                    "started_on", "id"
                ),
            ),
            Prefetch(
                "plans",
                queryset=Plan.objects.filter(kind__in=CLD_PLAN_KINDS).order_by("started_on", "id"),
            ),
        )
        .order_by("pk")
    )


def _area_wide_memberships(user: User, service_area: str) -> QuerySet[Membership]:
    return Membership.objects.current().filter(
        user=user, role__in=SERVICE_AREA_WIDE_ROLES, team__service_area=service_area
    )


def may_export(user: User, service_area: str) -> bool:
    """Whether `user` may run a whole-area export for `service_area`."""
    if not user.is_authenticated or not user.is_active:
        return False
    return _area_wide_memberships(user, service_area).exists()


def export_authority(user: User, service_area: str) -> Authority | None:
    """The authority whose `service_area` export `user` would run."""
    membership = (
        _area_wide_memberships(user, service_area).select_related("team__authority").first()
    )
    return membership.team.authority if membership else None


def export_jobs_for(user: User) -> QuerySet[ExportJob]:
    """The export jobs `user` asked for, newest first. Administrators too see only their own:
    an export is personal data, and need to know applies to administrators as well."""
    if not user.is_authenticated or not user.is_active:
        return ExportJob.objects.none()
    jobs = ExportJob.objects.select_related("requested_by").order_by("-requested_at", "-id")
    return jobs.filter(requested_by=user)


def export_job_for(user: User, job_id: int) -> ExportJob:
    """The job, if `user` asked for it; otherwise NotFound."""
    job = export_jobs_for(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("There is no export with that number that you can see.")
    return job
