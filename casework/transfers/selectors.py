"""Reads for transfers, through the access-scoped case selector."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from casework.access.policy import cases_visible_to
from casework.accounts.models import User
from casework.transfers.models import Transfer


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
