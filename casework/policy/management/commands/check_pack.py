"""`manage.py check_pack PATH...`: validate policy-pack files without binding them.

Each file is checked on its own and after merging the packs it extends (found among the
built-in packs, the configured folders and the other files given). Every problem is listed,
each naming the file, the place inside it, what is wrong and what is expected. Exits 1 if
any file has a problem."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casework.policy.loader import PackError, PackRegistry, pack_directories


class Command(BaseCommand):
    help = "Validate policy-pack YAML files and list every problem found."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "paths", nargs="*", type=Path, help="Pack files (default: all built-in)"
        )

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        registry = PackRegistry.from_directories(pack_directories())
        if paths:
            missing = [str(p) for p in paths if not p.is_file()]
            if missing:
                raise CommandError(f"No such file: {', '.join(missing)}")
            registry.problems = [p for p in registry.problems if Path(p.file) not in paths]
            targets = [(str(p), registry.add_file(p)) for p in paths]
        else:
            targets = [(registry.files[i], i) for i in sorted(registry.raw)]
            unreadable = sorted({p.file for p in registry.problems} - set(registry.files.values()))
            targets += [(file, None) for file in unreadable]
        failed = 0
        for file, pack_id in targets:
            file_problems = [p for p in registry.problems if p.file == file]
            if pack_id is None or file_problems:
                failed += 1
                self._report(file, file_problems)
                continue
            try:
                # Each file is judged on its own here; unreadable files are reported too.
                pack = registry.load(pack_id, refuse_if_any_unreadable=False)
            except PackError as error:
                failed += 1
                self._report(file, error.problems)
                continue
            self.stdout.write(
                f"OK {file}: {pack.id} – {pack.spec.title} "
                f"({len(pack.conditions)} conditions compiled)"
            )
        if failed:
            raise CommandError(f"{failed} pack file(s) have problems; nothing was changed.")

    def _report(self, file: str, problems: list[Any]) -> None:
        self.stderr.write(f"FAILED {file}: {len(problems)} problem(s)")
        for problem in problems:
            self.stderr.write(f"  - {problem}")
