"""Reads of people, scoped by access: a person is visible when they are the subject of a case
the user can see, or connected (relationship or carer link) to such a subject."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from casework.access.policy import (
    cases_visible_to,
    may_check_for_duplicates,
    need_to_know,
    restricted_from,
)
from casework.accounts.models import User
from casework.core.errors import NotFound
from casework.core.lookups import Ids
from casework.core.planning import planned_for_each_run
from casework.people.matching import (
    name_score,
    name_words,
    pair_key,
    parse_date,
    sound_code,
)
from casework.people.models import CarerLink, Person, PersonNameKey, Relationship


def people_visible_to(user: User) -> QuerySet[Person]:
    """People `user` may see: the subject of a case they can see, or someone related to
    such a subject (a relationship or a carer link, either way round).

    Each branch is a correlated EXISTS, so a question about a few people (a search's
    candidates, one person's page) costs a few index lookups per person, never the whole
    set of visible cases: at council scale a team sees tens of thousands of them."""
    visible_cases = cases_visible_to(user)

    def subject_seen(field: str) -> Exists:
        return Exists(visible_cases.filter(subject_id=OuterRef(field)))

    def linked(model: type[Relationship] | type[CarerLink], me: str, other: str) -> Exists:
        return Exists(model.objects.filter(**{me: OuterRef("pk")}).filter(subject_seen(other)))

    return Person.objects.filter(
        subject_seen("pk")
        | linked(Relationship, "person", "relative_id")
        | linked(Relationship, "relative", "person_id")
        | linked(CarerLink, "carer", "cared_for_id")
        | linked(CarerLink, "cared_for", "carer_id")
    ).exclude(restricted_from(user))


def people_known_among(user: User, person_ids: Collection[int]) -> set[int]:
    """Which of these people `user` may see, by the rule of `people_visible_to`, asked from
    the people outwards: their relationships and carer links, then which of them (or the
    people linked to them) are subjects of cases the user can see. Three small indexed
    queries for a search's candidates, where the same question as one query had PostgreSQL
    hash every case the user can see (tens of thousands) for each search."""
    wanted = set(person_ids)
    if not wanted or not user.is_active:
        return set()
    # Each person, and the people through whom they may be known: related or cared for.
    through: dict[int, set[int]] = {pk: {pk} for pk in wanted}
    asked = Ids(wanted)
    for model, one, other in (
        (Relationship, "person_id", "relative_id"),
        (CarerLink, "carer_id", "cared_for_id"),
    ):
        either = Q(**{f"{one}__in_list": asked}) | Q(**{f"{other}__in_list": asked})
        for a, b in model.objects.filter(either).values_list(one, other):
            if a in wanted:
                through[a].add(b)
            if b in wanted:
                through[b].add(a)
    everyone_through = set().union(*through.values())
    seen = set(
        cases_visible_to(user)
        .filter(subject_id__in_list=Ids(everyone_through))
        .values_list("subject_id", flat=True)
    )
    hidden = need_to_know(user).hidden_people
    return {pk for pk, via in through.items() if pk not in hidden and via & seen}


def person_for(user: User, person_id: int) -> Person:
    person = people_visible_to(user).filter(pk=person_id).first()
    if person is None:
        raise NotFound("There is no person with that ID that you can see.")
    return person


def person_for_intake(user: User, person_id: int) -> Person:
    """The person a referral is for. Intake staff, who must find a family the council knew
    before, may open a case for anyone; others only for the people they can already see."""
    pool = Person.objects.all() if may_check_for_duplicates(user) else people_visible_to(user)
    person = pool.filter(pk=person_id).first()
    if person is None:
        raise NotFound("There is no person with that ID that you can see. Search again.")
    return person


# --- Search ---------------------------------------------------------------------------------

SEARCH_LIMIT = 20
NAME_CANDIDATES = 1000  # scored in Python; the 20 best are shown
MATCH_THRESHOLD = 0.6
_NHS = re.compile(r"^\d{10}$")
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


@dataclass(frozen=True)
class Match:
    person: Person
    score: float
    why: str
    known_to_me: bool  # the user may open this person's cases


@dataclass(frozen=True)
class SearchQuery:
    words: list[str]
    born: dt.date | None
    identifier: str

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        """Name words, a date of birth in any common form, or an identifier (NHS number,
        UPN, local ID) from what was typed."""
        compact = re.sub(r"[\s-]", "", text).upper()
        if _NHS.match(compact) or _UPN.match(compact) or re.match(r"^P\d{8}$", compact):
            return cls([], None, compact)
        born = parse_date(text)
        remaining = text
        if born is None:
            for candidate in re.findall(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}", text):
                born = parse_date(candidate)
                if born:
                    remaining = remaining.replace(candidate, " ")
                    break
        else:
            remaining = ""
        return cls(name_words(remaining), born, "")

    @property
    def empty(self) -> bool:
        return not (self.words or self.born or self.identifier)


@planned_for_each_run()  # a rare name's codes and a common one's need different plans
def people_search(user: User, text: str, *, everyone: bool = False) -> list[Match]:
    """People matching `text` (names typed loosely, a date of birth, or an identifier), best
    first. `everyone` widens the search beyond the user's need to know (the front door
    checks for an existing record before adding one); the caller shows such matches only
    as identity, never their case details. A few queries, whatever the number of people."""
    query = SearchQuery.parse(text)
    if query.empty:
        return []
    if query.identifier:
        ids = list(
            Person.objects.filter(
                Q(nhs_number=query.identifier)
                | Q(upn=query.identifier)
                | Q(local_id=query.identifier)
            ).values_list("pk", flat=True)[:SEARCH_LIMIT]
        )
    else:
        ids = []
        if query.words:
            ids += _name_candidates(
                [sound_code(w) for w in query.words], None if everyone else user
            )
        if query.born:
            ids += Person.objects.filter(
                Q(date_of_birth=query.born) | Q(expected_date_of_birth=query.born)
            ).values_list("pk", flat=True)[:NAME_CANDIDATES]
        ids = list(dict.fromkeys(ids))
    # Need to know for the candidates only; then only the people to be scored are read.
    visible = people_known_among(user, ids)
    wanted = ids if everyone else [pk for pk in ids if pk in visible]
    # Scored from plain values; only the people shown are read as records.
    scored: list[tuple[float, str, str, int, str]] = []
    rows = Person.objects.filter(pk__in_list=Ids(wanted)).values_list(
        "pk", "given_name", "family_name", "other_names", "date_of_birth", "expected_date_of_birth"
    )
    for pk, given, family, other, born, expected in rows:
        score, why = _score(query, name_words(given, family, other), born or expected)
        if score >= MATCH_THRESHOLD:
            scored.append((-score, family, given, pk, why))
    best = sorted(scored)[:SEARCH_LIMIT]
    people = Person.objects.in_bulk([pk for _, _, _, pk, _ in best])
    return [Match(people[pk], -minus, why, pk in visible) for minus, _, _, pk, why in best]


def _name_candidates(codes: list[str], user: User | None = None) -> list[int]:
    """Up to NAME_CANDIDATES people to score for the typed names' sound codes, newest record
    first (the likeliest duplicate at the front door): for a `user` searching their own
    people, first the subjects of cases they can see whose name has every code; then anyone
    whose name has every code; then people sharing any one code, the last name typed first
    (usually the family name, the rarer one), so a misspelt or changed name still finds the
    family. Among two million people a given name's code can be shared by fifty thousand:
    candidates are never cut alphabetically, and counting each person's shared codes (which
    reads every row of every code) is avoided; the first two codes are read as their pair
    key."""
    first, *others = dict.fromkeys(codes)
    # Two codes are one stored key (a first name and a family name, the usual search):
    # intersecting two common codes' ranges read tens of thousands of index entries.
    every_code = PersonNameKey.objects.filter(key=pair_key(first, others[0]) if others else first)
    for code in others[1:]:
        every_code = every_code.filter(
            Exists(PersonNameKey.objects.filter(person_id=OuterRef("person_id"), key=code))
        )
    newest_first = every_code.order_by("-person_id").values_list("person_id", flat=True)
    with_every_code = list(newest_first[: NAME_CANDIDATES + 1])
    found: dict[int, None] = {}
    if user is not None:
        if len(with_every_code) <= NAME_CANDIDATES:
            # All of them are in hand: which are the user's own is one indexed question,
            # rather than joining the names' codes again (4 ms of the database's time).
            seen = set(
                cases_visible_to(user)
                .filter(subject_id__in_list=Ids(with_every_code))
                .values_list("subject_id", flat=True)
            )
            found.update(dict.fromkeys(pk for pk in with_every_code if pk in seen))
        else:
            # A common name: the user's own people may be beyond the newest thousand.
            mine = cases_visible_to(user).filter(subject_id=OuterRef("person_id"))
            found.update(dict.fromkeys(newest_first.filter(Exists(mine))[:NAME_CANDIDATES]))
    found.update(dict.fromkeys(with_every_code[:NAME_CANDIDATES]))
    if others:
        for code in reversed(codes):
            if len(found) >= NAME_CANDIDATES:
                break
            ids = (
                PersonNameKey.objects.filter(key=code)
                .order_by("-person_id")
                .values_list("person_id", flat=True)
            )
            found.update(dict.fromkeys(ids[:NAME_CANDIDATES]))
    return list(found)[:NAME_CANDIDATES]


def _score(query: SearchQuery, words: list[str], born: dt.date | None) -> tuple[float, str]:
    if query.identifier:
        return 1.0, "Identifier matches"
    date_matches = query.born is not None and born == query.born
    if not query.words:
        return (1.0, "Date of birth matches") if date_matches else (0.0, "")
    name = name_score(query.words, words)
    if query.born is None:
        return name, "Name matches" if name >= 0.99 else "Name sounds alike"
    if date_matches:
        return min(1.0, name * 0.6 + 0.4 + 0.01), "Name and date of birth match"
    # A different date of birth makes the same name less likely the same person.
    return name * 0.75, "Name matches; date of birth differs"
