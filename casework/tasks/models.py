"""Deadlines as data (X-03) and in-app notifications.

A task is a row with a due date computed in working days from the event a policy pack
names, assigned to a role in a team (and optionally a person). `key` makes creating one
idempotent: the same event never creates the same task twice.
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

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient"], name="notify_once"),
        ]

    def __str__(self) -> str:
        return self.message[:60]
