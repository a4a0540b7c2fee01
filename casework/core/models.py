"""Small records the whole application shares."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction


class SavedWithItsSignals(models.Model):
    """A row whose saving or deleting renews a key another row carries (a closure day, its
    authority's calendar key; a pack binding, its bindings key): the row and what its
    `post_save`/`post_delete` receivers write go in one transaction. In autocommit Django
    sends `post_save` after the INSERT has committed on its own."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with transaction.atomic():
            return super().delete(*args, **kwargs)


class SpentFormToken(models.Model):
    """A one-time form token that has been used (see casework.frontend.once): the unique
    key makes a second submission of the same form fail inside its own transaction, so
    nothing is written twice even when two posts race."""

    token = models.CharField(max_length=64, unique=True)
    spent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Form token spent at {self.spent_at:%Y-%m-%d %H:%M}"
