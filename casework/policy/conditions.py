"""Conditions in policy packs are CEL (the Common Expression Language): a small, sandboxed,
side-effect-free language. Expressions are compiled once when a pack loads, every field
they read is checked against the documented case view (CEL itself does not check names in
advance, and `&&`/`||` can hide a misspelt field), and each evaluation explains itself by
reporting the facts the expression read."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import cel

from casework.policy.caseview import CASE_VIEW, Leaf, ListOf, Node

_STRING_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""")
_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|(\d+(?:\.\d+)?[uU]?)|(''|&&|\|\||[=!<>]=|.))")
_KEYWORDS = {"true", "false", "null", "in"}
_MACROS = {"exists", "all", "exists_one", "filter", "map"}


class ConditionError(ValueError):
    """An expression that cannot be used: it does not parse or reads an unknown field."""


@dataclass(frozen=True)
class Condition:
    """A compiled expression and the documented facts it reads."""

    source: str
    program: Any
    facts: tuple[str, ...]

    def evaluate(self, context: EvaluationContext) -> Outcome:
        try:
            value = self.program.execute(context.cel_context)
        except Exception as error:  # noqa: BLE001 - CEL raises several types; all mean "cannot tell"
            return Outcome(None, context.cite(self.facts), f"could not be evaluated: {error}")
        return Outcome(value, context.cite(self.facts), None)


@dataclass(frozen=True)
class Outcome:
    value: Any
    facts: list[tuple[str, str]]
    error: str | None

    @property
    def holds(self) -> bool:
        """True only for a real `true`: an error or a non-boolean never lets a step through."""
        return self.value is True


def compile_condition(source: str, *, extra_roots: dict[str, Node] | None = None) -> Condition:
    """Compile `source` and check every field path it reads. `extra_roots` adds names
    (e.g. `form` for a form's own answers) to the documented case view."""
    schema: dict[str, Node] = {**CASE_VIEW, **(extra_roots or {})}
    try:
        program = cel.compile(source)
    except ValueError as error:
        first_line = str(error).splitlines()[0]
        raise ConditionError(f"does not parse as CEL ({first_line})") from error
    checker = _FieldChecker(_STRING_LITERAL.sub("''", source), schema)
    checker.check()
    return Condition(source=source, program=program, facts=tuple(checker.facts))


_ANY = Leaf("any", "a value whose fields are not documented")


class _LiteralList:
    """The type of a literal list such as ['a', 'b']: its items have no documented fields."""


_Type = Node | _LiteralList | None


class _FieldChecker:
    """Walks the tokens of an expression CEL has already parsed, following each chain of
    field accesses from a documented root (or a macro's variable, bound to its list's items
    for the extent of the macro only) and refusing any field the case view does not have.
    It checks names only; CEL does all the parsing and evaluation."""

    def __init__(self, text: str, schema: dict[str, Node]) -> None:
        self.tokens = [t for t in (m.group(0).strip() for m in _TOKEN.finditer(text)) if t]
        self.schema = schema
        self.facts: list[str] = []
        self.position = 0
        self.fact = False

    def check(self) -> None:
        self._expression({})
        if self.position < len(self.tokens):  # unbalanced closers: CEL would have refused
            self.position += 1
            self.check()

    def _peek(self, offset: int = 0) -> str:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else ""

    def _expression(self, scope: dict[str, Node]) -> None:
        """Terms and operators up to a closing bracket or comma at this depth."""
        while self.position < len(self.tokens) and self._peek() not in {")", "]", "}", ","}:
            if self._peek()[0].isalpha() or self._peek()[0] == "_" or self._peek() in "([{":
                self._term(scope)
            else:
                self.position += 1

    def _arguments(self, scope: dict[str, Node], closer: str) -> None:
        while self.position < len(self.tokens) and self._peek() != closer:
            self._expression(scope)
            if self._peek() == ",":
                self.position += 1
            elif self._peek() != closer:
                self.position += 1
        self.position += 1  # the closer

    def _term(self, scope: dict[str, Node]) -> None:
        word = self._peek()
        self.position += 1
        kind: _Type = None
        label: list[str] = []
        if word == "(":
            self._arguments(scope, ")")
        elif word == "[":
            self._arguments(scope, "]")
            kind = _LiteralList()
        elif word == "{":
            self._arguments(scope, "}")
        elif word in _KEYWORDS:
            return
        elif self._peek() == "(":  # a global function such as size(x) or has(x.y)
            self.position += 1
            self._arguments(scope, ")")
        elif word in scope:
            kind, label = scope[word], [word]
        elif word in self.schema:
            kind, label = self.schema[word], [word]
            self.fact = True
        else:
            raise ConditionError(
                f"unknown name '{word}': conditions can read {', '.join(sorted(self.schema))}"
            )
        self.fact = word in self.schema and word not in scope
        self._postfix(scope, kind, label)

    def _postfix(self, scope: dict[str, Node], kind: _Type, label: list[str]) -> None:
        while True:
            following = self._peek(1)
            if self._peek() == "." and following[:1].isalpha() or following[:1] == "_":
                self.position += 2
                if self._peek() == "(":
                    self.position += 1
                    kind = self._method(scope, kind, label, following)
                    label = [*label, f"{following}()"]
                    self.fact = False
                    continue
                kind = self._member(kind, label, following)
                label = [*label, following]
            elif self._peek() == "[":
                self._note(label)
                self.position += 1
                self._arguments(scope, "]")
                kind = kind.item if isinstance(kind, ListOf) else None
                label = [*label[:-1], f"{label[-1]}[]"] if label else []
                self.fact = False
            else:
                self._note(label)
                return

    def _member(self, kind: _Type, label: list[str], name: str) -> _Type:
        where = ".".join(label) or "this value"
        if isinstance(kind, dict):
            if name not in kind:
                raise ConditionError(
                    f"'{where}.{name}' is not a field of the case view; "
                    f"'{where}' has: {', '.join(sorted(kind))}"
                )
            return kind[name]
        if isinstance(kind, ListOf):
            raise ConditionError(
                f"'{where}' is a list: use a macro such as {where}.exists(x, x.{name} ...) "
                f"to read '{name}' of its items"
            )
        if isinstance(kind, Leaf) and kind.type != "any":
            raise ConditionError(f"'{where}' is a {kind.type}; it has no '{name}'")
        return None

    def _method(self, scope: dict[str, Node], kind: _Type, label: list[str], name: str) -> _Type:
        self._note(label)
        self.fact = False
        if name in _MACROS and self._peek()[:1].isalpha() and self._peek(1) == ",":
            variable = self._peek()
            self.position += 2
            is_list = isinstance(kind, ListOf | _LiteralList) or (
                isinstance(kind, Leaf) and kind.type.startswith("list")
            )
            if not is_list and kind is not None:
                where = ".".join(label) or "this value"
                raise ConditionError(f"'{where}' is not a list, so it has no items to test")
            item: Node = kind.item if isinstance(kind, ListOf) else _ANY
            self._arguments({**scope, variable: item}, ")")
            if name == "filter":
                return kind
            return None if name == "map" else Leaf("bool", "")
        self._arguments(scope, ")")
        return None

    def _note(self, label: list[str]) -> None:
        """Cite a chain that starts at a documented root (not a macro variable)."""
        if label and self.fact:
            fact = ".".join(label)
            if fact not in self.facts:
                self.facts.append(fact)


def display_value(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, list):
        return f"{len(value)} recorded"
    if isinstance(value, dict):
        return "recorded"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class EvaluationContext:
    """One case view, ready for any number of evaluations."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view
        self.cel_context = cel.Context(variables=view)

    def with_roots(self, **roots: Any) -> EvaluationContext:
        return EvaluationContext({**self.view, **roots})

    def value_at(self, path: str) -> Any:
        value: Any = self.view
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def cite(self, facts: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(path, display_value(self.value_at(path))) for path in facts]
