"""Small records the whole application shares."""

from __future__ import annotations

from django.db import models


class SpentFormToken(models.Model):
    """A one-time form token that has been used (see casework.frontend.once): the unique
    key makes a second submission of the same form fail inside its own transaction, so
    nothing is written twice even when two posts race."""

    token = models.CharField(max_length=64, unique=True)
    spent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Form token spent at {self.spent_at:%Y-%m-%d %H:%M}"
