"""Answers to a pack's form, checked the same way however they arrive.

The screens' forms parse what was typed into each heading's type before a service sees it;
the API receives JSON, which can carry anything. So the services, the one write path, check
each answer against its heading here: an unknown heading, or a value of the wrong type, is a
plain-English problem naming the heading, never a stored surprise or a crash later."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casework.core.errors import Problem
from casework.policy.schema import Form, FormField

# What each heading type takes, as an API client or a person would read it.
EXPECTED: dict[str, str] = {
    "yes_no": "true or false",
    "yes_no_na": 'true, false or "na"',
    "date": 'a date as "YYYY-MM-DD"',
    "number": "a whole number (0 or more)",
    "score": "a whole number (0 or more)",
    "choice": "one of its options",
}
# How a form stores "not applicable" for a yes_no_na heading (yes and no are booleans).
NA_VALUE = "na"


def answer_fits(field: FormField, value: Any) -> bool:
    """Whether `value` is an answer of the heading's type. Empty (None, "") always fits:
    drafts are incomplete, and what is required is checked at submission."""
    if value is None:
        return True
    if field.type == "yes_no":
        return isinstance(value, bool)
    if field.type == "yes_no_na":
        return isinstance(value, bool) or value == NA_VALUE
    if field.type in ("number", "score"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if not isinstance(value, str):
        return False
    if field.type == "date" and value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    if field.type == "choice" and value:
        return value in field.options
    return True


# A heading that takes a date, for details that are dates by name rather than by a form.
DATE_ANSWER = FormField(id="date", label="Date", type="date")


def answer_problems(
    form: Form, answers: dict[str, Any], *, unknown_allowed: bool = False
) -> list[Problem]:
    """Each answer of the wrong type, and (unless allowed) each heading the form lacks."""
    fields = {f.id: f for f in form.fields}
    problems = [
        Problem(key, f"'{fields[key].label}' takes {EXPECTED.get(fields[key].type, 'text')}.")
        for key, value in answers.items()
        if key in fields and not answer_fits(fields[key], value)
    ]
    unknown = sorted(set(answers) - set(fields))
    if unknown and not unknown_allowed:
        problems.append(Problem(None, f"'{form.title}' does not ask about: {', '.join(unknown)}."))
    return problems
