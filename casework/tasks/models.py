"""Deadlines as data (X-03) and notifications.

A task is a row with a due date computed in working days from the event a policy pack
names, assigned to a role in a team (and optionally a person). `key` makes creating one
idempotent: the same event never creates the same task twice.

The deadline sweep records each stage it has acted on (`TaskAlert`: reminder, due, overdue)
once per task, under a unique constraint, so a sweep that runs twice (or two sweeps that
run at once) tells nobody anything twice. `ScheduledSweep` does the same for the scheduler:
one background run per sweep per time slot.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.organisation.models import Role, Team


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(models.Model):
    key = models.CharField(max_length=200, unique=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    title = models.CharField(max_length=300)
    role = models.CharField(max_length=40, choices=Role.choices)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    due_on = models.DateField(null=True, blank=True)
    due_rule = models.CharField(
        max_length=200,
        blank=True,
        help_text="How the due date was set, e.g. '15 working "
        "days from closure.proposed (pack 000-closing-cases)'.",
    )
    requirement = models.CharField(max_length=10, blank=True)
    escalate_to = models.CharField(
        max_length=40,
        choices=Role.choices,
        blank=True,
        help_text="Who is told when the task is overdue (the role the procedure names).",
    )
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["team", "role", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False) | ~Q(status="done"),
                name="done_task_has_completion_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    key = models.CharField(max_length=200)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=60)
    message = models.TextField()
    requirement = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the email copy went to the mail server; empty if the recipient has "
        "no email address or sending failed (the failure is logged).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient"], name="notify_once"),
        ]
        # The unread count is shown in the header of every page.
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message[:60]


class AlertStage(models.TextChoices):
    REMINDER = "reminder", "Reminder before the due date"
    DUE = "due", "Due today"
    OVERDUE = "overdue", "Overdue (and escalated if the procedure names a role)"


class TaskAlert(models.Model):
    """A deadline sweep acted on this stage of this task. Inserted before anyone is told,
    in the same transaction, so the unique constraint is what makes telling them once
    race-safe."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="alerts")
    stage = models.CharField(max_length=20, choices=AlertStage.choices)
    on = models.DateField(help_text="The day the sweep acted for.")
    created_at = models.DateTimeField(auto_now_add=True)
    notified = models.PositiveIntegerField(
        default=0, help_text="How many people doing the task were told."
    )
    escalated = models.PositiveIntegerField(
        default=0, help_text="How many holders of the escalation role were told."
    )

    class Meta:
        ordering = ["task", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "stage"], name="alert_once_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.task} – {self.get_stage_display()}"


class ScheduledSweep(models.Model):
    """The scheduler enqueued `sweep` for the time slot starting at `slot`. One row per sweep
    and slot, so two schedulers (or a cron job overlapping a long-running one) enqueue it
    once."""

    sweep = models.CharField(max_length=60)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "slot"], name="sweep_once_per_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep} at {self.slot:%Y-%m-%d %H:%M}"
