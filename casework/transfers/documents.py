"""The notification to another authority that a looked-after child has been placed in its
area (R004-10), as a PDF rendered by WeasyPrint from the request and the register entry."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML

from casework.policy.loader import load_pack
from casework.transfers.models import OutOfAreaPlacement, PathwayRequest


def placement_letter_pdf(request: PathwayRequest) -> bytes:
    """The letter for a request entered in the duty fostering register. The caller has
    checked that the user may see the case."""
    entry = OutOfAreaPlacement.objects.select_related(
        "case__subject", "case__responsible_team__authority", "case__allocated_worker"
    ).get(request=request)
    pack = load_pack(request.pack_id)
    spec = pack.spec.transfer
    pathway = next(p for p in (spec.pathways if spec else []) if p.id == request.pathway_id)
    case = entry.case
    html = render_to_string(
        "transfers/placement_letter.html",
        {
            "title": pathway.letter or pathway.label,
            "entry": entry,
            "case": case,
            "child": case.subject,
            "authority": case.responsible_team.authority,
            "team": case.responsible_team,
            "worker": case.allocated_worker,
            "written_on": timezone.localdate(),
        },
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
