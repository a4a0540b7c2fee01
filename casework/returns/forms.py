"""The parameter forms of the export kinds: what a data officer chooses before starting one.

Each form turns its answers into the job's JSON `parameters`; the job's service checks them
again, so the command line and any other caller get the same refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from casework.core.dates import long_date
from casework.returns.cld import Period, quarter_label, recent_quarters


class ExportForm(forms.Form):
    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def parameters(self) -> dict[str, str]:
        raise NotImplementedError


class CldPeriodForm(ExportForm):
    quarter = forms.ChoiceField(
        label="Reporting period",
        help_text="Client Level Data is reported by financial quarter. The quarter in "
        "progress gives a preview of the records so far.",
        error_messages={
            "required": "Choose the quarter to report.",
            "invalid_choice": "Choose one of the quarters in the list.",
        },
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, today=today, **kwargs)
        field = self.fields["quarter"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        quarters = recent_quarters(today)
        field.choices = [
            (q.start.isoformat(), quarter_label(q) + (" (in progress)" if q.end >= today else ""))
            for q in quarters
        ]
        field.initial = quarters[1].start.isoformat()
        self._quarters = {q.start.isoformat(): q for q in quarters}

    def parameters(self) -> dict[str, str]:
        period: Period = self._quarters[self.cleaned_data["quarter"]]
        return period.as_parameters()


def census_years(today: dt.date, count: int = 3) -> list[dt.date]:
    """31 March of the census year in progress and of the `count - 1` before it."""
    end = dt.date(today.year if today.month <= 3 else today.year + 1, 3, 31)
    return [end.replace(year=end.year - n) for n in range(count)]


def census_year_label(end: dt.date) -> str:
    start = dt.date(end.year - 1, 4, 1)
    return f"{end.year - 1}-{end.year % 100:02d}: {long_date(start)} to {long_date(end)}"


class CensusYearForm(ExportForm):
    census_year_end = forms.ChoiceField(
        label="Census year",
        help_text="The Children in Need census covers 1 April to 31 March.",
        error_messages={
            "required": "Choose the census year.",
            "invalid_choice": "Choose one of the census years in the list.",
        },
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, today=today, **kwargs)
        field = self.fields["census_year_end"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        years = census_years(today)
        field.choices = [
            (end.isoformat(), census_year_label(end) + (" (in progress)" if end >= today else ""))
            for end in years
        ]
        field.initial = years[1].isoformat()

    def parameters(self) -> dict[str, str]:
        return {"census_year_end": self.cleaned_data["census_year_end"]}


class SubjectAccessForm(ExportForm):
    """Whose records: the person is found, and checked against who is asking, by the service
    (`casework.privacy.subject_access.authorise`), so a refusal shows on this field."""

    person = forms.CharField(
        label="The person's local ID or Casework ID",
        help_text="The local ID is on the person's page, for example P00001234. You can only "
        "choose someone whose records you can see.",
        max_length=20,
        error_messages={
            "required": "Enter the local ID or Casework ID of the person who asked.",
            "max_length": "A local ID or Casework ID is at most 20 letters and digits.",
        },
    )

    def parameters(self) -> dict[str, str]:
        return {"person": self.cleaned_data["person"].strip()}
