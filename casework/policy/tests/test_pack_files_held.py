"""X-06: a council edits its procedure by editing its pack file. The next request uses the
edit; a request already running keeps the procedure it began with."""

from __future__ import annotations

import os
from pathlib import Path

from pytest_django.fixtures import Settings as SettingsWrapper

from casework.policy.loader import BUILT_IN_PACKS, load_pack, pack_files_held

PACK = "000-closing-cases"


def _council_copy(folder: Path, label: str) -> Path:
    """The built-in pack as a council's own, with its first reason relabelled."""
    text = (BUILT_IN_PACKS / f"{PACK}.yaml").read_text(encoding="utf-8")
    copy = folder / f"{PACK}.yaml"
    copy.write_text(text.replace("label: Adopted,", f"label: {label},", 1), encoding="utf-8")
    return copy


def _first_reason() -> str:
    closure = load_pack(PACK).spec.closure
    assert closure is not None
    return closure.reasons[0].label


def test_x06_an_edited_pack_is_used_from_the_next_request_and_never_mid_request(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    copy = _council_copy(tmp_path, "Adopted (council wording)")
    settings.CASEWORK_PACK_DIRS = [str(tmp_path)]
    assert _first_reason() == "Adopted (council wording)"

    def edit(label: str) -> None:
        before = copy.stat().st_mtime_ns
        _council_copy(tmp_path, label)
        os.utime(copy, ns=(before + 10**9, before + 10**9))  # a later modification time

    with pack_files_held():  # one request
        assert _first_reason() == "Adopted (council wording)"
        edit("Adopted (edited)")
        assert _first_reason() == "Adopted (council wording)"  # as the request began
    assert _first_reason() == "Adopted (edited)"  # the next request
    edit("Adopted (edited again)")
    assert _first_reason() == "Adopted (edited again)"  # outside a request: at once
