"""The reviewer's forms. They only collect answers: the services check them, so every caller
gets the same refusals."""

from __future__ import annotations

from typing import Any

from django import forms

from casework.closure.forms import MultilineField
from casework.frontend.widgets import DateInput
from casework.organisation.models import ServiceArea


class Decision:
    DESTROY = "destroy"
    RETAIN = "retain"
    ARCHIVE = "archive"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="What should happen to these records?",
        widget=forms.RadioSelect,
        choices=[
            (Decision.DESTROY, "Destroy them: remove the person's data from Casework for good"),
            (Decision.RETAIN, "Keep them for longer, and review them again on a date"),
            (Decision.ARCHIVE, "Archive them: keep them for their lasting value"),
        ],
        error_messages={"required": "Choose what should happen to the records."},
    )
    reason = MultilineField(
        label="Why are they being kept or archived?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed to keep or archive. For example an inquiry, a complaint, a request "
        "from the family, or their historical value. Leave it empty to destroy.",
    )
    next_review_on = forms.DateField(
        label="When should they be reviewed again?",
        required=False,
        widget=DateInput(),
        help_text="Needed to keep them; optional when archiving (empty: archived for good).",
        error_messages={"invalid": "Enter a real date, for example 27 March 2031."},
    )
    confirmed = forms.BooleanField(
        label="I confirm the records should be destroyed. This cannot be undone.",
        required=False,
        help_text="Needed to destroy them.",
    )


class HoldScope:
    PERSON = "person"
    CLASS = "class"
    AREA = "area"


class HoldForm(forms.Form):
    service_area = forms.ChoiceField(
        label="Whose records?",
        widget=forms.RadioSelect,
        choices=ServiceArea.choices,
        error_messages={"required": "Choose the service area."},
    )
    scope = forms.ChoiceField(
        label="Which records must not be destroyed?",
        widget=forms.RadioSelect,
        choices=[
            (HoldScope.PERSON, "One person's records"),
            (HoldScope.CLASS, "Every record of one class"),
            (HoldScope.AREA, "Every record in the service area"),
        ],
        error_messages={"required": "Choose which records the hold covers."},
    )
    person_local_id = forms.CharField(
        label="The person's local ID (for one person's records)",
        required=False,
        max_length=20,
        help_text="As shown on their record, for example P00001234.",
    )
    record_class = forms.ChoiceField(
        label="The class of records (for every record of one class)", required=False
    )
    reference = forms.CharField(
        label="Reference (optional)",
        required=False,
        max_length=200,
        help_text="For example the inquiry's name or a court case number.",
    )
    reason = MultilineField(
        label="Why must the records be kept?",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why the records must be kept."},
    )

    def __init__(
        self, *args: Any, areas: list[str], classes: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["service_area"]
        assert isinstance(area_field, forms.ChoiceField)  # noqa: S101 - declared above
        area_field.choices = [(a, ServiceArea(a).label) for a in areas]
        if len(areas) == 1:
            area_field.initial = areas[0]
        class_field = self.fields["record_class"]
        assert isinstance(class_field, forms.ChoiceField)  # noqa: S101 - declared above
        class_field.choices = [("", "Choose a class"), *classes]

    def service_arguments(self) -> dict[str, str]:
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "service_area": data["service_area"],
            "reason": data["reason"],
            "reference": data.get("reference", ""),
            "person_local_id": data.get("person_local_id", "") if scope == HoldScope.PERSON else "",
            "record_class": data.get("record_class", "") if scope == HoldScope.CLASS else "",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == HoldScope.PERSON and not data.get("person_local_id", "").strip():
            self.add_error("person_local_id", "Enter the person's local ID.")
        if scope == HoldScope.CLASS and not data.get("record_class"):
            self.add_error("record_class", "Choose the class of records.")
        return data


class LiftForm(forms.Form):
    reason = MultilineField(
        label="Why can the hold end?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example that the inquiry has finished or the claim was settled.",
        error_messages={"required": "Say why the hold can end."},
    )
