"""Registered models, their versions, labels and object permissions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core import clock
from core.constraints import choices_check

LABEL_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,49}$"
VERSION_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"

# Limits, enforced by catalog.services (and the database where it can), read by forms, templates and the API.
MAX_MODEL_NAME = 200
MAX_VERSION_NAME = 100
MAX_DESCRIPTION = 10_000
MAX_LABEL = 50
MAX_LABELS = 20
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 100
MAX_ATTRIBUTE_VALUE = 500
MAX_URI = 1000
MIN_APPROVALS, MAX_APPROVALS = 1, 5
# How many of the versions a promotion would archive the request panel names.
ARCHIVE_PREVIEW = 20
MAX_RUN_ID = 100
# Aliases name one version of a model each (MLflow's rules: letters, digits, '_' and '-'); `latest` and `v<n>` are
# taken by MLflow's own model URIs (models:/name/latest, models:/name@v2 would be ambiguous).
ALIAS_PATTERN = r"^[A-Za-z0-9_-]{1,255}$"
MAX_ALIAS = 255
RESERVED_ALIAS_PATTERN = r"^(latest|v\d+)$"


class Stage(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    ARCHIVED = "archived", "Archived"


# The linear lifecycle; a forward move that jumps over entries of this list skips stages.
STAGE_ORDER: tuple[Stage, ...] = (
    Stage.UNASSIGNED,
    Stage.DEVELOPMENT,
    Stage.STAGING,
    Stage.PRODUCTION,
    Stage.ARCHIVED,
)


# Promotions to these stages may archive the versions already there.
ARCHIVE_OTHERS_STAGES: tuple[Stage, ...] = (Stage.STAGING, Stage.PRODUCTION)


def skipped_stages(from_stage: str, to_stage: str) -> list[Stage]:
    """The stages a forward move jumps over; none for a move back, one step, or a move to Archived."""
    if to_stage == Stage.ARCHIVED:
        return []
    start, end = STAGE_ORDER.index(Stage(from_stage)), STAGE_ORDER.index(Stage(to_stage))
    return list(STAGE_ORDER[start + 1 : end])


class LockLevel(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    REDACT = "redact", "Redact"


# From least to most locked: Editors may move a version up this list, only Owners down it.
LOCK_ORDER: tuple[LockLevel, ...] = (LockLevel.OPEN, LockLevel.CLOSED, LockLevel.REDACT)


class TaskType(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    CLUSTERING = "clustering", "Clustering"
    DETECTION = "detection", "Detection"
    REGRESSION = "regression", "Regression"
    TRANSCRIPTION = "transcription", "Transcription"
    TRANSLATION = "translation", "Translation"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class DataType(models.TextChoices):
    AUDIO = "audio", "Audio"
    IMAGE = "image", "Image"
    TABULAR = "tabular", "Tabular"
    TEXT = "text", "Text"
    VIDEO = "video", "Video"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Visibility(models.TextChoices):
    ORGANIZATION = "organization", "Organization (every signed-in user may view)"
    PRIVATE = "private", "Private (collaborators only)"


class Label(models.Model):
    name = models.CharField(
        max_length=MAX_LABEL,
        unique=True,
        validators=[RegexValidator(LABEL_PATTERN, "Use lowercase letters, digits, '.', '_' or '-'.")],
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def stage_count_field(stage: str) -> str:
    """The RegisteredModel column that counts the model's versions in stage."""
    return f"{stage}_count"


class RegisteredModel(models.Model):
    """A registered model.

    The *_count columns hold how many of its versions are in each stage, so that list pages and dashboards
    never aggregate versions; only catalog.services writes them, in the transaction that changes a version.
    """

    name = models.CharField(max_length=MAX_MODEL_NAME)
    # What the name looks like (core.names.skeleton): a new name may not look like an existing one.
    name_skeleton = models.CharField(max_length=4 * MAX_MODEL_NAME, default="", editable=False)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(
        blank=True, max_length=MAX_DESCRIPTION, validators=[MaxLengthValidator(MAX_DESCRIPTION)]
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="models")
    attributes = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models")
    task_type = models.CharField(max_length=20, choices=TaskType.choices, default=TaskType.UNKNOWN)
    data_type = models.CharField(max_length=20, choices=DataType.choices, default=DataType.UNKNOWN)
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.ORGANIZATION)
    required_approvals = models.PositiveSmallIntegerField(
        default=MIN_APPROVALS, validators=[MinValueValidator(MIN_APPROVALS), MaxValueValidator(MAX_APPROVALS)]
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)  # set by catalog.services on every change
    unassigned_count = models.PositiveIntegerField(default=0, editable=False)
    development_count = models.PositiveIntegerField(default=0, editable=False)
    staging_count = models.PositiveIntegerField(default=0, editable=False)
    production_count = models.PositiveIntegerField(default=0, editable=False)
    archived_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "registered model"
        permissions = [
            ("request_stage_change", "Can request stage changes of the model's versions"),
            ("review_stage_change", "Can approve or reject stage change requests"),
            ("manage_registeredmodel", "Can manage collaborators, locks and the approval policy"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="catalog_model_name_ci_unique"),
            choices_check("task_type", TaskType, "catalog_model_task_type_valid"),
            choices_check("data_type", DataType, "catalog_model_data_type_valid"),
            choices_check("visibility", Visibility, "catalog_model_visibility_valid"),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=MIN_APPROVALS, required_approvals__lte=MAX_APPROVALS),
                name="catalog_model_required_approvals_range",
            ),
        ]
        indexes = [
            models.Index(fields=["name"], name="catalog_model_name_idx"),
            models.Index(fields=["name_skeleton"], name="catalog_model_skeleton_idx"),
            models.Index(fields=["-updated_at"], name="catalog_model_updated_idx"),
            models.Index(fields=["-created_at"], name="catalog_model_created_idx"),
            models.Index(fields=["task_type"], name="catalog_model_task_idx"),
            models.Index(fields=["data_type"], name="catalog_model_data_idx"),
            models.Index(fields=["-production_count", "name"], name="catalog_model_prod_idx"),
            models.Index(fields=["staging_count"], name="catalog_model_staging_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:model-detail", kwargs={"slug": self.slug})

    @property
    def version_count(self) -> int:
        return sum(getattr(self, stage_count_field(stage)) for stage in STAGE_ORDER)


class ModelVersion(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="versions")
    name = models.CharField(
        max_length=MAX_VERSION_NAME,
        validators=[
            RegexValidator(
                VERSION_NAME_PATTERN,
                "Start with a letter or digit; then use letters, digits, '.', '_' or '-' (at most 100).",
            )
        ],
    )
    description = models.TextField(
        blank=True, max_length=MAX_DESCRIPTION, validators=[MaxLengthValidator(MAX_DESCRIPTION)]
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="versions")
    attributes = models.JSONField(default=dict, blank=True)
    artifact_uri = models.CharField(max_length=MAX_URI, blank=True)
    source_run_url = models.URLField(max_length=MAX_URI, blank=True)
    run_id = models.CharField(max_length=MAX_RUN_ID, blank=True, help_text="The run that produced it, if any.")
    # 1, 2, 3… per model in order of registration, never reused (versions are never deleted): MLflow's version.
    number = models.PositiveIntegerField(editable=False)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.UNASSIGNED)
    lock_level = models.CharField(max_length=10, choices=LockLevel.choices, default=LockLevel.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registered_versions"
    )
    created_at = models.DateTimeField(default=clock.now)
    # Any change to the version or its stage or lock level; set by the services that make it.
    updated_at = models.DateTimeField(default=clock.now)
    stage_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "model version"
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="catalog_version_name_unique_per_model"),
            models.UniqueConstraint(fields=["model", "number"], name="catalog_version_number_unique_per_model"),
            choices_check("stage", Stage, "catalog_version_stage_valid"),
            choices_check("lock_level", LockLevel, "catalog_version_lock_level_valid"),
        ]
        indexes = [
            models.Index(fields=["model", "stage"], name="catalog_ver_model_stage_idx"),
            models.Index(fields=["model", "-created_at"], name="catalog_ver_model_new_idx"),
            models.Index(fields=["model", "-stage_changed_at"], name="catalog_ver_model_chg_idx"),
            models.Index(fields=["stage", "model"], name="catalog_ver_stage_idx"),
            # The Versions page in one stage, newest first: a walk down that stage which stops after a page.
            models.Index(fields=["stage", "-created_at", "-id"], name="catalog_ver_stage_new_idx"),
            models.Index(fields=["-created_at"], name="catalog_ver_created_idx"),
            models.Index(fields=["-updated_at"], name="catalog_ver_updated_idx"),
            models.Index(fields=["-stage_changed_at"], name="catalog_ver_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:version-detail", kwargs={"slug": self.model.slug, "version": self.name})

    @property
    def is_locked(self) -> bool:
        return self.lock_level != LockLevel.OPEN


class Alias(models.Model):
    """A name for one version of a model (`champion` → v3), unique in the model, moved by Editors."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=MAX_ALIAS)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="catalog_alias_unique_per_model")]
        indexes = [models.Index(fields=["version"], name="catalog_alias_version_idx")]

    def __str__(self) -> str:
        return f"{self.name} → {self.version_id}"


class RegisteredModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "user permission on a model"


class RegisteredModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "group permission on a model"
