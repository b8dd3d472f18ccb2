"""The append-only activity log."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from catalog.models import ModelVersion, RegisteredModel, Stage
from core import clock

MAX_COMMENT = 5_000


class Verb(models.TextChoices):
    MODEL_REGISTERED = "model_registered", "registered the model"
    MODEL_EDITED = "model_edited", "edited the model"
    VERSION_REGISTERED = "version_registered", "registered the version"
    VERSION_EDITED = "version_edited", "edited the version"
    COLLABORATOR_ADDED = "collaborator_added", "added a collaborator"
    COLLABORATOR_REMOVED = "collaborator_removed", "removed a collaborator"
    STAGE_CHANGE_REQUESTED = "stage_change_requested", "requested a stage change"
    STAGE_CHANGE_APPROVED = "stage_change_approved", "approved a stage change"
    STAGE_CHANGE_REJECTED = "stage_change_rejected", "rejected a stage change"
    STAGE_CHANGE_CANCELLED = "stage_change_cancelled", "cancelled a stage change request"
    STAGE_CHANGED = "stage_changed", "changed the stage"
    LOCK_CHANGED = "lock_changed", "changed the lock level"
    POLICY_CHANGED = "policy_changed", "changed the approval policy"
    COMMENTED = "commented", "commented"
    ALIAS_SET = "alias_set", "set an alias"
    ALIAS_DELETED = "alias_deleted", "removed an alias"
    TOKEN_CREATED = "token_created", "created an API token"
    TOKEN_REVOKED = "token_revoked", "revoked an API token"


# Kinds of event grouped for the activity page's filter, in the order a reader scans them.
VERB_GROUPS: list[tuple[str, list[Verb]]] = [
    (
        "Stage changes",
        [
            Verb.STAGE_CHANGE_REQUESTED,
            Verb.STAGE_CHANGE_APPROVED,
            Verb.STAGE_CHANGE_REJECTED,
            Verb.STAGE_CHANGE_CANCELLED,
            Verb.STAGE_CHANGED,
        ],
    ),
    (
        "Versions",
        [
            Verb.VERSION_REGISTERED,
            Verb.VERSION_EDITED,
            Verb.LOCK_CHANGED,
            Verb.ALIAS_SET,
            Verb.ALIAS_DELETED,
            Verb.COMMENTED,
        ],
    ),
    (
        "Models",
        [
            Verb.MODEL_REGISTERED,
            Verb.MODEL_EDITED,
            Verb.COLLABORATOR_ADDED,
            Verb.COLLABORATOR_REMOVED,
            Verb.POLICY_CHANGED,
        ],
    ),
    ("Account", [Verb.TOKEN_CREATED, Verb.TOKEN_REVOKED]),
]

# Events about a user's account rather than a model: their entries have no model, and only the actor and
# superusers see them.
ACCOUNT_VERBS = frozenset({Verb.TOKEN_CREATED, Verb.TOKEN_REVOKED})


# Stage changes into or out of Production. Queries repeat this condition word for word, so that SQLite, which does
# not reason about an OR, sees that they may use the partial index made with it.
PRODUCTION_MOVES = models.Q(verb="stage_changed") & (
    models.Q(to_stage="production") | models.Q(from_stage="production")
)


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an activity entry."""


class ActivityEntryQuerySet(models.QuerySet["ActivityEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Activity entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Activity entries cannot be deleted.")


class ActivityEntry(models.Model):
    created_at = models.DateTimeField(default=clock.now)
    # PROTECT: deleting a user or a model that has history is refused, so no entry loses its actor or subject.
    # The composite indexes below lead with each of these columns, so the foreign keys need none of their own.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    verb = models.CharField(max_length=40, choices=Verb.choices)
    # None for account events (ACCOUNT_VERBS), which concern no model.
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, null=True, blank=True, related_name="activity", db_index=False
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="activity", db_index=False
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    comment = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)

    objects = ActivityEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activity entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(verb__in=Verb.values), name="activity_verb_valid"),
        ]
        indexes = [
            models.Index(fields=["model", "-created_at", "-id"], name="activity_model_time_idx"),
            models.Index(fields=["version", "-created_at", "-id"], name="activity_version_time_idx"),
            models.Index(fields=["-created_at", "-id"], name="activity_time_idx"),
            models.Index(fields=["actor", "-created_at", "-id"], name="activity_actor_time_idx"),
            models.Index(fields=["verb", "-created_at", "-id"], name="activity_verb_time_idx"),
            models.Index(fields=["to_stage", "-created_at", "-id"], name="activity_stage_time_idx"),
            # Stage timelines and "as of" answers read only a version's stage changes.
            models.Index(
                fields=["version", "-created_at", "-id"],
                condition=models.Q(verb="stage_changed"),
                name="activity_version_moves_idx",
            ),
            # The home chart and lead time read only moves into or out of Production.
            models.Index(fields=["created_at"], condition=PRODUCTION_MOVES, name="activity_production_moves_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_verb_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    # Guards, not behaviour: the log is append-only (see record_activity for the one writer).
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Activity entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Activity entries cannot be deleted.")
