"""Tolerant matching of people's names, as a front door needs it: "Smyth" finds Smith,
"Katherine" finds Catherine, "Mohammed" finds Muhammad, "O'Neil" finds "ONeill", and accents
and hyphens do not matter.

Each name word gets a sound code, a Soundex variant in which the first letter is coded like
the rest (so C and K, or S and Z, at the start of a name agree). Codes are stored per person
(`PersonNameKey`) so a search is an indexed lookup, then candidates are ranked in Python by
how closely the spelling and the date of birth agree. Each pair of a person's codes is stored
too (`pair_key`), because the usual search is a first name and a family name that are both
common: the people with both are one index range, where intersecting the two codes' ranges
read tens of thousands of entries per search.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

_CODES = {
    **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"),
    **dict.fromkeys("dt", "3"),
    "l": "4",
    **dict.fromkeys("mn", "5"),
    "r": "6",
}
_WORD = re.compile(r"[a-z]+")
KEY_LENGTH = 6


@lru_cache(maxsize=100_000)  # names repeat across a search's candidates
def normalise(text: str) -> str:
    """Lower case, accents removed, apostrophes dropped, other punctuation a space."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(_WORD.findall(plain.replace("'", "").replace("\u2019", "")))


def sound_code(word: str) -> str:
    """The word's sound code: consonant groups as digits, repeats (even across h and w)
    collapsed, vowels separating repeats; at most KEY_LENGTH digits."""
    code: list[str] = []
    previous = ""
    for letter in normalise(word).replace(" ", ""):
        digit = _CODES.get(letter, "")
        if digit and digit != previous:
            code.append(digit)
        if letter not in "hw":
            previous = digit
    return "".join(code)[:KEY_LENGTH] or normalise(word)[:1]


def name_words(*names: str) -> list[str]:
    return [w for name in names for w in normalise(name).split() if w]


PAIR_SEPARATOR = "+"  # never in a sound code, so a pair key cannot be taken for one
KEY_MAX_LENGTH = 2 * KEY_LENGTH + len(PAIR_SEPARATOR)


def pair_key(one: str, other: str) -> str:
    """The key of two different sound codes, the same whichever order they come in."""
    return PAIR_SEPARATOR.join(sorted((one, other)))


def sound_keys(*names: str) -> set[str]:
    """What a person's names are found by: each word's sound code, and each pair of codes."""
    codes = sorted({sound_code(w) for w in name_words(*names)})
    pairs = {pair_key(a, b) for n, a in enumerate(codes) for b in codes[n + 1 :]}
    return set(codes) | pairs


def name_score(query_words: list[str], person_words: list[str]) -> float:
    """How well the typed words match the person's name words, 0 to 1: each typed word
    against its best match (spelling similarity, or a sound match, or a prefix typed)."""
    if not query_words or not person_words:
        return 0.0
    return sum(
        max(word_score(typed, word) for word in person_words) for typed in query_words
    ) / len(query_words)


# A search scores a thousand candidates, whose names repeat (thousands of Mollys): each pair
# of words is worked out once. Pure, so the cache is shared by every search in the process.
@lru_cache(maxsize=100_000)
def word_score(typed: str, word: str) -> float:
    if word == typed:
        return 1.0
    if word.startswith(typed) and len(typed) >= 2:
        return 0.9
    score = SequenceMatcher(None, typed, word).ratio()
    # Sounding alike counts only where the spelling is already close: codes are coarse
    # ("Smith" and "Kenneth" share one), spelling keeps them apart.
    if score >= 0.5 and sound_code(typed) == sound_code(word):
        score = max(score, 0.8)
    return score


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y")


def parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None
