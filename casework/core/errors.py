"""Errors a user can cause, carried from services to views and the API in plain English.

A service refuses bad input by raising `InvalidInput` with every problem it found, each tied to
the field it concerns, so a form can show a GOV.UK error summary that links to the field and
an API can return one problem+json document. The transaction rolls back, so nothing is
half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field, and a sentence saying what to do."""

    field: str | None
    message: str


class ServiceError(Exception):
    """Base for errors raised by services on purpose (never a bug)."""


class InvalidInput(ServiceError):
    """The input cannot be accepted. Every problem found is listed, not only the first."""

    def __init__(self, problems: Iterable[Problem] | str, field: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(field, problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    def by_field(self) -> dict[str | None, list[str]]:
        grouped: dict[str | None, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem.message)
        return grouped


class NotPermitted(ServiceError):
    """The actor may see the record but their role does not allow this action."""


class NotFound(ServiceError):
    """The record does not exist, or the actor may not see it (the two are not told apart)."""


class Conflict(ServiceError):
    """The record changed under the actor (e.g. two managers acting at once)."""


class ProblemCollector:
    """Collects problems while a service checks its input, then raises them all at once."""

    def __init__(self) -> None:
        self._problems: list[Problem] = []

    def add(self, field: str | None, message: str) -> None:
        self._problems.append(Problem(field, message))

    def check(self, condition: bool, field: str | None, message: str) -> None:
        """Record `message` against `field` unless `condition` holds."""
        if not condition:
            self.add(field, message)

    def __bool__(self) -> bool:
        return bool(self._problems)

    def raise_if_any(self) -> None:
        if self._problems:
            raise InvalidInput(self._problems)
