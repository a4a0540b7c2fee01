"""X-06: `manage.py check_pack` lets a council's systems team validate pack files before
binding them: every problem listed, each naming the file, the place, what is wrong and what
is expected, and a failing exit when anything is wrong."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings as SettingsWrapper

from casework.policy.loader import BUILT_IN_PACKS, PackRegistry


def _built_in_ids() -> list[str]:
    return sorted(PackRegistry.from_directories([BUILT_IN_PACKS]).raw)


def _copy(folder: Path, pack_id: str, **changes: Any) -> Path:
    raw = yaml.safe_load((BUILT_IN_PACKS / f"{pack_id}.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    path = folder / f"{raw['pack']}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _broken_000(folder: Path) -> Path:
    """A copy of 000-closing-cases with three independent mistakes."""
    raw = yaml.safe_load((BUILT_IN_PACKS / "000-closing-cases.yaml").read_text(encoding="utf-8"))
    raw["closure"]["steps"][1]["role"] = "team_manger"
    raw["closure"]["steps"][1]["due"]["working_days"] = -3
    raw["gates"]["not-looked-after"]["require"] = "subject.agee > 17"
    path = folder / "000-closing-cases.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_x06_check_pack_without_paths_passes_every_built_in_pack() -> None:
    """X-06: with no paths, check_pack checks every built-in pack, prints an OK line naming
    each file and pack, writes nothing to stderr, and exits normally."""
    out, err = io.StringIO(), io.StringIO()
    call_command("check_pack", stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    ids = _built_in_ids()
    assert len(lines) == len(ids)
    for pack_id, line in zip(ids, lines, strict=True):
        assert line.startswith(f"OK {BUILT_IN_PACKS / f'{pack_id}.yaml'}: {pack_id} ")
        assert "conditions compiled" in line
    assert err.getvalue() == ""


def test_x06_check_pack_passes_a_valid_copy(tmp_path: Path) -> None:
    """X-06: a valid pack file outside the built-in folder passes, naming that file."""
    path = _copy(tmp_path, "003-ending-interventions", title="Ending Interventions (our copy)")
    out = io.StringIO()
    call_command("check_pack", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith(
        f"OK {path}: 003-ending-interventions – Ending Interventions (our copy) ("
    )


def test_x06_check_pack_reports_every_problem_in_a_broken_file(tmp_path: Path) -> None:
    """X-06: a broken file fails with CommandError ("have problems", nothing changed) and
    stderr lists every problem in it as FILE: PATH: MESSAGE (expected ...)."""
    path = _broken_000(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 pack file\\(s\\) have problems; nothing was changed"):
        call_command("check_pack", str(path), stdout=out, stderr=err)
    report = err.getvalue()
    assert f"FAILED {path}: 3 problem(s)" in report
    assert f"  - {path}: closure.steps[1](discuss-and-agree).role: 'team_manger' is not" in report
    assert (
        f"  - {path}: closure.steps[1](discuss-and-agree).due.working_days: -3 is too small "
        "(expected a number 0 or more)"
    ) in report
    assert f"  - {path}: gates.not-looked-after.require: condition 'subject.agee > 17'" in report
    assert "OK" not in out.getvalue()


def test_x06_check_pack_checks_each_file_and_reports_only_the_broken_one(tmp_path: Path) -> None:
    """X-06: given a valid file and a broken one, check_pack passes the first, fails the
    second, and counts one failed file."""
    good_folder, bad_folder = tmp_path / "good", tmp_path / "bad"
    good_folder.mkdir()
    bad_folder.mkdir()
    good = _copy(good_folder, "001-closure-record")
    bad = _broken_000(bad_folder)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="^1 pack file"):
        call_command("check_pack", str(good), str(bad), stdout=out, stderr=err)
    assert out.getvalue().startswith(f"OK {good}: 001-closure-record")
    assert f"FAILED {bad}: 3 problem(s)" in err.getvalue()
    assert str(good) not in err.getvalue()


def test_x06_check_pack_reports_invalid_yaml_with_its_line(tmp_path: Path) -> None:
    """X-06: a file that is not YAML fails, and stderr gives the line and column."""
    path = tmp_path / "broken.yaml"
    path.write_text("pack: broken\ntitle: Broken\n  implements: indented by mistake\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="have problems"):
        call_command("check_pack", str(path), stdout=io.StringIO(), stderr=err)
    assert f"FAILED {path}: 1 problem(s)" in err.getvalue()
    assert f"{path}: line 3, column 13: is not valid YAML" in err.getvalue()


def test_x06_check_pack_checks_extends_against_the_other_files_given(tmp_path: Path) -> None:
    """X-06: a file extending a pack that exists nowhere fails naming the unknown pack."""
    path = _copy(tmp_path, "001-closure-record", extends=["childrens-common"])
    err = io.StringIO()
    with pytest.raises(CommandError, match="have problems"):
        call_command("check_pack", str(path), stdout=io.StringIO(), stderr=err)
    assert f"{path}: extends[0]: names unknown pack 'childrens-common'" in err.getvalue()


def test_x06_check_pack_refuses_a_path_that_does_not_exist(tmp_path: Path) -> None:
    """X-06: a path that is not a file is refused with a clear CommandError naming it, before
    anything is checked."""
    missing = tmp_path / "no-such-pack.yaml"
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check_pack", str(missing), stdout=out, stderr=io.StringIO())
    assert str(caught.value) == f"No such file: {missing}"
    assert out.getvalue() == ""


def test_x06_check_pack_without_paths_reports_a_broken_file_in_a_configured_folder(
    tmp_path: Path, settings: SettingsWrapper
) -> None:
    """X-06: with no paths, check_pack checks the configured pack folders as well as the
    built-in one (it prints OK for a valid council pack there), so a file there that is not
    valid YAML fails the command and is reported, rather than being skipped in silence."""
    good = _copy(tmp_path, "003-ending-interventions", pack="our-ending", title="Our ending")
    broken = tmp_path / "our-closure.yaml"
    broken.write_text("pack: our-closure\ntitle: Ours\n  implements: indented by mistake\n")
    settings.CASEWORK_PACK_DIRS = [str(tmp_path)]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="have problems"):
        call_command("check_pack", stdout=out, stderr=err)
    assert f"OK {good}: our-ending" in out.getvalue()
    assert f"{broken}: line 3, column 13: is not valid YAML" in err.getvalue()
