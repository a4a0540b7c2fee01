"""Form widgets that render well with GOV.UK Frontend."""

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker (`<input type="date">`), which always exchanges ISO dates.

    Django's own DateInput is a plain text box formatted for the locale; a date picker's value
    must be `YYYY-MM-DD` whatever the locale, so the format is fixed here. It is as wide as a
    date needs, unless `attrs` gives another class.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            attrs={"class": "govuk-input--width-10", **(attrs or {})}, format="%Y-%m-%d"
        )
