"""X-06: an authority's procedure is configuration (a policy pack), validated on load with clear
errors, and the five procedure documents ship as packs.

The mutation tests copy a built-in pack into a temporary folder, break one thing, and load
it over the built-in one (same pack id, so the copy wins). Each asserts on the text a
council's systems team reads: the file, the path inside it, what is wrong and what is
expected instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.core.codes import CLD_EVENT_OUTCOMES, CinClosureReason
from casework.organisation.models import Role
from casework.policy.loader import (
    BUILT_IN_PACKS,
    PackError,
    PackProblem,
    PackRegistry,
    load_pack,
    read_pack_file,
)
from casework.policy.vocabulary import EVENTS

PROCEDURE_PACKS = {
    "000-closing-cases": "000",
    "001-closure-record": "001",
    "002-adults-closure": "002",
    "003-ending-interventions": "003",
    "004-transfer-and-closure": "004",
}
SHARED_PACKS = {"children-common", "adults-common"}

Raw = dict[str, Any]


def _built_in_ids() -> list[str]:
    return sorted(PackRegistry.from_directories([BUILT_IN_PACKS]).raw)


def _raw(pack_id: str) -> Raw:
    loaded = yaml.safe_load((BUILT_IN_PACKS / f"{pack_id}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _write(folder: Path, raw: Raw, name: str | None = None) -> Path:
    path = folder / f"{name or raw['pack']}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _registry_with(folder: Path) -> PackRegistry:
    """The built-in packs plus every file in `folder`; a file with a built-in id wins."""
    return PackRegistry.from_directories([BUILT_IN_PACKS, folder])


def _problems(
    folder: Path, pack_id: str, mutate: Callable[[Raw], None]
) -> tuple[str, list[PackProblem]]:
    """Copy a built-in pack into `folder`, mutate it, load it over the built-in one, and return
    the copy's path and the problems loading it reported."""
    raw = _raw(pack_id)
    mutate(raw)
    path = _write(folder, raw)
    registry = _registry_with(folder)
    assert registry.files[pack_id] == str(path)
    with pytest.raises(PackError) as caught:
        registry.load(pack_id)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return str(path), caught.value.problems


def _at(problems: list[PackProblem], path: str) -> PackProblem:
    """The one problem reported at `path`; fails listing every problem if there is not one."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, "\n".join(str(p) for p in problems)
    return found[0]


def _step(raw: Raw, step_id: str) -> Raw:
    step: Raw = next(s for s in raw["closure"]["steps"] if s["id"] == step_id)
    return step


def _step_index(raw: Raw, step_id: str) -> int:
    return [s["id"] for s in raw["closure"]["steps"]].index(step_id)


# --- the built-in packs ---------------------------------------------------------------------


def test_x06_built_in_folder_has_the_five_procedures_and_the_shared_packs() -> None:
    """X-06: the built-in folder holds exactly the five procedure packs and the two shared
    packs they extend, and reading them reports no problem in any file."""
    registry = PackRegistry.from_directories([BUILT_IN_PACKS])
    assert registry.problems == []
    assert set(registry.raw) == set(PROCEDURE_PACKS) | SHARED_PACKS


@pytest.mark.parametrize("pack_id", _built_in_ids())
def test_x06_every_built_in_pack_loads(pack_id: str) -> None:
    """X-06: every built-in pack merges, validates and compiles without a problem, with its
    own file recorded and every condition it holds compiled."""
    registry = PackRegistry.from_directories([BUILT_IN_PACKS])
    pack = registry.load(pack_id)
    assert pack.id == pack_id
    assert pack.files == [str(BUILT_IN_PACKS / f"{pack_id}.yaml")]
    assert pack.conditions
    assert [p for p in registry.problems if p.file == registry.files[pack_id]] == []


@pytest.mark.parametrize(("pack_id", "number"), sorted(PROCEDURE_PACKS.items()))
def test_x06_procedure_pack_names_its_document_and_its_choices(pack_id: str, number: str) -> None:
    """X-06: each procedure pack says which document it implements (its procedure file,
    e.g. 000_<hash>.txt), governs closure or transfer, and records at least one choice it made
    where the document is silent or vague."""
    spec = load_pack(pack_id).spec
    assert re.search(rf"(^|/){number}_[0-9a-f]{{16}}\.txt\b", spec.implements), spec.implements
    assert spec.governs
    assert len(spec.choices) >= 1
    assert all(choice.text.strip() for choice in spec.choices)


def test_x06_shared_packs_govern_nothing_and_procedures_extend_them() -> None:
    """X-06: the shared packs govern nothing themselves; every procedure pack extends the
    shared pack of its own service area."""
    for pack_id in SHARED_PACKS:
        assert load_pack(pack_id).spec.governs == []
    for pack_id in PROCEDURE_PACKS:
        raw = _raw(pack_id)
        assert raw["extends"] == [f"{raw['service_area']}-common"]


def test_x06_unchanged_copy_loads_over_the_built_in(tmp_path: Path) -> None:
    """X-06: a faithful copy of a built-in pack in another folder loads in its place, so the
    mutation tests below fail only because of what they break."""
    for pack_id in PROCEDURE_PACKS:
        _write(tmp_path, _raw(pack_id))
    registry = _registry_with(tmp_path)
    assert registry.problems == []
    for pack_id in PROCEDURE_PACKS:
        assert registry.load(pack_id).files == [str(tmp_path / f"{pack_id}.yaml")]


def test_x06_unknown_pack_id_is_refused_listing_the_packs() -> None:
    """X-06: asking for a pack that does not exist names it and lists the packs there are."""
    registry = PackRegistry.from_directories([BUILT_IN_PACKS])
    with pytest.raises(PackError) as caught:
        registry.load("000-closing-case")
    [problem] = caught.value.problems
    assert problem.message == "there is no pack '000-closing-case'"
    assert "000-closing-cases" in problem.expected


# --- one mistake at a time ------------------------------------------------------------------


def test_x06_missing_required_field_is_reported_at_its_path(tmp_path: Path) -> None:
    """X-06: a gate without its `blocked_reason` is reported at gates.<id>.blocked_reason as
    missing, in the copy's file."""

    def mutate(raw: Raw) -> None:
        del raw["gates"]["cp-seen-alone-home-visited"]["blocked_reason"]

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "gates.cp-seen-alone-home-visited.blocked_reason")
    assert problem.file == file
    assert problem.message == "is missing"
    assert problem.expected == "a value here"
    assert len(problems) == 1


def test_x06_unknown_role_names_the_role_and_lists_the_real_ones(tmp_path: Path) -> None:
    """X-06: a misspelt role in a closure step is reported at closure.steps[i](<step id>).role,
    naming the bad role and listing every real role as what is expected."""

    def mutate(raw: Raw) -> None:
        _step(raw, "discuss-and-agree")["role"] = "team_manger"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "closure.steps[1](discuss-and-agree).role")
    assert problem.file == file
    assert "'team_manger' is not a known role" in problem.message
    text = str(problem)
    assert "expected one of" in text
    for role in Role.values:
        assert role in text
    assert len(problems) == 1


def test_x06_unknown_form_field_in_a_condition_lists_the_forms_fields(tmp_path: Path) -> None:
    """X-06: a form field's `shown_when` that reads a field the form does not have names the
    bad field and lists the form's real fields."""

    def mutate(raw: Raw) -> None:
        fields = raw["forms"]["closing-summary"]["fields"]
        why = next(f for f in fields if f["id"] == "why_not_achieved")
        why["shown_when"] = "form.no_such_field == true"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    index = [
        f["id"] for f in _raw("000-closing-cases")["forms"]["closing-summary"]["fields"]
    ].index("why_not_achieved")
    problem = _at(problems, f"forms.closing-summary.fields[{index}](why_not_achieved).shown_when")
    assert problem.file == file
    assert "'form.no_such_field'" in problem.message
    for real in ("outcome_achieved", "agreed_outcome", "why_not_achieved"):
        assert real in problem.message
    assert "CEL" in problem.expected
    assert len(problems) == 1


def test_x06_unknown_case_view_field_in_a_gate_is_reported(tmp_path: Path) -> None:
    """X-06: a gate reading `subject.agee` is refused even where `||` would hide it at run
    time; the message names the bad path and lists the subject's real fields."""

    def mutate(raw: Raw) -> None:
        raw["gates"]["not-looked-after"]["require"] = "!plans.lac.open || subject.agee > 17"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "gates.not-looked-after.require")
    assert problem.file == file
    assert "'subject.agee' is not a field of the case view" in problem.message
    assert "'subject' has:" in problem.message
    assert "age" in problem.message.split("'subject' has:")[1].split(", ")
    assert len(problems) == 1


def test_x06_step_naming_an_unknown_gate_lists_the_gates(tmp_path: Path) -> None:
    """X-06: a step naming a gate that is not defined is reported at its place in the step's
    gates, listing the defined gates (inherited ones included)."""

    def mutate(raw: Raw) -> None:
        _step(raw, "propose")["gates"] = ["cp-seen-alone-home-visted", "not-looked-after"]

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "closure.steps[0](propose).gates[0]")
    assert problem.file == file
    assert problem.message == "names unknown gate 'cp-seen-alone-home-visted'"
    assert "cp-seen-alone-home-visited" in problem.expected
    assert "no-open-plans" in problem.expected  # from children-common
    assert len(problems) == 1


def test_x06_closure_reason_naming_an_unknown_gate_is_reported(tmp_path: Path) -> None:
    """X-06: a closure reason naming an undefined gate is reported at that reason's gates."""

    def mutate(raw: Raw) -> None:
        reason = next(
            r for r in raw["closure"]["reasons"] if r["id"] == "transferred-to-another-la"
        )
        reason["gates"] = ["transfer-not-closur"]

    _, problems = _problems(tmp_path, "001-closure-record", mutate)
    problem = _at(problems, "closure.reasons[4](transferred-to-another-la).gates[0]")
    assert problem.message == "names unknown gate 'transfer-not-closur'"
    assert "transfer-not-closure" in problem.expected


def test_x06_pack_extending_itself_makes_a_cycle(tmp_path: Path) -> None:
    """X-06: a pack that extends itself is refused with "makes a cycle" and the chain."""

    def mutate(raw: Raw) -> None:
        raw["extends"] = ["children-common", "000-closing-cases"]

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "extends[1]")
    assert problem.file == file
    assert problem.message == "makes a cycle: 000-closing-cases -> 000-closing-cases"


def test_x06_two_packs_extending_each_other_make_a_cycle(tmp_path: Path) -> None:
    """X-06: two packs that extend each other are refused (not looped over forever), naming
    the whole chain from the pack being loaded, in the file that closes the loop."""
    for this, other in (("loop-a", "loop-b"), ("loop-b", "loop-a")):
        _write(
            tmp_path,
            {
                "pack": this,
                "title": f"Pack {this}",
                "implements": "Nothing: a test of cycles.",
                "service_area": "children",
                "extends": [other],
            },
        )
    registry = _registry_with(tmp_path)
    with pytest.raises(PackError) as caught:
        registry.load("loop-a")
    [problem] = caught.value.problems
    assert problem.file == str(tmp_path / "loop-b.yaml")
    assert problem.path == "extends[0]"
    assert problem.message == "makes a cycle: loop-a -> loop-b -> loop-a"
    assert "loop" in problem.expected


def test_x06_unknown_pack_in_extends_lists_the_packs(tmp_path: Path) -> None:
    """X-06: extending a pack that does not exist names it and lists the packs there are."""

    def mutate(raw: Raw) -> None:
        raw["extends"] = ["children-comon"]

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "extends[0]")
    assert problem.file == file
    assert problem.message == "names unknown pack 'children-comon'"
    assert "children-common" in problem.expected


def test_x06_extending_a_pack_for_another_service_area_is_refused(tmp_path: Path) -> None:
    """X-06: an adults' pack cannot extend the children's shared pack."""

    def mutate(raw: Raw) -> None:
        raw["extends"] = ["children-common"]

    _, problems = _problems(tmp_path, "002-adults-closure", mutate)
    problem = _at(problems, "extends[0]")
    assert problem.message == "'children-common' is for another service area"
    assert problem.expected == "a pack for adults"


def test_x06_negative_timescale_is_too_small(tmp_path: Path) -> None:
    """X-06: `due.working_days: -3` is reported at its path as too small, expecting 0 or more."""

    def mutate(raw: Raw) -> None:
        _step(raw, "discuss-and-agree")["due"]["working_days"] = -3

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "closure.steps[1](discuss-and-agree).due.working_days")
    assert problem.file == file
    assert problem.message == "-3 is too small"
    assert problem.expected == "a number 0 or more"
    assert len(problems) == 1


def test_x06_unknown_event_in_due_from_lists_the_events(tmp_path: Path) -> None:
    """X-06: a timescale counted from an event that does not exist is reported at `due.from`,
    listing step:<step id> and every real event."""

    def mutate(raw: Raw) -> None:
        _step(raw, "discuss-and-agree")["due"]["from"] = "closure.propsed"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "closure.steps[1](discuss-and-agree).due.from")
    assert problem.file == file
    assert "'closure.propsed' is not a known event" in problem.message
    assert "step:<step id>" in problem.message
    for event in EVENTS:
        assert event in problem.message
    assert len(problems) == 1


def test_x06_timescale_from_an_unknown_step_lists_the_steps(tmp_path: Path) -> None:
    """X-06: `from: step:<id>` naming a step the closure does not have is reported, listing
    the closure's real step ids."""

    def mutate(raw: Raw) -> None:
        _step(raw, "present-for-closure")["due"]["from"] = "step:proposal"

    _, problems = _problems(tmp_path, "000-closing-cases", mutate)
    index = _step_index(_raw("000-closing-cases"), "present-for-closure")
    problem = _at(problems, f"closure.steps[{index}](present-for-closure).due.from")
    assert problem.message == "names unknown step 'proposal'"
    assert "propose" in problem.expected
    assert problem.expected.startswith("step:<one of")


def test_x06_misspelt_key_is_not_accepted(tmp_path: Path) -> None:
    """X-06: a misspelt key (`blocked_reasn`) is refused as a key the section does not accept,
    with a hint to check the spelling, and the real key is reported missing."""

    def mutate(raw: Raw) -> None:
        gate = raw["gates"]["not-looked-after"]
        gate["blocked_reasn"] = gate.pop("blocked_reason")

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    typo = _at(problems, "gates.not-looked-after.blocked_reasn")
    assert typo.file == file
    assert typo.message == "is not a key this section accepts"
    assert "check the spelling" in typo.expected
    assert _at(problems, "gates.not-looked-after.blocked_reason").message == "is missing"
    assert len(problems) == 2


def test_x06_cel_syntax_error_is_reported(tmp_path: Path) -> None:
    """X-06: a condition that is not valid CEL is reported at its path as not parsing, with
    the expression quoted and CEL named as what is expected."""

    def mutate(raw: Raw) -> None:
        raw["gates"]["not-looked-after"]["require"] = "!plans.lac.open &&"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    problem = _at(problems, "gates.not-looked-after.require")
    assert problem.file == file
    assert problem.message.startswith("condition '!plans.lac.open &&': does not parse as CEL")
    assert "CEL expression over the case view" in problem.expected


def test_x06_invalid_yaml_reports_line_and_column(tmp_path: Path) -> None:
    """X-06: a file that is not valid YAML is reported with the line and column of the
    mistake, and is not registered as a pack."""
    path = tmp_path / "broken.yaml"
    path.write_text("pack: broken\ntitle: Broken\n  implements: indented by mistake\n")
    raw, problems = read_pack_file(path)
    assert raw is None
    [problem] = problems
    assert problem.file == str(path)
    assert problem.path == "line 3, column 13"
    assert problem.message.startswith("is not valid YAML:")
    registry = _registry_with(tmp_path)
    assert "broken" not in registry.raw
    assert problem in registry.problems


def test_x06_unquoted_on_key_is_reported_as_not_text_with_the_hint(tmp_path: Path) -> None:
    """X-06: YAML reads an unquoted `on:` key as true; the loader reports the key as not text
    where it is, and explains to quote such keys."""
    text = (BUILT_IN_PACKS / "000-closing-cases.yaml").read_text(encoding="utf-8")
    assert "from: closure.proposed, description" in text
    path = tmp_path / "000-closing-cases.yaml"
    path.write_text(
        text.replace("from: closure.proposed, description", "on: closure.proposed, description")
    )
    raw, problems = read_pack_file(path)
    assert raw is None
    [problem] = problems
    assert problem.file == str(path)
    assert problem.path == "closure.steps[1].due"
    assert problem.message == "key True is not text"
    assert "quote such keys" in problem.expected
    assert "on, off, yes and no" in problem.expected


def test_x06_team_code_not_declared_lists_the_teams(tmp_path: Path) -> None:
    """X-06: a routing rule or protocol naming a team not declared under `teams:` is
    reported at its path, listing the declared team codes."""

    def mutate(raw: Raw) -> None:
        raw["transfer"]["routing"][0]["to_team"] = "sgpc"
        raw["transfer"]["protocols"][0]["to_teams"] = ["lac", "fostering"]

    file, problems = _problems(tmp_path, "004-transfer-and-closure", mutate)
    rule = _at(problems, "transfer.routing[0](cp-plan-at-icpc).to_team")
    assert rule.file == file
    assert rule.message == "'sgpc' is not a known team code (declare it under teams:)"
    assert "sgcp" in rule.expected
    assert "irt" in rule.expected
    protocol = _at(problems, "transfer.protocols[0](to-looked-after).to_teams[1]")
    assert protocol.message.startswith("'fostering' is not a known team code")
    assert len(problems) == 2


def test_x06_national_code_outside_the_code_set_is_refused(tmp_path: Path) -> None:
    """X-06: a closure reason's national code must be in the pack's code set: RC10 is not a
    CIN census reason, and a CIN code is not a Client Level Data outcome for adults."""

    def children(raw: Raw) -> None:
        raw["closure"]["reasons"][0]["national_code"] = "RC10"

    _, problems = _problems(tmp_path, "000-closing-cases", children)
    problem = _at(problems, "closure.reasons[0](adopted).national_code")
    assert problem.message == "'RC10' is not a known national closure code"
    for code in CinClosureReason.values:
        assert code in problem.expected

    def adults(raw: Raw) -> None:
        raw["closure"]["reasons"][0]["national_code"] = "RC7"

    _, problems = _problems(tmp_path, "002-adults-closure", adults)
    problem = _at(problems, "closure.reasons[0](goals-achieved).national_code")
    assert problem.message == "'RC7' is not a known national closure code"
    assert "NFA - Support declined" in problem.expected
    assert set(CLD_EVENT_OUTCOMES) <= set(problem.expected.removeprefix("one of ").split(", "))


def test_x06_pack_governing_closure_without_a_closure_section_is_refused(tmp_path: Path) -> None:
    """X-06: a pack that says it governs closure must have a closure section."""

    def mutate(raw: Raw) -> None:
        del raw["closure"]

    _, problems = _problems(tmp_path, "003-ending-interventions", mutate)
    problem = _at(problems, "closure")
    assert problem.message == "is missing but the pack says it governs closure"


# --- every problem at once ------------------------------------------------------------------


def test_x06_format_and_condition_mistakes_are_all_reported_at_once(tmp_path: Path) -> None:
    """X-06: one file with an unknown role, a negative timescale and a bad condition reports
    all three in one PackError, each at its own path, so an author fixes them in one pass."""

    def mutate(raw: Raw) -> None:
        _step(raw, "discuss-and-agree")["role"] = "team_manger"
        _step(raw, "present-for-closure")["due"]["working_days"] = -3
        raw["gates"]["not-looked-after"]["require"] = "subject.agee > 17"

    file, problems = _problems(tmp_path, "000-closing-cases", mutate)
    index = _step_index(_raw("000-closing-cases"), "present-for-closure")
    assert "team_manger" in _at(problems, "closure.steps[1](discuss-and-agree).role").message
    assert (
        _at(problems, f"closure.steps[{index}](present-for-closure).due.working_days").message
        == "-3 is too small"
    )
    assert "'subject.agee'" in _at(problems, "gates.not-looked-after.require").message
    assert len(problems) == 3
    assert {p.file for p in problems} == {file}


def test_x06_reference_mistakes_are_all_reported_at_once(tmp_path: Path) -> None:
    """X-06: mistakes found after the format is right (an unknown gate, an unknown form field
    in a condition, an undeclared team, an unknown national code) are also all reported in one
    PackError."""

    def mutate(raw: Raw) -> None:
        raw["transfer"]["gates"] = ["recording-up-to-dat"]
        raw["transfer"]["routing"][0]["to_team"] = "sgpc"
        raw["forms"]["transfer-summary"]["fields"][0]["shown_when"] = "form.rationalle != ''"
        raw["transfer"]["pathways"][0]["when"] = "previous_case.teem == 'ai'"

    _, problems = _problems(tmp_path, "004-transfer-and-closure", mutate)
    assert _at(problems, "transfer.gates[0]").message == "names unknown gate 'recording-up-to-dat'"
    assert "sgpc" in _at(problems, "transfer.routing[0](cp-plan-at-icpc).to_team").message
    assert (
        "form.rationalle"
        in _at(problems, "forms.transfer-summary.fields[0](rationale).shown_when").message
    )
    assert (
        "previous_case.teem"
        in _at(problems, "transfer.pathways[0](escalation-from-early-help).when").message
    )
    assert len(problems) == 4


# --- how a problem reads --------------------------------------------------------------------


def test_x06_problem_reads_file_path_message_expected() -> None:
    """X-06: a problem prints as "FILE: PATH: MESSAGE (expected ...)", leaving out the path or
    the expectation when there is none."""
    full = PackProblem("packs/x.yaml", "gates.g.require", "is wrong", "something right")
    assert str(full) == "packs/x.yaml: gates.g.require: is wrong (expected something right)"
    assert str(PackProblem("packs/x.yaml", "", "cannot be read")) == "packs/x.yaml: cannot be read"
    assert str(PackProblem("packs/x.yaml", "title", "is empty")) == "packs/x.yaml: title: is empty"


def test_x06_pack_error_message_lists_every_problem_one_per_line() -> None:
    """X-06: a PackError's text is every problem, one per line, in the order found."""
    first = PackProblem("a.yaml", "x", "is wrong", "right")
    second = PackProblem("a.yaml", "y", "is missing")
    error = PackError([first, second])
    assert error.problems == [first, second]
    assert str(error) == "a.yaml: x: is wrong (expected right)\na.yaml: y: is missing"


# --- known bugs (reported to the owner) -----------------------------------------------------


def test_x06_problem_in_an_extended_pack_names_that_packs_file(tmp_path: Path) -> None:
    """X-06: loading 000-closing-cases when the children-common it extends has a bad gate
    condition names children-common's file, where the gate actually is."""
    raw = _raw("children-common")
    raw["gates"]["no-open-plans"]["require"] = "subject.agee > 3"
    common = _write(tmp_path, raw)
    registry = _registry_with(tmp_path)
    with pytest.raises(PackError) as caught:
        registry.load("000-closing-cases")
    problem = _at(caught.value.problems, "gates.no-open-plans.require")
    assert str(common) in str(problem)


def test_x06_unreadable_replacement_pack_is_not_silently_ignored(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    """X-06: when a council's pack folder holds its own 000-closing-cases.yaml that cannot be
    read (here an unquoted `on:` key), loading 000-closing-cases fails naming that file,
    rather than silently running the built-in procedure in its place."""
    text = (BUILT_IN_PACKS / "000-closing-cases.yaml").read_text(encoding="utf-8")
    replacement = tmp_path / "000-closing-cases.yaml"
    replacement.write_text(
        text.replace("from: closure.proposed, description", "on: closure.proposed, description")
    )
    settings.CASEWORK_PACK_DIRS = [str(tmp_path)]
    with pytest.raises(PackError) as caught:
        load_pack("000-closing-cases")
    assert str(replacement) in str(caught.value)
