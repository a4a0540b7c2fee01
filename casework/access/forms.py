from __future__ import annotations

from django import forms

from casework.access.models import EmergencyOutcome
from casework.closure.forms import MultilineField


class EmergencyAccessForm(forms.Form):
    case_reference = forms.CharField(
        label="Case reference",
        help_text="For example, C00012. Ask whoever needs you to act for it.",
        max_length=20,
        error_messages={"required": "Enter the case reference, like C00012."},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "spellcheck": "false"}),
    )
    reason = MultilineField(
        label="Why do you need this record now?",
        help_text=(
            "Your managers and the case's managers are told straight away, and a manager "
            "will check that the reason justified opening the record."
        ),
        error_messages={"required": "Say why you need this record now."},
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class EmergencyReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Was opening the record justified?",
        choices=EmergencyOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the access was justified."},
    )
    note = MultilineField(
        label="Note (needed if it was not justified)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RestrictForm(forms.Form):
    reason = MultilineField(
        label="Why must these records be restricted?",
        help_text="For example: the person is a member of staff, or close family of one.",
        error_messages={"required": "Say why these records must be restricted."},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LiftForm(forms.Form):
    lift_reason = MultilineField(
        label="Why is the restriction no longer needed?",
        error_messages={"required": "Say why the restriction is no longer needed."},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NameForm(forms.Form):
    username = forms.CharField(
        label="Username of the person to name",
        max_length=150,
        error_messages={"required": "Enter the username of the person to name."},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
    )
