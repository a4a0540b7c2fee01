"""Answers to a pack's form are checked by type in the services, however they arrive (the
screens parse them; JSON through the API can carry anything)."""

from __future__ import annotations

from casework.policy.answers import answer_problems
from casework.policy.schema import Form, FormField

FORM = Form(
    title="Closing summary",
    purpose="What was achieved, for the family and the record.",
    fields=[
        FormField(id="seen", label="Child seen", type="yes_no"),
        FormField(id="agreed", label="Ending agreed", type="yes_no_na"),
        FormField(id="ended_on", label="Date ended", type="date"),
        FormField(id="visits", label="Visits", type="number"),
        FormField(id="level", label="Level", type="choice", options=["low", "high"]),
        FormField(id="progress", label="Progress", type="text"),
    ],
)


def test_answers_of_the_right_type_and_empty_answers_pass() -> None:
    good = {
        "seen": True,
        "agreed": "na",
        "ended_on": "2026-11-25",
        "visits": 0,
        "level": "high",
        "progress": "Attendance above 95%",
    }
    assert answer_problems(FORM, good) == []
    # A draft may leave anything unanswered: what is required is checked at submission.
    assert answer_problems(FORM, dict.fromkeys(good)) == []
    assert answer_problems(FORM, {"ended_on": "", "level": ""}) == []


def test_each_wrong_answer_is_named_with_what_it_takes() -> None:
    problems = answer_problems(
        FORM,
        {
            "seen": "yes",
            "agreed": "maybe",
            "ended_on": "soon",
            "visits": -1,
            "level": "medium",
            "progress": 7,
        },
    )
    assert [(p.field, p.message) for p in problems] == [
        ("seen", "'Child seen' takes true or false."),
        ("agreed", "'Ending agreed' takes true, false or \"na\"."),
        ("ended_on", "'Date ended' takes a date as \"YYYY-MM-DD\"."),
        ("visits", "'Visits' takes a whole number (0 or more)."),
        ("level", "'Level' takes one of its options."),
        ("progress", "'Progress' takes text."),
    ]


def test_true_is_not_a_number_and_a_timestamp_is_not_a_date() -> None:
    problems = answer_problems(FORM, {"visits": True, "ended_on": "2026-11-25T10:00"})
    assert [p.field for p in problems] == ["visits", "ended_on"]


def test_a_heading_the_form_lacks_is_refused_unless_allowed() -> None:
    problems = answer_problems(FORM, {"favourite_colour": "blue"})
    assert [(p.field, p.message) for p in problems] == [
        (None, "'Closing summary' does not ask about: favourite_colour.")
    ]
    assert answer_problems(FORM, {"favourite_colour": "blue"}, unknown_allowed=True) == []
