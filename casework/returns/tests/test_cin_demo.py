"""The demo authority's CIN census passes the DfE schema and the sector's validator,
`csc-validator-be-cin`, with zero errors (issue 8, item 4).

The census year is the latest one finished by today: the demo's dates are relative to today
and reach back about 21 months, so that year is always full of referrals, assessments,
S47s, plans and closures. The validator runs in its own environment (`make cin-validator`
builds it; `make test` builds it before pytest). Without it this test fails: it never skips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from lxml import etree
from pytest_django import DjangoDbBlocker

from casework.organisation.models import Authority
from casework.returns.cin import census_year_end_before, cin_census_problems
from casework.returns.cin_validation import (
    MAKE_TARGET,
    ValidatorMissing,
    schema_errors,
    sector_validator_report,
)


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Load the demo once for the module; roll it all back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", password="cin-census-tests-only", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def year_end(demo_loaded: None, db: None) -> dt.date:
    return census_year_end_before(timezone.localdate())


@pytest.fixture
def exported(year_end: dt.date, tmp_path: Path) -> tuple[Path, str, str]:
    output = tmp_path / "cin.xml"
    stdout, stderr = StringIO(), StringIO()
    call_command("cin_census", year_end=year_end, output=output, stdout=stdout, stderr=stderr)
    return output, stdout.getvalue(), stderr.getvalue()


def test_demo_census_has_no_problems_and_passes_the_dfe_schema(
    year_end: dt.date, exported: tuple[Path, str, str]
) -> None:
    output, stdout, stderr = exported
    assert cin_census_problems(Authority.objects.get(), year_end) == []
    assert schema_errors(output) == []
    assert "Wrote the CIN census" in stdout
    assert "Checking and writing [" in stderr  # one pass, with a progress bar
    assert "children" in stderr
    root = etree.parse(str(output)).getroot()
    children = root.findall("Children/Child")
    assert len(children) >= 50
    # The demo exercises what the census reports, not only referrals.
    for path in (
        "CINdetails/Assessments",
        "CINdetails/CINPlanDates",
        "CINdetails/Section47",
        "CINdetails/ChildProtectionPlans/Reviews",
        "CINdetails/CINclosureDate",
    ):
        assert any(child.find(path) is not None for child in children), path
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == year_end.isoformat()


def test_demo_census_passes_the_sector_validator_with_zero_errors(
    exported: tuple[Path, str, str],
) -> None:
    """Every rule of the cin2025_26 ruleset, child-level and return-level: no error, no
    query, and no rule that crashed on our data."""
    output, _, _ = exported
    try:
        report = sector_validator_report(output)
    except ValidatorMissing as missing:
        pytest.fail(f"{missing} (`{MAKE_TARGET}` builds it; `make test` does so first).")
    assert report.crashed_rules == []
    assert [str(i) for i in report.errors] == []
    assert [str(i) for i in report.queries] == []
