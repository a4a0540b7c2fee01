"""Making and revoking API tokens: audited like every other change."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from casework.accounts.models import User
from casework.api.models import ApiToken
from casework.audit.models import AuditCategory
from casework.audit.services import audit_record
from casework.core.compiled import CompiledRead, first
from casework.core.errors import InvalidInput, NotPermitted

TOKEN_BYTES = 32


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_LIVE_TOKEN_ATTRIBUTE = "_casework_live_token"  # noqa: S105 - an attribute name, not a secret
# Every API request reads its token: compiled once (casework.core.compiled).
_LIVE_TOKEN = CompiledRead(
    lambda digest: first(
        ApiToken.objects.select_related("user").filter(
            digest=digest, revoked_at__isnull=True, user__is_active=True
        )
    )
)


def live_token(request: HttpRequest, token: str) -> ApiToken | None:
    """The token, with its holder, if it is live (not revoked, its holder active). Read once
    per request: the idempotency check and the API's sign-in both ask, a few statements
    apart."""
    digest = token_digest(token)
    remembered: tuple[str, ApiToken | None] | None = getattr(request, _LIVE_TOKEN_ATTRIBUTE, None)
    if remembered is not None and remembered[0] == digest:
        return remembered[1]
    found = _LIVE_TOKEN.one(digest)
    setattr(request, _LIVE_TOKEN_ATTRIBUTE, (digest, found))
    return found


@transaction.atomic
def api_token_create(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `actor`; the plain token is returned once and never stored."""
    if not name.strip():
        raise InvalidInput("Say what the token is for.", field="name")
    plain = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=actor, name=name.strip(), digest=token_digest(plain), prefix=plain[:8]
    )
    audit_record(
        actor=actor,
        verb="api_token.created",
        category=AuditCategory.CONFIGURATION,
        obj=token,
        summary=f"API token '{token.name}' created",
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not actor.is_superuser:
        raise NotPermitted("Only the token's holder or an administrator can revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            verb="api_token.revoked",
            category=AuditCategory.CONFIGURATION,
            obj=token,
            summary=f"API token '{token.name}' revoked",
        )
    return token
