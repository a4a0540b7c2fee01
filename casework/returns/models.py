"""Export jobs: a statutory return or data export asked for on the Exports page, run in the
background by the task worker, with its progress, the problems found and the file it made.

Rows are written only by `casework.returns.jobs` (the request is audited; the worker claims a
job with a conditional UPDATE so it runs once). The file lives in a private storage that has
no URL: it is only ever served by the access-checked download view.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


@deconstructible
class PrivateStorage(FileSystemStorage):
    """`MEDIA_ROOT/private/`: files that are never served by URL, only through a view that
    checks who is asking."""

    def __init__(self) -> None:
        super().__init__()

    @cached_property
    def base_location(self) -> str:
        return os.path.join(settings.MEDIA_ROOT, "private")

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL: serve them through an access-checked view.")


private_storage = PrivateStorage()


class ExportState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


FINISHED_STATES = (ExportState.DONE, ExportState.FAILED)
STALLED = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ExportProblem:
    """One thing a data officer should fix before submitting: whose record, which field, and
    what to do (the shape of each entry in `ExportJob.problems`)."""

    person: str
    field: str
    message: str
    case_reference: str = ""
    case_id: int | None = None
    rule: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportProblem:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class ExportJob(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    authority = models.ForeignKey(
        "organisation.Authority", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=40, help_text="The export's slug in the registry.")
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=ExportState.choices, default=ExportState.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Unknown until the export starts writing."
    )
    file = models.FileField(
        upload_to="exports/%Y/%m/", storage=private_storage, blank=True, max_length=200
    )
    problems = models.JSONField(
        default=list, blank=True, help_text="ExportProblem entries, for a data officer."
    )
    # Kept beside the list so that listing jobs need not load every job's problems.
    problem_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why it failed, in plain English.")
    task_id = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"])]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.kind}, {self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def waiting_too_long(self) -> bool:
        """Queued for over five minutes: the worker may not be running."""
        return self.state == ExportState.QUEUED and timezone.now() - self.requested_at > STALLED

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.state == ExportState.DONE else 0
        return min(100, self.progress_done * 100 // self.progress_total)

    def problem_list(self) -> list[ExportProblem]:
        return [ExportProblem.from_json(p) for p in self.problems]
