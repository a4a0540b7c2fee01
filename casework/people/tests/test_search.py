"""Finding a person (J1, J5): names typed loosely, a date of birth in any common form, or an
identifier; only people the user may see, unless the front door checks for duplicates, and
then identity only."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from casework.accounts.models import User
from casework.cases.services import case_open
from casework.organisation.models import Team
from casework.people.matching import normalise, pair_key, sound_code, sound_keys
from casework.people.models import Person, PersonNameKey
from casework.people.selectors import SearchQuery, people_search
from casework.people.services import person_create, person_update


def test_sound_codes_agree_for_names_that_sound_alike() -> None:
    for a, b in (
        ("Smith", "Smyth"),
        ("Catherine", "Katherine"),
        ("Mohammed", "Muhammad"),
        ("O'Neil", "ONeill"),
        ("Zoë", "Zoe"),
        ("Philips", "Phillips"),
    ):
        assert sound_code(a) == sound_code(b), (a, b)
    assert sound_code("Smith") != sound_code("Jones")
    assert normalise("Anne-Marie  O'Brien") == "anne marie obrien"


@pytest.mark.parametrize(
    ("typed", "words", "born", "identifier"),
    [
        ("smyth 05/03/2015", ["smyth"], dt.date(2015, 3, 5), ""),
        ("2015-03-05", [], dt.date(2015, 3, 5), ""),
        ("5 March 2015", [], dt.date(2015, 3, 5), ""),
        ("943 476 5919", [], None, "9434765919"),
        ("p00000012", [], None, "P00000012"),
    ],
)
def test_what_was_typed_is_read_as_names_a_date_or_an_identifier(
    typed: str, words: list[str], born: dt.date | None, identifier: str
) -> None:
    query = SearchQuery.parse(typed)
    assert (query.words, query.born, query.identifier) == (words, born, identifier)


@pytest.fixture
def people(worker: User, team_ai: Team) -> dict[str, Person]:
    made = {
        "jayden": person_create(
            actor=worker,
            given_name="Jayden",
            family_name="Smith",
            date_of_birth=dt.date(2015, 3, 5),
            nhs_number="9434765919",
        ),
        "katie": person_create(
            actor=worker,
            given_name="Katherine",
            family_name="O'Neill",
            date_of_birth=dt.date(2012, 7, 1),
        ),
        "other": person_create(
            actor=worker, given_name="Jaden", family_name="Smith", date_of_birth=dt.date(1990, 1, 1)
        ),
    }
    for person in made.values():
        _with_a_case(person, worker, team_ai, source="6")
    return made


def _with_a_case(person: Person, worker: User, team: Team, *, source: str = "1A") -> Person:
    """`person`, now the subject of an open case in `team`."""
    case_open(
        actor=worker,
        subject=person,
        team=team,
        received_on=dt.date(2026, 1, 5),
        source=source,
        reason="Concern",
    )
    return person


def test_j5_tolerant_search_ranks_name_and_date_of_birth(
    people: dict[str, Person], worker: User
) -> None:
    """J5: "smyth" with the right date of birth puts that child first; a misspelt first
    name and surname still find her; an NHS number finds exactly one person."""
    found = people_search(worker, "jaiden smyth 05/03/2015")
    assert found[0].person == people["jayden"]
    assert found[0].why == "Name and date of birth match"
    assert people["other"] in [m.person for m in found[1:]]
    assert [m.person for m in people_search(worker, "catherine oneil")] == [people["katie"]]
    assert [m.person for m in people_search(worker, "943 476 5919")] == [people["jayden"]]
    assert [m.person for m in people_search(worker, "1 July 2012")] == [people["katie"]]
    assert people_search(worker, "   ") == []


def test_x02_search_respects_need_to_know_unless_the_front_door_checks_for_duplicates(
    people: dict[str, Person], outsider: User, worker: User
) -> None:
    """X-02: someone with no need to know finds nobody; a duplicate check finds the person
    but marks them as not known to the user, so only identity is shown."""
    assert people_search(outsider, "Jayden Smith") == []
    wide = people_search(outsider, "Jayden Smith 2015-03-05", everyone=True)
    assert wide[0].person == people["jayden"]
    assert wide[0].known_to_me is False
    assert people_search(worker, "Jayden Smith")[0].known_to_me is True


def test_a_renamed_person_is_found_by_the_new_name(
    people: dict[str, Person], worker: User, make_staff: Callable[..., User]
) -> None:
    person_update(actor=worker, person=people["katie"], family_name="Wozniak", reason="Married")
    assert [m.person for m in people_search(worker, "katherine wozniak")] == [people["katie"]]
    assert people_search(worker, "katherine oneill 2012-07-01")[0].person == people["katie"]


def test_each_pair_of_a_persons_name_codes_is_a_search_key_kept_in_step_with_the_name(
    people: dict[str, Person], worker: User
) -> None:
    """A first and a family name together are one stored key (one index range at council
    scale), whichever order they are typed in; a rename drops the old pairs."""
    smith, jayden = sound_code("Smith"), sound_code("Jayden")
    assert pair_key(smith, jayden) == pair_key(jayden, smith)
    assert sound_keys("Jayden", "Smith") == {smith, jayden, pair_key(smith, jayden)}
    assert len(sound_keys("Amelia", "Rose", "Stone")) == 3 + 3  # three codes, three pairs

    def stored(person: Person) -> set[str]:
        return set(PersonNameKey.objects.filter(person=person).values_list("key", flat=True))

    jayden_smith = people["jayden"]
    assert stored(jayden_smith) == sound_keys("Jayden", "Smith")
    person_update(actor=worker, person=jayden_smith, family_name="Wozniak", reason="Adopted")
    assert stored(jayden_smith) == sound_keys("Jayden", "Wozniak")
    assert people_search(worker, "Wozniak Jayden")[0].person == jayden_smith


def test_the_migration_adds_the_pairs_for_people_recorded_before_it(
    people: dict[str, Person],
) -> None:
    """Councils upgrading have people whose keys hold single codes only: the migration
    writes each person's pairs, once, and never pairs a pair."""
    from django.db import connection

    migration = importlib.import_module("casework.people.migrations.0005_person_name_pair_keys")
    PersonNameKey.objects.filter(key__contains="+").delete()
    # What the migration uses of its schema editor (SQLite's cannot open inside a test's
    # transaction): the connection, and running a statement on it.
    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        migration.add_pair_keys(None, editor)
        migration.add_pair_keys(None, editor)  # run again: nothing more
    for person in people.values():
        stored = PersonNameKey.objects.filter(person=person).values_list("key", flat=True)
        assert sorted(stored) == sorted(
            sound_keys(person.given_name, person.family_name, person.other_names)
        ), person


def test_names_that_only_share_a_sound_code_are_not_matches(
    people: dict[str, Person], worker: User
) -> None:
    """ "Smyth" and "Kenneth" share a coarse sound code; spelling keeps Kenneth out."""
    kenneth = person_create(
        actor=worker, given_name="Kenneth", family_name="Davis", date_of_birth=dt.date(1984, 1, 1)
    )
    case_open(
        actor=worker,
        subject=kenneth,
        team=Team.objects.get(code="ai"),
        received_on=dt.date(2026, 1, 5),
        source="6",
        reason="Concern",
    )
    found = [m.person for m in people_search(worker, "smyth")]
    assert kenneth not in found
    assert people["jayden"] in found


def test_x02_the_candidates_need_to_know_agrees_with_people_visible_to(
    worker: User, outsider: User, manager: User, team_ai: Team
) -> None:
    """Search decides which candidates a user may see with `people_known_among` (a few
    indexed queries from the people outwards); it must give exactly what
    `people_visible_to` gives: case subjects, their relatives either way round, their carers
    and the people they care for, never a restricted person the user is not named on."""
    from casework.access.services import restriction_place
    from casework.people.selectors import people_known_among, people_visible_to
    from casework.people.services import carer_link_add, relationship_add

    def person(name: str) -> Person:
        return person_create(actor=worker, given_name=name, family_name="Known")

    def subject_of_a_case(name: str) -> Person:
        return _with_a_case(person(name), worker, team_ai)

    child, restricted = subject_of_a_case("Child"), subject_of_a_case("Restricted")
    mother, sibling, carer, cared_for, stranger = (
        person(n) for n in ("Mother", "Sibling", "Carer", "Cared", "Stranger")
    )
    relationship_add(actor=worker, person=mother, relative=child, kind="parent")
    relationship_add(actor=worker, person=child, relative=sibling, kind="sibling")
    carer_link_add(actor=worker, carer=carer, cared_for=child, started_on=dt.date(2025, 1, 1))
    carer_link_add(actor=worker, carer=child, cared_for=cared_for, started_on=dt.date(2025, 1, 1))
    case = restricted.cases.get()
    restriction_place(actor=manager, case=case, reason="The subject is a member of staff.")

    everyone = [child, restricted, mother, sibling, carer, cared_for, stranger]
    ids = [p.pk for p in everyone]
    for user in (worker, outsider, manager):
        expected = set(people_visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
        assert people_known_among(user, ids) == expected, user.username
    assert people_known_among(outsider, ids) == set()
    # The worker is not named on the restriction (the case has no allocated worker).
    assert people_known_among(worker, ids) == {p.pk for p in everyone} - {
        stranger.pk,
        restricted.pk,
    }
    assert restricted.pk in people_known_among(manager, ids)  # the manager placed it


def test_j5_everyone_with_all_the_names_typed_comes_before_people_sharing_one(
    worker: User, outsider: User, team_ai: Team, team_sgcp: Team
) -> None:
    """Candidates are the people whose name has every typed name's sound code first, then
    people sharing one, the last name typed (usually the family name) first, newest records
    first: with more people called Molly than can be scored, Molly Collins is found, and a
    Collins with another first name comes before the other Mollys. A worker's own people
    with every name come before everyone else's."""
    from casework.people import selectors

    def child(given: str, family: str, team: Team = team_ai, actor: User = worker) -> Person:
        return _with_a_case(
            person_create(actor=actor, given_name=given, family_name=family), actor, team
        )

    crowd = [child("Molly", f"Other{n}") for n in range(6)]
    wanted = child("Molly", "Collins")
    family = child("Ann", "Collins")
    elsewhere = child("Molly", "Collins", team_sgcp, outsider)  # newer, in another team
    codes = [sound_code("molly"), sound_code("collins")]

    def candidates(limit: int, user: User | None = None) -> list[int]:
        original = selectors.NAME_CANDIDATES
        selectors.NAME_CANDIDATES = limit  # fewer than the Mollys
        try:
            return selectors._name_candidates(codes, user)
        finally:
            selectors.NAME_CANDIDATES = original

    assert candidates(3) == [elsewhere.pk, wanted.pk, family.pk]
    assert candidates(5) == [elsewhere.pk, wanted.pk, family.pk, crowd[5].pk, crowd[4].pk]
    # Searching their own people, the worker's Molly Collins comes first: when everyone
    # with both names is in hand (asked of their cases), and when there are more of them
    # than can be scored (asked of the database, so the worker's own is never cut off).
    assert candidates(3, worker) == [wanted.pk, elsewhere.pk, family.pk]
    assert candidates(1, worker) == [wanted.pk]
    assert people_search(worker, "Molly Collins")[0].person == wanted
