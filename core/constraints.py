"""Database constraints that several apps' models share."""

from __future__ import annotations

from django.db import models


def choices_check(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """A CHECK that field holds one of choices' values, so that the database refuses what the form would."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)
