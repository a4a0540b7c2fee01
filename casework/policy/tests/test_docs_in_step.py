"""The policy-pack guide (docs/policy-packs.md) cannot drift from the code it describes."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from django.core.management import call_command
from pydantic import BaseModel

from casework.policy.management.commands.describe_case_view import (
    FIELD_TYPE_MEANINGS,
    STEP_KIND_MEANINGS,
)
from casework.policy.schema import FieldType, PackFile, StepKind

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "policy-packs.md"
EXAMPLE = ROOT / "docs" / "examples" / "example-pack.yaml"
START = "<!-- case-view:start -->"
END = "<!-- case-view:end -->"


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _split_guide() -> tuple[str, str]:
    """(the hand-written text, the generated reference between the markers)."""
    text = _guide()
    assert text.count(START) == 1, f"{GUIDE} needs exactly one {START} marker"
    assert text.count(END) == 1, f"{GUIDE} needs exactly one {END} marker"
    before, rest = text.split(START)
    generated, after = rest.split(END)
    return before + after, generated


def test_case_view_reference_is_the_commands_current_output() -> None:
    out = StringIO()
    call_command("describe_case_view", "--vocabulary", stdout=out)
    _, generated = _split_guide()
    assert generated.strip() == out.getvalue().strip(), (
        f"The reference in {GUIDE.name} is out of date. Regenerate the text between "
        f"{START} and {END} with `manage.py describe_case_view --update-guide`."
    )


def test_example_pack_passes_check_pack() -> None:
    """X-06: a council's procedure is a pack validated on load; the guide's worked example
    is a real pack that loads without a problem."""
    out = StringIO()
    call_command("check_pack", str(EXAMPLE), stdout=out, stderr=StringIO())
    assert out.getvalue().startswith(f"OK {EXAMPLE}: larkmoor-closure")


def test_guide_shows_the_example_pack_as_it_is() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") in _guide(), (
        f"The worked example in {GUIDE.name} differs from {EXAMPLE.name}: copy the file in."
    )


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _models_in(get_args(annotation)[0])
    elif origin in (Union, types.UnionType, list, dict):
        for arg in get_args(annotation):
            yield from _models_in(arg)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation


def _schema_keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[tuple[str, str]]:
    """(model name, key as written in YAML) for `model` and every model nested in it."""
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield model.__name__, info.alias or name
        for nested in _models_in(info.annotation):
            yield from _schema_keys(nested, seen)


def test_every_schema_key_is_documented() -> None:
    keys = list(_schema_keys(PackFile, set()))
    assert ("Due", "from") in keys  # aliases are the keys people write
    assert len({model for model, _ in keys}) >= 20  # the walk reached the nested models
    handwritten, _ = _split_guide()
    missing = sorted(
        f"{model}.{key}"
        for model, key in keys
        if not re.search(rf"`{re.escape(key)}(`|:)", handwritten)
    )
    assert not missing, (
        f"Keys of the pack format not explained in {GUIDE.name} (mention each in backticks, "
        f"outside the generated reference): {', '.join(missing)}"
    )


def test_every_step_kind_and_field_type_has_a_meaning() -> None:
    assert set(get_args(StepKind)) == set(STEP_KIND_MEANINGS)
    assert set(get_args(FieldType)) == set(FIELD_TYPE_MEANINGS)
