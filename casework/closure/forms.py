"""Forms for the closure screens. They only parse and tidy what was typed: every rule about
what is allowed lives in `services`, whose problems are shown on these forms' fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from casework.closure.models import ChecklistAnswer, Sharing
from casework.core.errors import InvalidInput
from casework.frontend.widgets import DateInput
from casework.policy.answers import NA_VALUE
from casework.policy.evaluate import FieldState, ItemResult
from casework.policy.schema import Checklist, ClosureReason, FormField

YES_NO = [("yes", "Yes"), ("no", "No")]
NOT_APPLICABLE = "Not applicable"


class MultilineField(forms.CharField):
    """Free text from a textarea. Browsers send line breaks as CRLF; the record (and text
    pre-filled from it) uses LF, so an untouched pre-filled answer stays identical."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return str(text).replace("\r\n", "\n").replace("\r", "\n")


def show_problems(
    form: forms.BaseForm, error: InvalidInput, fields: dict[str, str] | None = None
) -> None:
    """Put a service's problems on the form: on the field they name (through `fields` when
    the service's name differs), otherwise at the top of the form."""
    fields = fields or {}
    for problem in error.problems:
        name = fields.get(problem.field or "", problem.field)
        if name and name in form.fields:
            form.add_error(name, problem.message)
        else:
            form.add_error(None, problem.message)


class ProposeForm(forms.Form):
    reason_id = forms.ChoiceField(
        label="Why should the case close?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the reason the case should close."},
    )
    note = MultilineField(
        label="Note for the manager (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What has changed, and why closure is right now.",
    )

    def __init__(self, *args: Any, reasons: list[ClosureReason], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason_id"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [(r.id, f"{r.label} ({r.national_code})") for r in reasons]


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        choices=[
            ("agreed", "Agree the closure"),
            ("further_actions", "Further actions are needed first"),
            ("rejected", "Reject the closure"),
        ],
        error_messages={"required": "Choose agree, further actions or reject."},
    )
    note = MultilineField(
        label="Closure discussion and the reasons for your decision",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    actions = MultilineField(
        label="Further actions needed (only if you ask for further actions)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One action on each line.",
    )

    def action_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["actions"].split("\n") if line.strip()]


class FurtherActionForm(forms.Form):
    action_id = forms.IntegerField(widget=forms.HiddenInput)
    note = MultilineField(
        label="What was done",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["note"].label = label


class WithdrawForm(forms.Form):
    reason = MultilineField(
        label="Why are you withdrawing the closure?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class NoteForm(forms.Form):
    note = MultilineField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AgreementForm(forms.Form):
    note = MultilineField(
        label="Why you agree the closure can go on",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class AuthoriseForm(forms.Form):
    compliance_review = MultilineField(
        label="Compliance review",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="That recording is in place, or the gaps that remain.",
    )


# --- A pack's form -------------------------------------------------------------------------


def _field_for(spec: FormField) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": False, "help_text": spec.hint}
    if spec.type == "yes_no":
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
    if spec.type == "yes_no_na":
        return forms.ChoiceField(
            choices=[*YES_NO, ("na", NOT_APPLICABLE)], widget=forms.RadioSelect, **common
        )
    if spec.type == "choice":
        return forms.ChoiceField(
            choices=[(o, o) for o in spec.options], widget=forms.RadioSelect, **common
        )
    if spec.type == "date":
        return forms.DateField(
            widget=DateInput(),
            error_messages={"invalid": f"Enter a real date for '{spec.label}'."},
            **common,
        )
    if spec.type in ("number", "score"):
        return forms.IntegerField(
            min_value=0,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
            error_messages={"invalid": f"Enter a whole number for '{spec.label}'."},
            **common,
        )
    rows = 8 if spec.type in ("people", "agencies") else 6
    return MultilineField(widget=forms.Textarea(attrs={"rows": rows}), **common)


def stored_to_initial(spec: FormField, value: Any) -> Any:
    """An answer as saved, as the form control shows it."""
    if spec.type in ("yes_no", "yes_no_na"):
        if value is True:
            return "yes"
        if value is False:
            return "no"
        return "na" if value == NA_VALUE else ""
    return "" if value is None else value


def answer_text(spec: FormField | None, value: Any) -> str:
    """An answer as a person reads it."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "Not answered"
    if spec is not None and spec.type == "yes_no_na" and value == NA_VALUE:
        return NOT_APPLICABLE
    if spec is not None and spec.type == "date" and isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.day} {day:%B %Y}"
    return str(value)


class PackForm(forms.Form):
    """The headings of a pack's form that apply now, as GOV.UK fields. Every heading is
    optional here: drafts may be incomplete, and the service says what is missing at
    submission."""

    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, states: list[FieldState], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.specs: dict[str, FormField] = {}
        for state in states:
            if state.shown:
                self.fields[state.field.id] = _field_for(state.field)
                self.specs[state.field.id] = state.field

    def answers(self) -> dict[str, Any]:
        """The cleaned answers as the service stores them."""
        answers: dict[str, Any] = {}
        for name, spec in self.specs.items():
            value = self.cleaned_data.get(name)
            if spec.type in ("yes_no", "yes_no_na"):
                answers[name] = {"yes": True, "no": False, "na": NA_VALUE}.get(value or "", None)
            elif spec.type == "date":
                answers[name] = value.isoformat() if isinstance(value, dt.date) else ""
            elif spec.type in ("number", "score"):
                answers[name] = value
            else:
                answers[name] = value or ""
        return answers


# --- A pack's checklist --------------------------------------------------------------------


def item_field(item_id: str, name: str) -> str:
    return f"item-{item_id}-{name}"


class ChecklistForm(forms.Form):
    """Every item's answer, note and evidence date, named `item-<id>-<answer|note|...>`."""

    def __init__(
        self,
        *args: Any,
        checklist: Checklist,
        results: list[ItemResult],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.checklist = checklist
        for result in results:
            item = result.item
            choices = [("yes", "Yes"), ("no", "No")]
            if result.section.not_applicable_allowed:
                choices.append(("na", NOT_APPLICABLE))
            self.fields[item_field(item.id, "answer")] = forms.ChoiceField(
                label=f"Your answer to item {item.id}",
                choices=choices,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[item_field(item.id, "note")] = MultilineField(
                label=f"Note for item {item.id}"
                + ("" if checklist.item_note_required else " (optional)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            if checklist.evidence_date_required:
                self.fields[item_field(item.id, "evidence_date")] = forms.DateField(
                    label=f"Date of the record that shows item {item.id}",
                    required=False,
                    widget=DateInput(),
                    help_text="Needed when you answer yes.",
                    error_messages={"invalid": f"Enter a real date for item {item.id}."},
                )

    def item_values(self, item_id: str) -> tuple[str, str, dt.date | None]:
        data = self.cleaned_data
        return (
            data.get(item_field(item_id, "answer")) or "",
            data.get(item_field(item_id, "note")) or "",
            data.get(item_field(item_id, "evidence_date")),
        )


def checklist_initial(answers: dict[str, ChecklistAnswer]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for item_id, answer in answers.items():
        initial[item_field(item_id, "answer")] = answer.answer
        initial[item_field(item_id, "note")] = answer.note
        initial[item_field(item_id, "evidence_date")] = answer.evidence_date
    return initial


# --- Sharing -------------------------------------------------------------------------------

SHARE_ROWS = 3


class ShareForm(forms.Form):
    """Who the signed summary went to: `rows` recipients (blank rows are ignored) and when."""

    shared_on = forms.DateField(
        label="Date shared",
        widget=DateInput(),
        error_messages={
            "required": "Enter the date the summary was shared.",
            "invalid": "Enter a real date, for example 27 March 2025.",
        },
    )

    def __init__(self, *args: Any, rows: int = SHARE_ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for n in range(1, rows + 1):
            self.fields[f"recipient-{n}"] = forms.CharField(
                label=f"Name of recipient {n}", required=False, max_length=200
            )
            self.fields[f"kind-{n}"] = forms.ChoiceField(
                label=f"Is recipient {n} family or a professional?",
                choices=[("family", "Family"), ("professional", "Professional")],
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[f"method-{n}"] = forms.ChoiceField(
                label=f"How recipient {n} received it",
                choices=[("", "Choose how"), *Sharing.Method.choices],
                required=False,
            )

    def recipient_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"recipient-{n}"], self[f"kind-{n}"], self[f"method-{n}"]]
            for n in range(1, self.rows + 1)
        ]

    def recipients(self) -> list[dict[str, str]]:
        data = self.cleaned_data
        rows = []
        for n in range(1, self.rows + 1):
            values = {
                "recipient": data.get(f"recipient-{n}") or "",
                "kind": data.get(f"kind-{n}") or "",
                "method": data.get(f"method-{n}") or "",
            }
            if any(values.values()):
                rows.append(values)
        return rows


ANSWER_LABELS = dict(ChecklistAnswer.Answer.choices)
