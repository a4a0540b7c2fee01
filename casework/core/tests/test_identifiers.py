from __future__ import annotations

from casework.core.identifiers import make_upn, nhs_number_problem, upn_problem


def test_valid_nhs_number_passes_and_wrong_check_digit_fails() -> None:
    assert nhs_number_problem("943 476 5919") is None
    assert "check digit" in (nhs_number_problem("9434765918") or "")
    assert "10 digits" in (nhs_number_problem("12345") or "")


def test_made_upns_are_well_formed_and_a_typo_is_caught() -> None:
    upn = make_upn("931", "2001", 2019, 42)
    assert upn_problem(upn) is None
    assert upn[1:4] == "931"
    typo = upn[:5] + ("1" if upn[5] != "1" else "2") + upn[6:]
    assert "check letter" in (upn_problem(typo) or "")
    assert "letter followed by 12" in (upn_problem("12345") or "")
