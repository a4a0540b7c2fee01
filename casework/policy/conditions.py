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
_CHAIN = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)(\s*\()?")
_MACRO = re.compile(
    r"(\]|[A-Za-z_][\w.]*)\s*\.\s*(?:exists|all|exists_one|filter|map)\s*\(\s*([A-Za-z_]\w*)\s*,"
)
_KEYWORDS = {"true", "false", "null", "in"}
_GLOBAL_FUNCTIONS = {
    "size",
    "has",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "timestamp",
    "duration",
    "type",
    "dyn",
    "matches",
}


class ConditionError(ValueError):
    """An expression that cannot be used: it does not parse or reads an unknown field."""


def _describe(node: Node) -> str:
    if isinstance(node, Leaf):
        return node.type
    if isinstance(node, ListOf):
        return "list"
    return "record with fields " + ", ".join(sorted(node))


def _walk(schema: dict[str, Node], root: str, parts: list[str], source: str) -> Node:
    node: Node = schema[root]
    walked = [root]
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                raise ConditionError(
                    f"'{'.'.join([*walked, part])}' is not a field of the case view; "
                    f"'{'.'.join(walked)}' has: {', '.join(sorted(node))}"
                )
            node = node[part]
        elif isinstance(node, ListOf):
            raise ConditionError(
                f"'{'.'.join(walked)}' is a list: use a macro such as "
                f"{'.'.join(walked)}.exists(x, x.{part} ...) to read '{part}' of its items"
            )
        else:
            raise ConditionError(f"'{'.'.join(walked)}' is a {node.type}; it has no '{part}'")
        walked.append(part)
    return node


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
    stripped = _STRING_LITERAL.sub("''", source)
    bound: dict[str, dict[str, Node]] = {}
    for receiver, variable in _MACRO.findall(stripped):
        if receiver == "]":
            # A macro over a literal list, e.g. ['a', 'b'].exists(f, f in case.risk_flags).
            bound[variable] = {variable: Leaf("any", "an item of a literal list")}
            continue
        parts = [p.strip() for p in receiver.split(".")]
        root = parts[0]
        container = bound.get(root)
        if container is not None:
            node = _walk(container, root, parts[1:], source)
        elif root in schema:
            node = _walk(schema, root, parts[1:], source)
        else:
            raise ConditionError(f"unknown name '{root}'")
        if not isinstance(node, ListOf):
            raise ConditionError(f"'{receiver}' is not a list, so it has no items to test")
        bound[variable] = {variable: node.item}
    facts: list[str] = []
    for match in _CHAIN.finditer(stripped):
        chain, call = match.group(1), match.group(2)
        parts = [p.strip() for p in chain.split(".")]
        if call:
            parts = parts[:-1]  # the last name is a function or macro being called
        if not parts or parts[0] in _KEYWORDS:
            continue
        root = parts[0]
        if root in bound:
            _walk(bound[root], root, parts[1:], source)
            continue
        if len(parts) == 1 and root in _GLOBAL_FUNCTIONS:
            continue
        if root not in schema:
            raise ConditionError(
                f"unknown name '{root}': conditions can read {', '.join(sorted(schema))}"
            )
        _walk(schema, root, parts[1:], source)
        path = ".".join(parts)
        if path not in facts:
            facts.append(path)
    return Condition(source=source, program=program, facts=tuple(facts))


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
