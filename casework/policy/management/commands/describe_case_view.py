"""`manage.py describe_case_view [--vocabulary]`: the case-view reference as Markdown.

Generated from `CASE_VIEW` (every field a condition can read, with its type and meaning) and,
with `--vocabulary`, from the closed vocabularies a pack may use: events, routing triggers,
pre-fill sources, retention triggers, roles, meeting kinds, national closure codes, and the
fixed values of the format itself (step kinds, field types and the other `Literal` keys of
`casework/policy/schema.py`). `docs/policy-packs.md` embeds this output between markers,
and a test keeps the two identical.
"""

from __future__ import annotations

import types
from argparse import ArgumentParser
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django.conf import settings
from django.core.management.base import BaseCommand
from pydantic import BaseModel

from casework.cases.models import MeetingKind
from casework.core.codes import CLD_EVENT_OUTCOMES, CinClosureReason
from casework.organisation.models import Role
from casework.policy.caseview import CASE_VIEW, Leaf, ListOf, Node
from casework.policy.schema import FieldType, PackFile, StepKind
from casework.policy.vocabulary import (
    EVENTS,
    PREFILL_SOURCES,
    RETENTION_TRIGGERS,
    ROUTING_TRIGGERS,
)

# What each step kind and form field type means to the people using Casework. The format
# defines the names (schema.StepKind, schema.FieldType); a test checks each has a meaning.
STEP_KIND_MEANINGS: dict[str, str] = {
    "propose": "Someone proposes the closure and gives a reason.",
    "discuss": "A discussion is held and recorded.",
    "decide": "A manager records a decision.",
    "form": "Someone completes a form. Name it in `form`.",
    "checklist": "Someone works through a checklist. Name it in `checklist`.",
    "meeting": "A meeting is held and recorded. Name its `meeting_kind`.",
    "authorise": "A manager authorises the work so far.",
    "sign": "The roles listed in `signatures` sign the summary, which is then locked.",
    "share": "A document is shared, and who it went to, when and how is recorded.",
    "archive": "The record is archived under the retention schedule.",
    "assess": "An assessment is completed.",
    "task": "Any other piece of work is done and recorded.",
}

FIELD_TYPE_MEANINGS: dict[str, str] = {
    "text": "Free text.",
    "yes_no": "Yes or no.",
    "yes_no_na": "Yes, no or not applicable.",
    "date": "A date.",
    "people": "A list of people, for example the household.",
    "agencies": "A list of professionals and agencies.",
    "number": "A whole number.",
    "choice": "One of the values listed in `options`.",
    "score": "A score, for example on a scale of 0 to 10.",
}

_TYPE_WORDS: dict[str, str] = {
    "bool": "true or false",
    "int": "a whole number",
    "string": "text, compared with quotes: `case.team == 'sgcp'`",
    "timestamp": "a date (midnight UTC); compare it with another date or `now`",
    "list<string>": "a list of text values, tested with `in`: `'high_risk' in case.risk_flags`",
    "list": "a list of records, read with a macro: `visits.exists(v, v.seen)`",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    heads = list(headers)
    lines = ["| " + " | ".join(heads) + " |", "| " + " | ".join("---" for _ in heads) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _field_rows(path: str, node: Node) -> Iterator[tuple[str, str, str, str]]:
    """(path, type, nullable, meaning) for `node` and everything under it."""
    if isinstance(node, Leaf):
        yield f"`{path}`", f"`{node.type}`", "yes" if node.nullable else "no", node.doc
    elif isinstance(node, ListOf):
        yield f"`{path}[]`", "`list`", "no", node.doc
        for name, child in node.item.items():
            yield from _field_rows(f"{path}[].{name}", child)
    else:
        for name, child in node.items():
            yield from _field_rows(f"{path}.{name}", child)


def _types_used() -> list[str]:
    """The types that appear in the case view, in the order `_TYPE_WORDS` explains them."""
    used = {
        row[1].strip("`") for root, node in CASE_VIEW.items() for row in _field_rows(root, node)
    }
    order = list(_TYPE_WORDS)
    return sorted(used, key=lambda t: (order.index(t) if t in order else len(order), t))


def case_view_markdown() -> list[str]:
    lines = [
        "## Case view reference",
        "",
        "Conditions can read these fields and no others. The loader rejects a condition that",
        "names any other field. Each table is one section of the case view.",
        "",
        "- A path such as `case.team` is read as it is written.",
        "- A path ending in `[]`, such as `visits[]`, is a list of records. Read the fields of",
        "  its records with a macro: `visits.exists(v, v.seen_alone)` reads `visits[].seen_alone`.",
        "- A field marked nullable is null when the record has no such date. Check the fact",
        "  that guards it before comparing it, for example",
        "  `plans.cp.ended && visits.exists(v, v.date > plans.cp.last_ended_on)`.",
        "",
        "The types are:",
        "",
        *_table(
            ["type", "what it holds"],
            [(f"`{t}`", _TYPE_WORDS.get(t, "Not yet described.")) for t in _types_used()],
        ),
    ]
    for root, node in CASE_VIEW.items():
        lines += ["", f"### `{root}`", ""]
        if isinstance(node, ListOf):
            lines += [node.doc, ""]
        lines += _table(["field", "type", "nullable", "meaning"], _field_rows(root, node))
    return lines


def _literal_paths(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every key under `model` whose value is one of a fixed set (a `Literal`)."""
    for name, info in model.model_fields.items():
        key = info.alias or name
        yield from _literals_in(info.annotation, f"{prefix}.{key}" if prefix else key)


def _literals_in(annotation: Any, path: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    origin = get_origin(annotation)
    if origin is Literal:
        yield path, get_args(annotation)
    elif origin is Annotated:
        yield from _literals_in(get_args(annotation)[0], path)
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from _literals_in(arg, path)
    elif origin is list:
        yield from _literals_in(get_args(annotation)[0], f"{path}[]")
    elif origin is dict:
        yield from _literals_in(get_args(annotation)[1], f"{path}.<id>")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _literal_paths(annotation, path)


def _named(mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(f"`{name}`", meaning) for name, meaning in mapping.items()]


def vocabulary_markdown() -> list[str]:
    lines = [
        "## Vocabulary reference",
        "",
        "A pack can only use these names. The loader rejects any other.",
        "",
        "### Events",
        "",
        "Events start timescales (`due.from`) and trigger notifications (`event`).",
        "",
        *_table(["event", "meaning"], _named(EVENTS)),
        "",
        "### Routing triggers",
        "",
        "The situations a routing rule answers (`trigger`).",
        "",
        *_table(["trigger", "meaning"], _named(ROUTING_TRIGGERS)),
        "",
        "### Pre-fill sources",
        "",
        "What a form field can be filled with from the record (`prefill`).",
        "",
        *_table(["source", "what it fills in"], _named(PREFILL_SOURCES)),
        "",
        "### Retention triggers",
        "",
        "The date a retention period runs from (`trigger`).",
        "",
        *_table(["trigger", "meaning"], _named(RETENTION_TRIGGERS)),
        "",
        "### Roles",
        "",
        "Who does a step, receives a notification or a task, signs, agrees or decides",
        "(`role`, `roles`, `signatures`, `decided_by`, `authorised_by`, `accepted_by`).",
        "",
        *_table(["role", "shown as"], [(f"`{r.value}`", str(r.label)) for r in Role]),
        "",
        "### Meeting kinds",
        "",
        "The kinds of meeting a step or protocol can name (`meeting_kind`). Conditions compare",
        "`meetings[].kind` with the same values.",
        "",
        *_table(
            ["meeting kind", "shown as"], [(f"`{m.value}`", str(m.label)) for m in MeetingKind]
        ),
        "",
        "### Step kinds",
        "",
        "What a closure step is (`kind`).",
        "",
        *_table(
            ["kind", "meaning"],
            [
                (f"`{kind}`", STEP_KIND_MEANINGS.get(kind, "Not yet described."))
                for kind in get_args(StepKind)
            ],
        ),
        "",
        "### Form field types",
        "",
        "What a form field holds (`type`).",
        "",
        *_table(
            ["type", "meaning"],
            [
                (f"`{kind}`", FIELD_TYPE_MEANINGS.get(kind, "Not yet described."))
                for kind in get_args(FieldType)
            ],
        ),
        "",
        "### Other fixed values",
        "",
        "Every key of the format that takes one of a fixed set of values.",
        "",
        *_table(
            ["key", "allowed values"],
            [
                (f"`{path}`", ", ".join(f"`{value}`" for value in values))
                for path, values in _literal_paths(PackFile, "")
            ],
        ),
        "",
        "### National closure codes",
        "",
        "A closure reason's `national_code` must come from the code set the pack names in",
        "`national_codes.closure_code_set`.",
        "",
        "`cin_reason_for_closure` (children's services, the Children in Need census):",
        "",
        *_table(["code", "meaning"], [(f"`{c.value}`", str(c.label)) for c in CinClosureReason]),
        "",
        "`cld_event_outcome` (adults' services, Client Level Data event outcomes; write the",
        "code exactly as shown):",
        "",
        *_table(["code"], [(f"`{code}`",) for code in CLD_EVENT_OUTCOMES]),
    ]
    return lines


def describe(*, vocabulary: bool) -> str:
    command = "manage.py describe_case_view" + (" --vocabulary" if vocabulary else "")
    lines = [
        f"<!-- Generated by `{command}`: do not edit by hand. -->",
        "",
        *case_view_markdown(),
    ]
    if vocabulary:
        lines += ["", *vocabulary_markdown()]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the case-view reference (and with --vocabulary, the pack vocabulary) as Markdown."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--vocabulary",
            action="store_true",
            help="Also list events, triggers, pre-fill sources, roles, kinds and codes.",
        )
        parser.add_argument(
            "--update-guide",
            action="store_true",
            help="Rewrite the reference in docs/policy-packs.md (implies --vocabulary).",
        )

    def handle(self, *args: Any, vocabulary: bool, update_guide: bool, **options: Any) -> None:
        if not update_guide:
            self.stdout.write(describe(vocabulary=vocabulary), ending="")
            return
        guide = Path(settings.BASE_DIR) / "docs" / "policy-packs.md"
        start, end = "<!-- case-view:start -->", "<!-- case-view:end -->"
        text = guide.read_text(encoding="utf-8")
        before, rest = text.split(start)
        _, after = rest.split(end)
        reference = describe(vocabulary=True).strip()
        guide.write_text(f"{before}{start}\n{reference}\n{end}{after}", encoding="utf-8")
        self.stdout.write(f"Updated the reference in {guide}")
