"""Forms for the transfer, pathway and re-referral screens. They only parse what was typed:
every rule lives in the services, whose problems are shown on these forms' fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from casework.accounts.models import User
from casework.closure.forms import MultilineField
from casework.frontend.widgets import DateInput
from casework.organisation.models import Team
from casework.policy.evaluate import ItemResult
from casework.policy.schema import FormField

YES_NO = [("yes", "Yes"), ("no", "No")]


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateInput(),
        error_messages={
            "required": f"Enter the {label[0].lower()}{label[1:]}.",
            "invalid": f"Enter a real date for '{label}'.",
        },
    )


def outcome_label(outcome: str) -> str:
    """A pack's outcome id as a person reads it: 'threshold-dispute' -> 'Threshold dispute'."""
    text = outcome.replace("-", " ").replace("_", " ")
    return text[:1].upper() + text[1:]


class TransferRequestForm(forms.Form):
    to_team = forms.ChoiceField(
        label="Which team should take the case?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the team that should take the case."},
    )
    rationale = MultilineField(
        label="Why should the case move?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Say how the transfer principles are met.",
    )
    override_reason = MultilineField(
        label="If you chose a team other than the recommended one, why? (managers only)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    trigger = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        teams: list[Team],
        request_fields: list[tuple[str, FormField | None, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_team"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(str(t.pk), t.name) for t in teams]
        self.request_names: list[str] = []
        for name, spec, applies_to in request_fields:
            label = spec.label if spec else name.replace("_", " ").capitalize()
            hint = f"Needed for: {applies_to}."
            if (spec and spec.type == "date") or name.endswith("date"):
                self.fields[name] = _date(label, required=False, help_text=hint)
            else:
                self.fields[name] = MultilineField(
                    label=label,
                    required=False,
                    help_text=hint,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            self.request_names.append(name)

    def request_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        for name in self.request_names:
            value = self.cleaned_data.get(name)
            details[name] = value.isoformat() if isinstance(value, dt.date) else (value or "")
        return details

    def request_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.request_names]


class DiscussForm(forms.Form):
    discussed_on = _date("Date of the discussion")
    agreed_transfer_date = _date(
        "Agreed transfer date",
        required=False,
        help_text="Leave blank to use the latest date the procedure allows.",
    )


class AuditForm(forms.Form):
    """For each audit item: the manager's yes or no, and a note (needed when it differs from
    the automatic check)."""

    def __init__(self, *args: Any, results: list[ItemResult], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results = results
        for result in results:
            self.fields[f"{result.item.id}-answer"] = forms.ChoiceField(
                label=result.item.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[f"{result.item.id}-note"] = MultilineField(
                label=f"Note on: {result.item.text}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Needed if your answer differs from what the record shows.",
            )

    def rows(self) -> list[tuple[ItemResult, forms.BoundField, forms.BoundField]]:
        return [(r, self[f"{r.item.id}-answer"], self[f"{r.item.id}-note"]) for r in self.results]

    def answers(self) -> dict[str, dict[str, str]]:
        return {
            r.item.id: {
                "answer": self.cleaned_data.get(f"{r.item.id}-answer") or "",
                "note": self.cleaned_data.get(f"{r.item.id}-note") or "",
            }
            for r in self.results
        }


class TransferDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Will your team take the case?",
        widget=forms.RadioSelect,
        choices=[("accept", "Accept the case"), ("decline", "Decline the case")],
        error_messages={"required": "Choose accept or decline."},
    )
    receiving_worker = forms.ChoiceField(
        label="Allocated worker in your team (optional)",
        required=False,
        help_text="Who takes the case at the transfer point. Leave blank to allocate later.",
    )
    reason = MultilineField(
        label="Reason (needed if you decline)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, workers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["receiving_worker"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [("", "Allocate later"), *((str(w.pk), w.display_name) for w in workers)]


class ReasonForm(forms.Form):
    reason = MultilineField(
        label="Why are you withdrawing the request?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class MeetingForm(forms.Form):
    meeting_on = _date(
        "Date of the meeting",
        required=False,
        help_text="Give the family and agencies the notice the procedure asks for.",
    )


class PathwayDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a decision."},
    )
    rationale = MultilineField(
        label="Rationale for the decision",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, outcomes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["outcome"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(o, outcome_label(o)) for o in outcomes]
