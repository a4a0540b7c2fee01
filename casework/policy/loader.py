"""Loading policy packs: read YAML, merge `extends`, validate the format and every
reference, compile every condition, and report all problems at once, each naming the file,
the path inside it, what is wrong and what is expected."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from pydantic import ValidationError

from casework.core.codes import CLD_EVENT_OUTCOMES, CinClosureReason
from casework.policy.caseview import Leaf, Node, view_shape
from casework.policy.conditions import Condition, ConditionError, compile_condition
from casework.policy.schema import Due, Form, Gate, Notification, PackFile, Task

BUILT_IN_PACKS = Path(__file__).resolve().parent / "packs"

_DICT_SECTIONS = ("teams", "gates", "forms", "checklists")
_LIST_SECTIONS = ("choices", "notifications", "tasks", "retention")


@dataclass(frozen=True)
class PackProblem:
    file: str
    path: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}" + (
            f" (expected {self.expected})" if self.expected else ""
        )


class PackError(Exception):
    def __init__(self, problems: list[PackProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class PolicyPack:
    """A merged, validated pack with its conditions compiled, ready to evaluate."""

    spec: PackFile
    files: list[str]
    conditions: dict[str, Condition] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.pack

    def condition(self, source: str, *, form: str | None = None) -> Condition:
        return self.conditions[_condition_key(source, form)]

    @cached_property
    def case_view_shape(self) -> dict[str, frozenset[str] | None]:
        """The parts of the case view (roots, and fields of them) that any of the pack's
        conditions reads: a view of these alone evaluates every one of them."""
        return view_shape(fact for c in self.conditions.values() for fact in c.facts)


def _condition_key(source: str, form: str | None) -> str:
    return f"form:{form}:{source}" if form else source


def _display_path(loc: Iterable[str | int], raw: Any) -> str:
    text = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            label = ""
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict):
                ident = node[part].get("id")
                label = f"({ident})" if ident is not None else ""
            text += f"[{part}]{label}"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def _from_pydantic(file: str, error: ValidationError, raw: Any) -> list[PackProblem]:
    problems = []
    for item in error.errors():
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = _display_path(loc, raw)
        kind = item["type"]
        ctx = item.get("ctx", {})
        given = item.get("input")
        if kind == "missing":
            problems.append(PackProblem(file, path, "is missing", "a value here"))
        elif kind == "extra_forbidden":
            problems.append(
                PackProblem(
                    file,
                    path,
                    "is not a key this section accepts",
                    "only the keys in docs/policy-packs.md; check the spelling",
                )
            )
        elif kind in {"greater_than_equal", "greater_than"}:
            bound = ctx.get("ge", ctx.get("gt"))
            problems.append(
                PackProblem(file, path, f"{given!r} is too small", f"a number {bound} or more")
            )
        elif kind == "literal_error":
            problems.append(
                PackProblem(file, path, f"{given!r} is not allowed", f"one of {ctx['expected']}")
            )
        elif kind == "string_pattern_mismatch":
            problems.append(
                PackProblem(
                    file,
                    path,
                    f"{given!r} is not in the right form",
                    f"text matching {ctx['pattern']}",
                )
            )
        elif kind == "too_short":
            problems.append(PackProblem(file, path, "is empty", "at least one entry"))
        elif kind == "value_error":
            problems.append(PackProblem(file, path, str(ctx.get("error", item["msg"]))))
        else:
            problems.append(PackProblem(file, path, item["msg"]))
    return problems


def read_pack_file(path: Path) -> tuple[dict[str, Any] | None, list[PackProblem]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        return None, [PackProblem(str(path), "", f"cannot be read: {error.strerror}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, [
            PackProblem(str(path), where, f"is not valid YAML: {getattr(error, 'problem', error)}")
        ]
    if not isinstance(raw, dict):
        return None, [PackProblem(str(path), "", "must be a mapping of keys to values")]
    odd_keys = list(_non_text_keys(raw, ""))
    if odd_keys:
        return None, [
            PackProblem(
                str(path),
                where,
                f"key {key!r} is not text",
                "a text key: YAML reads unquoted on, off, yes and no as true or "
                "false, so quote such keys",
            )
            for where, key in odd_keys
        ]
    try:
        PackFile.model_validate(raw)
    except ValidationError as error:
        # Report the conditions' problems in the same pass, so a pack author sees every
        # problem at once rather than fixing the format first and the conditions second.
        return raw, _from_pydantic(str(path), error, raw) + list(
            _raw_condition_problems(str(path), raw, "")
        )
    return raw, []


_CONDITION_KEYS = {
    "applies_when",
    "require",
    "evidence",
    "when",
    "expression",
    "to_team_expression",
}


def _raw_condition_problems(file: str, node: Any, path: str) -> Iterator[PackProblem]:
    """Compile every condition found in a file that failed format validation (form-scoped
    `shown_when` conditions need the form and are checked once the format is right)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key in _CONDITION_KEYS and isinstance(value, str):
                try:
                    compile_condition(value)
                except ConditionError as error:
                    yield PackProblem(file, where, f"condition {value!r}: {error}", _CEL_EXPECTED)
            else:
                yield from _raw_condition_problems(file, value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _raw_condition_problems(file, value, f"{path}[{index}]")


_CEL_EXPECTED = "a CEL expression over the case view (docs/policy-packs.md)"


def _non_text_keys(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield path or "(top level)", key
            yield from _non_text_keys(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_text_keys(value, f"{path}[{index}]")


class PackRegistry:
    """Every pack file found in the built-in folder and any configured extra folders."""

    def __init__(self) -> None:
        self.raw: dict[str, dict[str, Any]] = {}
        self.files: dict[str, str] = {}
        self.problems: list[PackProblem] = []

    @classmethod
    def from_directories(cls, directories: Iterable[Path]) -> PackRegistry:
        registry = cls()
        for directory in directories:
            for path in sorted(Path(directory).glob("*.yaml")):
                registry.add_file(path)
        return registry

    def add_file(self, path: Path) -> str | None:
        raw, problems = read_pack_file(path)
        self.problems.extend(problems)
        if raw is None or not isinstance(raw.get("pack"), str):
            return None
        pack_id: str = raw["pack"]
        self.raw[pack_id] = raw
        self.files[pack_id] = str(path)
        return pack_id

    def _merged(
        self,
        pack_id: str,
        chain: tuple[str, ...],
        problems: list[PackProblem],
    ) -> dict[str, Any] | None:
        file = self.files[pack_id]
        raw = self.raw[pack_id]
        merged: dict[str, Any] = {}
        for index, parent in enumerate(raw.get("extends", []) or []):
            where = f"extends[{index}]"
            if parent in chain or parent == pack_id:
                cycle = " -> ".join([*chain, pack_id, parent])
                problems.append(
                    PackProblem(
                        file,
                        where,
                        f"makes a cycle: {cycle}",
                        "packs that do not extend each other in a loop",
                    )
                )
                continue
            if parent not in self.raw:
                problems.append(
                    PackProblem(
                        file, where, f"names unknown pack '{parent}'", f"one of {sorted(self.raw)}"
                    )
                )
                continue
            parent_merged = self._merged(parent, (*chain, pack_id), problems)
            if parent_merged is None:
                continue
            if parent_merged.get("service_area") != raw.get("service_area"):
                problems.append(
                    PackProblem(
                        file,
                        where,
                        f"'{parent}' is for another service area",
                        f"a pack for {raw.get('service_area')}",
                    )
                )
            merged = _merge(merged, parent_merged)
        return _merge(merged, raw)

    def _extends(self, pack_id: str, target: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether `pack_id` extends `target`, directly or not (a cycle, reported later)."""
        if pack_id in seen:
            return True
        parents = self.raw.get(pack_id, {}).get("extends", []) or []
        return target in parents or any(self._extends(p, target, seen | {pack_id}) for p in parents)

    def load(self, pack_id: str, *, refuse_if_any_unreadable: bool = True) -> PolicyPack:
        if pack_id not in self.raw:
            raise PackError(
                [
                    PackProblem(
                        "(packs)", "", f"there is no pack '{pack_id}'", f"one of {sorted(self.raw)}"
                    )
                ]
            )
        file = self.files[pack_id]
        own = [p for p in self.problems if p.file == file]
        if own:
            raise PackError(own)
        # A file that could not be read might have been meant to replace this pack: rather
        # than silently run the built-in procedure instead, refuse until it is mended.
        unreadable = [p for p in self.problems if p.file not in self.files.values()]
        if unreadable and refuse_if_any_unreadable:
            raise PackError(unreadable)
        problems: list[PackProblem] = []
        for parent in self.raw[pack_id].get("extends", []) or []:
            # Each pack must be valid on its own, so a problem is reported against the file
            # that has it rather than against every pack that extends it.
            if parent in self.raw and parent != pack_id and not self._extends(parent, pack_id):
                try:
                    self.load(parent, refuse_if_any_unreadable=refuse_if_any_unreadable)
                except PackError as error:
                    problems.extend(error.problems)
        if problems:
            raise PackError(problems)
        merged = self._merged(pack_id, (), problems)
        if problems or merged is None:
            raise PackError(problems)
        merged.pop("extends", None)
        try:
            spec = PackFile.model_validate(merged)
        except ValidationError as error:
            raise PackError(_from_pydantic(file, error, merged)) from error
        pack = PolicyPack(spec=spec, files=[file])
        problems = list(_SemanticChecker(pack, file).check())
        if problems:
            raise PackError(problems)
        return pack


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if key in _DICT_SECTIONS:
            merged[key] = {**merged.get(key, {}), **(value or {})}
        elif key in _LIST_SECTIONS:
            # An item with an inherited id replaces that item where it stands; new items come
            # first, so a pack's own retention classes are tried before inherited catch-alls.
            ours = {
                item["id"]: item
                for item in value or []
                if isinstance(item, dict) and item.get("id")
            }
            inherited = merged.get(key, [])
            inherited_ids = {i.get("id") for i in inherited if isinstance(i, dict)}
            new_items = [
                item
                for item in value or []
                if not (isinstance(item, dict) and item.get("id") in inherited_ids)
            ]
            replaced = [
                ours.get(item.get("id"), item) if isinstance(item, dict) else item
                for item in inherited
            ]
            merged[key] = copy.deepcopy(new_items + replaced)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _SemanticChecker:
    """Checks what the format alone cannot: names that must match something."""

    def __init__(self, pack: PolicyPack, file: str) -> None:
        self.pack = pack
        self.spec = pack.spec
        self.file = file
        self.problems: list[PackProblem] = []

    def problem(self, path: str, message: str, expected: str = "") -> None:
        self.problems.append(PackProblem(self.file, path, message, expected))

    def check(self) -> Iterator[PackProblem]:
        spec = self.spec
        for gate_id, gate in spec.gates.items():
            self._gate(f"gates.{gate_id}", gate)
        for form_id, form in spec.forms.items():
            self._form(f"forms.{form_id}", form_id, form)
        for checklist_id, checklist in spec.checklists.items():
            seen: set[str] = set()
            for s_index, section in enumerate(checklist.sections):
                for i_index, item in enumerate(section.items):
                    path = f"checklists.{checklist_id}.sections[{s_index}].items[{i_index}]"
                    if item.id in seen:
                        self.problem(path, f"repeats item id '{item.id}'", "unique item ids")
                    seen.add(item.id)
                    if item.check:
                        self._expression(f"{path}.check.expression", item.check.expression)
                        if item.check.evidence:
                            self._expression(f"{path}.check.evidence", item.check.evidence)
        for index, note in enumerate(spec.notifications):
            self._notification(f"notifications[{index}]", note)
        for index, task in enumerate(spec.tasks):
            self._task(f"tasks[{index}]({task.id})", task, set())
        for index, rule in enumerate(spec.retention):
            path = f"retention[{index}]({rule.id})"
            self._expression(f"{path}.applies_when", rule.applies_when)
            for r_index, alt in enumerate(rule.instead):
                self._expression(f"{path}.instead[{r_index}].when", alt.when)
        if "closure" in spec.governs and spec.closure is None:
            self.problem(
                "closure", "is missing but the pack says it governs closure", "a closure section"
            )
        if "transfer" in spec.governs and spec.transfer is None:
            self.problem(
                "transfer",
                "is missing but the pack says it governs transfers",
                "a transfer section",
            )
        if spec.closure is not None:
            self._closure()
        if spec.transfer is not None:
            self._transfer()
        yield from self.problems

    def _expression(self, path: str, source: str, *, form: tuple[str, Form] | None = None) -> None:
        extra: dict[str, Node] | None = None
        if form is not None:
            extra = {"form": {f.id: Leaf("any", f.label) for f in form[1].fields}}
        try:
            condition = compile_condition(source, extra_roots=extra)
        except ConditionError as error:
            self.problem(path, f"condition {source!r}: {error}", _CEL_EXPECTED)
            return
        self.pack.conditions[_condition_key(source, form[0] if form else None)] = condition

    def _one_of(self, path: str, value: str, allowed: Iterable[str], what: str) -> None:
        options = sorted(allowed)
        if value not in options:
            self.problem(path, f"'{value}' is not a known {what}", f"one of {', '.join(options)}")

    def _gate_ref(self, path: str, gate_id: str) -> None:
        if gate_id not in self.spec.gates:
            self.problem(
                path,
                f"names unknown gate '{gate_id}'",
                f"one of {', '.join(sorted(self.spec.gates)) or '(no gates defined)'}",
            )

    def _team(self, path: str, code: str) -> None:
        self._one_of(path, code, self.spec.teams, "team code (declare it under teams:)")

    def _due(self, path: str, due: Due, step_ids: set[str]) -> None:
        if due.from_.startswith("step:"):
            if due.from_[5:] not in step_ids:
                self.problem(
                    f"{path}.from",
                    f"names unknown step '{due.from_[5:]}'",
                    f"step:<one of {', '.join(sorted(step_ids))}>",
                )

    def _gate(self, path: str, gate: Gate) -> None:
        self._expression(f"{path}.applies_when", gate.applies_when)
        self._expression(f"{path}.require", gate.require)
        if gate.evidence:
            self._expression(f"{path}.evidence", gate.evidence)

    def _form(self, path: str, form_id: str, form: Form) -> None:
        seen: set[str] = set()
        for index, form_field in enumerate(form.fields):
            fpath = f"{path}.fields[{index}]({form_field.id})"
            if form_field.id in seen:
                self.problem(fpath, f"repeats field id '{form_field.id}'", "unique field ids")
            seen.add(form_field.id)
            if form_field.shown_when:
                self._expression(f"{fpath}.shown_when", form_field.shown_when, form=(form_id, form))

    def _notification(self, path: str, note: Notification) -> None:
        self._expression(f"{path}.when", note.when)

    def _task(self, path: str, task: Task, step_ids: set[str]) -> None:
        self._due(f"{path}.due", task.due, step_ids)

    def _closure(self) -> None:
        closure = self.spec.closure
        assert closure is not None  # noqa: S101 - the caller checked
        step_ids = {s.id for s in closure.steps}
        if self.spec.national_codes is None:
            self.problem(
                "national_codes",
                "is missing but closure reasons need a code set",
                "national_codes.closure_code_set",
            )
            codes: set[str] = set()
        elif self.spec.national_codes.closure_code_set == "cin_reason_for_closure":
            codes = set(CinClosureReason.values)
        else:
            codes = set(CLD_EVENT_OUTCOMES)
        seen: set[str] = set()
        for index, reason in enumerate(closure.reasons):
            path = f"closure.reasons[{index}]({reason.id})"
            if reason.id in seen:
                self.problem(path, f"repeats reason id '{reason.id}'", "unique reason ids")
            seen.add(reason.id)
            if codes:
                self._one_of(
                    f"{path}.national_code", reason.national_code, codes, "national closure code"
                )
            for g_index, gate_id in enumerate(reason.gates):
                self._gate_ref(f"{path}.gates[{g_index}]", gate_id)
        for index, gate_id in enumerate(closure.gates):
            self._gate_ref(f"closure.gates[{index}]", gate_id)
        seen = set()
        for index, step in enumerate(closure.steps):
            path = f"closure.steps[{index}]({step.id})"
            if step.id in seen:
                self.problem(path, f"repeats step id '{step.id}'", "unique step ids")
            seen.add(step.id)
            for g_index, gate_id in enumerate(step.gates):
                self._gate_ref(f"{path}.gates[{g_index}]", gate_id)
            for a_index, earlier in enumerate(step.after):
                if earlier not in seen - {step.id}:
                    self.problem(
                        f"{path}.after[{a_index}]",
                        f"'{earlier}' is not a step before this one",
                        f"one of {', '.join(sorted(seen - {step.id})) or '(no earlier steps)'}",
                    )
            if step.when:
                self._expression(f"{path}.when", step.when)
            if step.form and step.form not in self.spec.forms:
                self.problem(
                    f"{path}.form",
                    f"names unknown form '{step.form}'",
                    f"one of {', '.join(sorted(self.spec.forms))}",
                )
            if step.checklist and step.checklist not in self.spec.checklists:
                self.problem(
                    f"{path}.checklist",
                    f"names unknown checklist '{step.checklist}'",
                    f"one of {', '.join(sorted(self.spec.checklists))}",
                )
            if step.due:
                self._due(f"{path}.due", step.due, step_ids)
        for index, note in enumerate(closure.notifications):
            self._notification(f"closure.notifications[{index}]", note)
        for index, task in enumerate(closure.tasks):
            self._task(f"closure.tasks[{index}]({task.id})", task, step_ids)

    def _transfer(self) -> None:
        transfer = self.spec.transfer
        assert transfer is not None  # noqa: S101 - the caller checked
        if transfer.summary_form not in self.spec.forms:
            self.problem(
                "transfer.summary_form",
                f"names unknown form '{transfer.summary_form}'",
                f"one of {', '.join(sorted(self.spec.forms))}",
            )
        if transfer.audit_checklist not in self.spec.checklists:
            self.problem(
                "transfer.audit_checklist",
                f"names unknown checklist '{transfer.audit_checklist}'",
                f"one of {', '.join(sorted(self.spec.checklists))}",
            )
        for index, gate_id in enumerate(transfer.gates):
            self._gate_ref(f"transfer.gates[{index}]", gate_id)
        for index, protocol in enumerate(transfer.protocols):
            path = f"transfer.protocols[{index}]({protocol.id})"
            for t_index, code in enumerate(protocol.from_teams):
                self._team(f"{path}.from_teams[{t_index}]", code)
            for t_index, code in enumerate(protocol.to_teams):
                self._team(f"{path}.to_teams[{t_index}]", code)
            self._expression(f"{path}.when", protocol.when)
            if protocol.transfer_within:
                self._due(f"{path}.transfer_within", protocol.transfer_within, set())
            for g_index, gate_id in enumerate(protocol.gates):
                self._gate_ref(f"{path}.gates[{g_index}]", gate_id)
            for t_index, task in enumerate(protocol.tasks):
                self._task(f"{path}.tasks[{t_index}]({task.id})", task, set())
            for n_index, note in enumerate(protocol.notifications):
                self._notification(f"{path}.notifications[{n_index}]", note)
        for index, rule in enumerate(transfer.routing):
            path = f"transfer.routing[{index}]({rule.id})"
            self._expression(f"{path}.when", rule.when)
            if rule.to_team:
                self._team(f"{path}.to_team", rule.to_team)
            if rule.to_team_expression:
                self._expression(f"{path}.to_team_expression", rule.to_team_expression)
            if rule.fallback_team:
                self._team(f"{path}.fallback_team", rule.fallback_team)
        for index, pathway in enumerate(transfer.pathways):
            path = f"transfer.pathways[{index}]({pathway.id})"
            for t_index, code in enumerate(pathway.from_teams):
                self._team(f"{path}.from_teams[{t_index}]", code)
            if pathway.to_team:
                self._team(f"{path}.to_team", pathway.to_team)
            if pathway.to_team_expression:
                self._expression(f"{path}.to_team_expression", pathway.to_team_expression)
            if pathway.fallback_team:
                self._team(f"{path}.fallback_team", pathway.fallback_team)
            self._expression(f"{path}.when", pathway.when)
            if pathway.form and pathway.form not in self.spec.forms:
                self.problem(
                    f"{path}.form",
                    f"names unknown form '{pathway.form}'",
                    f"one of {', '.join(sorted(self.spec.forms))}",
                )
            if pathway.meeting_notice:
                self._due(f"{path}.meeting_notice", pathway.meeting_notice, set())
            for g_index, gate_id in enumerate(pathway.gates):
                self._gate_ref(f"{path}.gates[{g_index}]", gate_id)
            for n_index, note in enumerate(pathway.notifications):
                self._notification(f"{path}.notifications[{n_index}]", note)
            for t_index, task in enumerate(pathway.tasks):
                self._task(f"{path}.tasks[{t_index}]({task.id})", task, set())
            codes = (
                {r.national_code for r in self.spec.closure.reasons} if self.spec.closure else set()
            )
            if pathway.closes_case_with and codes and pathway.closes_case_with not in codes:
                self.problem(
                    f"{path}.closes_case_with",
                    f"names closure code '{pathway.closes_case_with}', which no reason uses",
                    f"one of {', '.join(sorted(codes))}",
                )
        for index, task in enumerate(transfer.tasks):
            self._task(f"transfer.tasks[{index}]({task.id})", task, set())
        for index, note in enumerate(transfer.notifications):
            self._notification(f"transfer.notifications[{index}]", note)


def pack_directories() -> list[Path]:
    extra = [Path(p) for p in getattr(settings, "CASEWORK_PACK_DIRS", [])]
    return [BUILT_IN_PACKS, *extra]


_cache: dict[tuple[Any, ...], PolicyPack] = {}

# The pack files' names and modification times, read once a request while one is held
# (`pack_files_held`): a closure proposal loads its pack four times, and each time listed
# every pack folder and read each file's modification time (two dozen system calls).
_held_stamps: ContextVar[dict[tuple[Path, ...], tuple[Any, ...]] | None] = ContextVar(
    "casework_pack_stamps", default=None
)


@contextmanager
def pack_files_held() -> Iterator[None]:
    """Within this block (a request: `casework.policy.middleware`), the pack files are
    looked at once: a pack edited meanwhile is loaded by the next request, and a request
    never mixes two versions of a procedure. Outside one, every load looks afresh."""
    token = _held_stamps.set({})
    try:
        yield
    finally:
        _held_stamps.reset(token)


def _files_stamp(directories: list[Path]) -> tuple[Any, ...]:
    held = _held_stamps.get()
    key = tuple(directories)
    if held is not None and key in held:
        return held[key]
    stamp = tuple(
        (str(p), p.stat().st_mtime_ns) for d in directories for p in sorted(d.glob("*.yaml"))
    )
    if held is not None:
        held[key] = stamp
    return stamp


def load_pack(pack_id: str) -> PolicyPack:
    """The pack with this id from the configured folders, validated and compiled. Cached
    until any pack file changes."""
    directories = pack_directories()
    key = (pack_id, _files_stamp(directories))
    if key not in _cache:
        _cache[key] = PackRegistry.from_directories(directories).load(pack_id)
    return _cache[key]


def available_packs() -> dict[str, PackFile]:
    """Every valid pack's own file (unmerged), by id, for choosing a binding."""
    registry = PackRegistry.from_directories(pack_directories())
    found = {}
    for pack_id, raw in registry.raw.items():
        try:
            found[pack_id] = PackFile.model_validate(raw)
        except ValidationError:
            continue
    return found
