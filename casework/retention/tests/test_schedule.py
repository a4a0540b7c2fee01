"""The retention schedule (X-04): each record class's date, the precedence between classes,
stand-ins for dates Casework does not record, and a council's own schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from casework.accounts.models import User
from casework.organisation.models import Authority, Team
from casework.policy.loader import PackError, load_pack
from casework.policy.services import pack_bind
from casework.retention.schedule import (
    ADOPTION_FROM_CLOSURE,
    NO_DATE_OF_BIRTH,
    RecordDate,
    Schedule,
    add_years,
)
from casework.retention.tests.builders import D, closed_case, open_case, person

pytestmark = pytest.mark.usefixtures("bound")


def _record(subject_id: int) -> RecordDate:
    from casework.people.models import Person

    return Schedule(D(2030, 1, 1)).record_date(Person.objects.get(pk=subject_id))


def test_x04_looked_after_record_is_kept_to_the_75th_birthday(worker: User, team_ai: Team) -> None:
    """X-04: a looked-after child's record is kept until their 75th birthday (Care Planning,
    Placement and Case Review (England) Regulations 2010, regulation 50)."""
    child = person(worker, born=D(2010, 5, 4))
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3), plan="lac")
    record = _record(child.pk)
    assert record.deciding is not None
    assert (record.deciding.class_id, record.deciding.trigger, record.deciding.years) == (
        "looked-after",
        "date_of_birth",
        75,
    )
    assert record.due_on == D(2085, 5, 4)
    assert record.deciding.period == "75 years from the date of birth"


def test_x04_looked_after_child_who_died_under_18_is_kept_15_years_from_death(
    worker: User, team_ai: Team
) -> None:
    """X-04: if a looked-after child dies before 18, the record is kept 15 years from the
    date of death instead of to the 75th birthday."""
    child = person(worker, born=D(2010, 5, 4), died=D(2020, 6, 1))
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 6, 1), plan="lac", code="RC2")
    record = _record(child.pk)
    assert record.deciding is not None
    assert (record.deciding.class_id, record.deciding.trigger) == ("looked-after", "date_of_death")
    assert record.due_on == D(2035, 6, 1)


def test_x04_child_protection_is_kept_35_years_after_closure(worker: User, team_ai: Team) -> None:
    """X-04: a child protection record is kept 35 years after the case closes."""
    child = person(worker, born=D(2010, 5, 4))
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 3, 2), plan="cp")
    record = _record(child.pk)
    assert record.deciding is not None
    assert record.deciding.class_id == "child-protection"
    assert record.due_on == D(2055, 3, 2)


def test_x04_a_section_47_enquiry_without_a_plan_is_a_child_protection_record(
    worker: User, team_ai: Team
) -> None:
    """X-04: section 47 enquiries are child protection records (domain facts 5), kept 35
    years after closure even when no child protection plan followed."""
    from casework.cases.services import section47_record
    from casework.retention.tests.builders import close

    child = person(worker, born=D(2010, 5, 4))
    case = open_case(worker, team_ai, child, D(2019, 1, 7))
    section47_record(
        actor=worker,
        case=case,
        started_on=D(2019, 1, 8),
        outcome="no_icpc",
        concluded_on=D(2019, 1, 20),
    )
    close(worker, case, D(2020, 3, 2), "RC7")
    record = _record(child.pk)
    assert record.deciding is not None
    assert record.deciding.class_id == "child-protection"
    assert record.due_on == D(2055, 3, 2)


def test_x04_child_protection_then_looked_after_keeps_the_looked_after_period(
    worker: User, team_ai: Team
) -> None:
    """X-04: a child protection record becomes a looked-after record when the child is
    later looked after: on one case the looked-after class comes first; across two cases
    the longer period wins (75th birthday, not 35 years after the CP case closed)."""
    child = person(worker, born=D(2010, 5, 4))
    case = open_case(worker, team_ai, child, D(2018, 1, 8))
    from casework.cases.services import plan_end, plan_start

    cp = plan_start(actor=worker, case=case, kind="cp", started_on=D(2018, 2, 1), category="NEG")
    plan_end(actor=worker, plan=cp, ended_on=D(2018, 9, 3))
    lac = plan_start(
        actor=worker, case=case, kind="lac", started_on=D(2018, 9, 3), legal_status="C2"
    )
    plan_end(actor=worker, plan=lac, ended_on=D(2019, 4, 1))
    from casework.retention.tests.builders import close

    close(worker, case, D(2019, 4, 1))
    one_case = _record(child.pk)
    assert one_case.deciding is not None
    assert one_case.deciding.class_id == "looked-after"
    assert one_case.due_on == D(2085, 5, 4)

    sibling = person(worker, "Kit", born=D(2011, 8, 9))
    closed_case(worker, team_ai, sibling, D(2016, 1, 4), D(2017, 2, 6), plan="cp")
    closed_case(worker, team_ai, sibling, D(2019, 1, 7), D(2020, 2, 3), plan="lac")
    two_cases = _record(sibling.pk)
    assert [c.class_id for c in two_cases.cases] == ["child-protection", "looked-after"]
    assert two_cases.deciding is not None
    assert two_cases.deciding.class_id == "looked-after"
    assert two_cases.due_on == D(2086, 8, 9)
    assert two_cases.class_ids == ["child-protection", "looked-after"]


def test_x04_the_longest_period_across_cases_wins(worker: User, team_ai: Team) -> None:
    """X-04: a record is due only when every case's period has run: a looked-after child
    who died at 10 (15 years from death) with a later-closed child protection case is kept
    until 35 years after that closure."""
    child = person(worker, born=D(2010, 5, 4), died=D(2020, 6, 1))
    closed_case(worker, team_ai, child, D(2016, 1, 4), D(2017, 2, 6), plan="lac")
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 6, 1), plan="cp", code="RC2")
    record = _record(child.pk)
    assert [c.due_on for c in record.cases] == [D(2035, 6, 1), D(2055, 6, 1)]
    assert record.deciding is not None
    assert record.deciding.class_id == "child-protection"


def test_x04_adoption_counts_from_the_closure_as_adopted(worker: User, team_ai: Team) -> None:
    """X-04: an adoption record is kept 100 years from the order. Casework does not record
    the order's date; a case closed as adopted (RC1) closes on or after it, so the closure
    date stands in, and the review says so."""
    child = person(worker, born=D(2015, 5, 4))
    closed_case(worker, team_ai, child, D(2016, 1, 4), D(2018, 7, 2), plan="lac", code="RC1")
    record = _record(child.pk)
    assert record.deciding is not None
    assert (record.deciding.class_id, record.deciding.trigger) == ("adoption", "adoption_order")
    assert record.due_on == D(2118, 7, 2)
    assert record.deciding.note == ADOPTION_FROM_CLOSURE


def test_x04_child_in_need_without_a_date_of_birth_counts_from_closure(
    worker: User, team_ai: Team
) -> None:
    """X-04: the child in need class runs from the date of birth; when none is recorded the
    case's closure (always later) stands in, so the record is never due early."""
    dated = person(worker, born=D(2010, 5, 4))
    closed_case(worker, team_ai, dated, D(2019, 1, 7), D(2020, 2, 3))
    assert _record(dated.pk).due_on == D(2035, 5, 4)
    undated = person(worker, "Ash", born=None)
    closed_case(worker, team_ai, undated, D(2019, 1, 7), D(2020, 2, 3))
    record = _record(undated.pk)
    assert record.deciding is not None
    assert record.due_on == D(2045, 2, 3)
    assert record.deciding.note == NO_DATE_OF_BIRTH


def test_x04_adults_records_are_kept_8_years_after_care_ends(
    adults_worker: User, adults_team: Team
) -> None:
    """X-04: an adult's record is kept 8 years after care and support end (the case closes)."""
    adult = person(adults_worker, "Lee", born=D(1950, 3, 3))
    closed_case(adults_worker, adults_team, adult, D(2019, 1, 7), D(2021, 9, 30))
    record = _record(adult.pk)
    assert record.deciding is not None
    assert (record.deciding.class_id, record.deciding.service_area) == (
        "adult-social-care",
        "adults",
    )
    assert record.due_on == D(2029, 9, 30)


def test_x04_open_cases_are_never_due(worker: User, team_ai: Team) -> None:
    """X-04: while any of a person's cases is open their record has no retention date."""
    child = person(worker, born=D(1990, 5, 4))
    closed_case(worker, team_ai, child, D(2000, 1, 4), D(2001, 2, 6))
    open_case(worker, team_ai, child, D(2019, 1, 7))
    record = _record(child.pk)
    assert record.open_cases == 1
    assert record.due_on is None
    assert not record.is_due(D(2200, 1, 1))


def test_add_years_moves_29_february() -> None:
    assert add_years(D(2012, 2, 29), 75) == D(2087, 2, 28)
    assert add_years(D(2012, 2, 29), 4) == D(2016, 2, 29)


COUNCIL_PACK = """
pack: council-children
title: A council's own children's schedule
implements: Our records retention policy
service_area: children
governs: [closure]
extends: [000-closing-cases]
retention:
  - id: child-in-need
    label: Child in need record
    applies_when: "true"
    trigger: case_closed
    years: {years}
    basis: Our council's records retention schedule, section 4.
    requirement: X-04
"""


def test_x04_a_council_changes_the_schedule_with_its_own_pack(
    tmp_path: Path, worker: User, team_ai: Team, authority: Authority
) -> None:
    """X-04: the schedule is data: a council's own pack (in CASEWORK_PACK_DIRS), bound to
    its children's services, replaces a class's period."""
    (tmp_path / "council.yaml").write_text(COUNCIL_PACK.format(years=6), encoding="utf-8")
    child = person(worker, born=D(2010, 5, 4))
    closed_case(worker, team_ai, child, D(2019, 1, 7), D(2020, 2, 3))
    with override_settings(CASEWORK_PACK_DIRS=[str(tmp_path)]):
        pack_bind(
            actor=None,
            authority=authority,
            service_area="children",
            purpose="closure",
            pack_id="council-children",
        )
        record = _record(child.pk)
    assert record.deciding is not None
    assert record.deciding.basis == "Our council's records retention schedule, section 4."
    assert record.due_on == D(2026, 2, 3)


def test_x04_a_schedule_with_a_mistake_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    """X-04: a schedule is validated when it is loaded: an unknown trigger or a negative
    period is named, with the file and the place in it, and what is expected."""
    bad = COUNCIL_PACK.format(years=-1).replace("trigger: case_closed", "trigger: birthday")
    (tmp_path / "council.yaml").write_text(bad, encoding="utf-8")
    with override_settings(CASEWORK_PACK_DIRS=[str(tmp_path)]):
        with pytest.raises(PackError) as refused:
            load_pack("council-children")
    message = str(refused.value)
    assert "council.yaml: retention[0](child-in-need).trigger" in message
    assert "'birthday' is not a known retention trigger" in message
    assert "retention[0](child-in-need).years: -1 is too small (expected a number 0 or more)" in (
        message
    )
