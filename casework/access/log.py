"""Writing the access log (X-02; issue 9 item 2): every view of a case or person record,
every download and every export, as one `AccessEvent`.

Page views and API reads are logged by `casework.access.middleware.AccessLogMiddleware`, so a
new page cannot forget. Code that hands over personal data some other way (an export file, a
subject access request, a file built in the background) calls `record_access` itself.
"""

from __future__ import annotations

from typing import Any

from casework.accounts.models import User
from casework.audit.models import AccessAction, AccessChannel, AccessEvent


def record_access(
    *,
    actor: User | None,
    action: str,
    summary: str,
    channel: str = AccessChannel.WEB,
    case: Any = None,
    person: Any = None,
    person_id: int | None = None,
    url_name: str = "",
    path: str = "",
    emergency_access: Any = None,
    emergency_access_id: int | None = None,
) -> AccessEvent:
    """Log one look at personal data. `summary` says what was seen in a line, without
    personal data of its own (names belong to the case and person the entry links)."""
    if action not in AccessAction.values or channel not in AccessChannel.values:
        raise ValueError(f"Unknown access action or channel: {action!r}, {channel!r}")
    return AccessEvent.objects.create(
        actor=actor,
        channel=channel,
        action=action,
        summary=summary[:300],
        case=case,
        person_id=person.pk if person is not None else person_id,
        url_name=url_name[:100],
        path=path[:300],
        emergency_access_id=(
            emergency_access.pk if emergency_access is not None else emergency_access_id
        ),
    )
