"""The dashboard's filter: one of the user's teams (or all of them) and a period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from casework.frontend.widgets import DateInput
from casework.organisation.models import Team
from casework.oversight.selectors import default_period, months_before

LONGEST_PERIOD_MONTHS = 60


# No social-care record here is older; earlier dates only break the month arithmetic.
EARLIEST = dt.date(1900, 1, 1)


class DashboardFilter(forms.Form):
    team = forms.ChoiceField(
        label="Team",
        required=False,
        error_messages={"invalid_choice": "Choose one of your teams, or all your teams."},
    )
    start = forms.DateField(
        label="From",
        widget=DateInput(),
        error_messages={"invalid": "Enter the first day of the period as a real date."},
    )
    end = forms.DateField(
        label="To",
        widget=DateInput(),
        error_messages={"invalid": "Enter the last day of the period as a real date."},
    )

    def __init__(self, data: Any, *, teams: list[Team], today: dt.date) -> None:
        start, end = default_period(today)
        values = {"start": start.isoformat(), "end": end.isoformat(), "team": ""}
        given = {k: data.get(k) for k in values if data.get(k) is not None}
        super().__init__({**values, **given})
        self.teams = teams
        self.today = today
        team = self.fields["team"]
        assert isinstance(team, forms.ChoiceField)  # noqa: S101 - declared above
        team.choices = [("", "All your teams")] + [(str(t.pk), t.name) for t in teams]
        self.fields["start"].required = True
        self.fields["end"].required = True
        self.fields["start"].error_messages["required"] = "Enter the first day of the period."
        self.fields["end"].error_messages["required"] = "Enter the last day of the period."

    def clean_start(self) -> dt.date:
        start: dt.date = self.cleaned_data["start"]
        if start < EARLIEST:
            raise forms.ValidationError("The first day must be in 1900 or later.")
        return start

    def clean_end(self) -> dt.date:
        end: dt.date = self.cleaned_data["end"]
        if end > self.today:
            raise forms.ValidationError("The last day of the period cannot be in the future.")
        if end < EARLIEST:
            raise forms.ValidationError("The last day must be in 1900 or later.")
        return end

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start >= EARLIEST and end >= EARLIEST:
            if start > end:
                self.add_error("start", "The first day must be on or before the last day.")
            elif start < months_before(end, LONGEST_PERIOD_MONTHS):
                self.add_error("start", "Choose a period of 5 years or less.")
        return cleaned

    def chosen_teams(self) -> list[Team]:
        """The team chosen, or every team the user oversees."""
        wanted = self.cleaned_data.get("team")
        return [t for t in self.teams if str(t.pk) == wanted] if wanted else list(self.teams)
