"""Checks for the national identifiers a person record carries."""

from __future__ import annotations

import re

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_PATTERN = re.compile(r"^[A-Z]\d{12}$|^[A-Z]\d{11}[A-Z]$")


def nhs_number_problem(value: str) -> str | None:
    """Why `value` is not a valid NHS number, or None. Ten digits; the tenth is a mod-11 check."""
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{10}", digits):
        return "Enter an NHS number as 10 digits, like 485 777 3456."
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return "That NHS number's check digit is wrong: check each digit against the source."
    return None


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters after it (DfE UPN specification)."""
    total = 0
    for weight, char in enumerate(body, start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += value * weight
    return _UPN_LETTERS[total % 23]


def upn_problem(value: str) -> str | None:
    """Why `value` is not a well-formed Unique Pupil Number, or None."""
    upn = value.strip().upper()
    if not _UPN_PATTERN.match(upn):
        return "Enter a UPN as a letter followed by 12 characters, like A123456789012."
    if upn[12].isalpha() and upn[12] not in _UPN_LETTERS:
        return "The last character of a temporary UPN must be a letter other than I, O or S."
    if upn_check_letter(upn[1:]) != upn[0]:
        return "That UPN's check letter does not match: check it against the school's record."
    return None


def make_upn(la_code: str, establishment: str, year: int, serial: int) -> str:
    """A well-formed permanent UPN: LA code, establishment, year of allocation, serial."""
    body = f"{la_code:0>3}{establishment:0>4}{year % 100:02d}{serial:03d}"
    return upn_check_letter(body) + body
