"""Each person's own API tokens: make one (shown once), see when each was last used, revoke
one. Administrators also revoke tokens in the Django admin."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from casework.api.models import ApiToken
from casework.api.services import api_token_create, api_token_revoke
from casework.closure.forms import show_problems
from casework.core.errors import InvalidInput
from casework.frontend.pages import signed_in_user as _user


class TokenForm(forms.Form):
    name = forms.CharField(
        label="What is the token for?",
        max_length=100,
        help_text="For example, 'Data team weekly export'. It acts with your access.",
        error_messages={"required": "Say what the token is for."},
    )


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = api_token_create(actor=user, name=form.cleaned_data["name"])
        except InvalidInput as error:
            show_problems(form, error)
        else:
            form = TokenForm()
    # The new token is shown on this response only: never stored, never in a message.
    response = render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": list(ApiToken.objects.filter(user=user).order_by("-created_at")),
            "has_errors": bool(form.errors),
        },
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _user(request)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404("You have no such token.")
    api_token_revoke(actor=user, token=token)
    messages.success(request, f"Token '{token.name}' revoked: it no longer works")
    return redirect("api-tokens")
