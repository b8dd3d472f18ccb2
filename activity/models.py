"""The append-only activity log."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from catalog.models import MAX_MODEL_NAME, MAX_VERSION_NAME, ModelVersion, RegisteredModel, Stage

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
    USER_RENAMED = "user_renamed", "renamed a user"
    WEBHOOK_CREATED = "webhook_created", "created a webhook"
    WEBHOOK_CHANGED = "webhook_changed", "changed a webhook"
    WEBHOOK_DELETED = "webhook_deleted", "deleted a webhook"


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
    ("Webhooks", [Verb.WEBHOOK_CREATED, Verb.WEBHOOK_CHANGED, Verb.WEBHOOK_DELETED]),
    ("Account", [Verb.TOKEN_CREATED, Verb.TOKEN_REVOKED, Verb.USER_RENAMED]),
]

# Events about a user's account rather than a model: their entries have no model, and only the actor and
# superusers see them.
ACCOUNT_VERBS = frozenset({Verb.TOKEN_CREATED, Verb.TOKEN_REVOKED, Verb.USER_RENAMED})


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


class DatabaseNow(models.Func):
    """The database's own clock, read at the statement (not the transaction's start, as now() is on PostgreSQL)."""

    template = "clock_timestamp()"
    output_field = models.DateTimeField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # Django stores times on SQLite as text with six digits of the second's fraction; SQLite's clock has three.
        return "(STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW') || '000')", []


class ActivityEntry(models.Model):
    # PostgreSQL stamps the time (activity.db: only the owner role may supply one, to replay history), and
    # record_activity supplies it only while replaying (core.clock.replaying); on SQLite the app supplies it.
    created_at = models.DateTimeField(db_default=DatabaseNow())
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
    # The names as they were when the entry was written: a user renamed later keeps their old name here, and every
    # page and export shows these rather than the live names.
    actor_username = models.CharField(max_length=150, default="", db_default="", blank=True)
    model_name = models.CharField(max_length=MAX_MODEL_NAME, default="", db_default="", blank=True)
    version_name = models.CharField(max_length=MAX_VERSION_NAME, default="", db_default="", blank=True)

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
        return f"{self.actor_username} {self.get_verb_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    # Guards, not behaviour: the log is append-only (see record_activity for the one writer).
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Activity entries cannot be changed.")
        self.name_subjects()  # an entry written without record_activity (a test, a seed) still names its subjects
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Activity entries cannot be deleted.")

    def name_subjects(self) -> None:
        """Fill the names the entry keeps from its actor, model and version, where they are not given."""
        if not self.actor_username:
            self.actor_username = self.actor.get_username()
        if not self.model_name and self.model_id is not None:
            self.model_name = self.model.name  # type: ignore[union-attr]
        if not self.version_name and self.version_id is not None:
            self.version_name = self.version.name  # type: ignore[union-attr]


GENESIS_HASH = "0" * 64


class ChainLink(models.Model):
    """An entry's place in the log's hash chain (activity.chain): written by the database when the entry's
    transaction commits, append-only like the entries.

    seq counts 1, 2, 3… in the order entries were committed; entry_hash is SHA-256 of prev_hash and the entry's
    canonical content. entry_id is a plain number, not a foreign key, so that a deleted entry shows as missing.
    """

    seq = models.BigIntegerField(primary_key=True)
    entry_id = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} entry {self.entry_id} {self.entry_hash[:12]}"


class Verification(models.Model):
    """One run of verify_activity_log: when, how far along the chain, and what it found."""

    checked_at = models.DateTimeField(db_default=DatabaseNow())
    ok = models.BooleanField()
    entries_checked = models.BigIntegerField()
    up_to_seq = models.BigIntegerField(default=0)  # the last chain position found intact
    up_to_entry = models.BigIntegerField(null=True, blank=True)  # that position's entry
    head_hash = models.CharField(max_length=64, blank=True)  # its hash: a checkpoint to copy elsewhere
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        get_latest_by = ["checked_at", "id"]

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'} up to #{self.up_to_seq} ({self.checked_at:%Y-%m-%d %H:%M})"
