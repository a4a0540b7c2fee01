"""Inline validation (progressive enhancement with htmx): when the user leaves a text, date
or select field, the browser posts the form with `validate=<field>`; the view checks the
form without saving and answers with the page, of which htmx swaps in only that field's
form group (its error message, or none). Without JavaScript nothing changes: the whole form
is checked when it is sent, as before."""

from __future__ import annotations

import json

from django import forms
from django.http import HttpRequest

FIELD = "validate"


def enable(form: forms.BaseForm, url: str) -> None:
    """Give each text, date and select control of `form` the htmx attributes that check it
    on change. Radios and checkboxes are left alone (a choice made is valid)."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(
            widget, (forms.HiddenInput, forms.RadioSelect, forms.CheckboxInput, forms.FileInput)
        ):
            continue
        group = f"#{form[name].auto_id}-group"
        widget.attrs.update(
            {
                "hx-post": url,
                "hx-trigger": "change",
                "hx-target": group,
                "hx-select": group,
                "hx-swap": "outerHTML",
                "hx-vals": json.dumps({FIELD: name}),
            }
        )


def requested(request: HttpRequest) -> bool:
    """This post only asks for the form to be checked (nothing is saved)."""
    return (
        request.method == "POST" and FIELD in request.POST and bool(getattr(request, "htmx", False))
    )
