"""Reads of people, scoped by access: a person is visible when they are the subject of a case
the user can see, or connected (relationship or carer link) to such a subject."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from casework.access.policy import cases_visible_to, may_check_for_duplicates, restricted_from
from casework.accounts.models import User
from casework.core.errors import NotFound
from casework.people.matching import name_score, name_words, parse_date, sound_code
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


def people_search(user: User, text: str, *, everyone: bool = False) -> list[Match]:
    """People matching `text` (names typed loosely, a date of birth, or an identifier), best
    first. `everyone` widens the search beyond the user's need to know (the front door
    checks for an existing record before adding one); the caller shows such matches only
    as identity, never their case details. A few queries, whatever the number of people."""
    query = SearchQuery.parse(text)
    if query.empty:
        return []
    pool = Person.objects.all() if everyone else people_visible_to(user)
    if query.identifier:
        found = pool.filter(
            Q(nhs_number=query.identifier) | Q(upn=query.identifier) | Q(local_id=query.identifier)
        )
        candidates = list(found[:SEARCH_LIMIT])
    else:
        condition = Q()
        if query.words:
            # The people sharing most of the typed names' sound codes, best first. Among two
            # million people a common name's code is shared by thousands: cutting the
            # candidates alphabetically would drop the person being looked for.
            keys = {sound_code(w) for w in query.words}
            by_name = list(
                PersonNameKey.objects.filter(key__in=keys)
                .values("person_id")
                .annotate(hits=Count("*"))  # from the index alone
                .order_by("-hits", "person_id")
                .values_list("person_id", flat=True)[:NAME_CANDIDATES]
            )
            condition |= Q(pk__in=by_name)
        if query.born:
            condition |= Q(date_of_birth=query.born) | Q(expected_date_of_birth=query.born)
        # Plain values ORed: the database answers from its indexes, then checks need to
        # know for these people only.
        candidates = list(pool.filter(condition)[: NAME_CANDIDATES * 2])
    if everyone:
        visible = set(
            people_visible_to(user)
            .filter(pk__in=[p.pk for p in candidates])
            .values_list("pk", flat=True)
        )
    else:
        visible = {p.pk for p in candidates}  # the pool was already the user's own
    matches = []
    for person in candidates:
        score, why = _score(query, person)
        if score >= MATCH_THRESHOLD:
            matches.append(Match(person, score, why, person.pk in visible))
    matches.sort(key=lambda m: (-m.score, m.person.family_name, m.person.given_name, m.person.pk))
    return matches[:SEARCH_LIMIT]


def _score(query: SearchQuery, person: Person) -> tuple[float, str]:
    if query.identifier:
        return 1.0, "Identifier matches"
    born = person.date_of_birth or person.expected_date_of_birth
    date_matches = query.born is not None and born == query.born
    if not query.words:
        return (1.0, "Date of birth matches") if date_matches else (0.0, "")
    name = name_score(
        query.words, name_words(person.given_name, person.family_name, person.other_names)
    )
    if query.born is None:
        return name, "Name matches" if name >= 0.99 else "Name sounds alike"
    if date_matches:
        return min(1.0, name * 0.6 + 0.4 + 0.01), "Name and date of birth match"
    # A different date of birth makes the same name less likely the same person.
    return name * 0.75, "Name matches; date of birth differs"
