"""The API's request and response shapes, in the product's vocabulary, with the limits the services enforce."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from activity.models import MAX_COMMENT
from catalog.models import MAX_APPROVALS, MAX_DESCRIPTION, MAX_MODEL_NAME, MAX_URI, MAX_VERSION_NAME, MIN_APPROVALS
from webhooks.models import GRACE_HOURS, MAX_GRACE_HOURS

StageName = Literal["unassigned", "development", "staging", "production", "archived"]
LockLevelName = Literal["open", "closed", "redact"]
TaskTypeName = Literal[
    "classification", "clustering", "detection", "regression", "transcription", "translation", "other", "unknown"
]
DataTypeName = Literal["audio", "image", "tabular", "text", "video", "other", "unknown"]
VisibilityName = Literal["organization", "private"]
RoleName = Literal["viewer", "editor", "reviewer", "owner"]
StatusName = Literal["pending", "approved", "rejected", "cancelled"]
AttributeValue = str | int | float | bool | None
Comment = Field("", max_length=MAX_COMMENT, description="Optional; the activity log shows it.")


class ErrorDetail(Schema):
    code: str = Field(..., description="unauthenticated, permission_denied, not_found, invalid, conflict, …")
    message: str = Field(..., description="What went wrong, in a sentence fit to show a user.")
    field: str | None = Field(None, description="The input it is about, when it is about one.")


class ErrorOut(Schema):
    error: ErrorDetail


# Models ------------------------------------------------------------------------------------------------------------


class ModelIn(Schema):
    name: str = Field(..., min_length=1, max_length=MAX_MODEL_NAME)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    labels: list[str] = Field(default_factory=list, description="Lowercase names, e.g. nlp, churn.")
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    task_type: TaskTypeName = "unknown"
    data_type: DataTypeName = "unknown"
    visibility: VisibilityName = "organization"


class ModelPatch(Schema):
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    labels: list[str] | None = Field(None, description="The whole new set of labels.")
    attributes: dict[str, AttributeValue] | None = Field(None, description="The whole new set of attributes.")
    task_type: TaskTypeName | None = None
    data_type: DataTypeName | None = None
    visibility: VisibilityName | None = Field(None, description="Owners only.")


class ModelOut(Schema):
    name: str
    slug: str = Field(..., description="The model's name in URLs.")
    description: str
    labels: list[str]
    attributes: dict[str, AttributeValue]
    owner: str
    task_type: TaskTypeName
    data_type: DataTypeName
    visibility: VisibilityName
    required_approvals: int
    stage_counts: dict[StageName, int]
    version_count: int
    created_at: datetime
    updated_at: datetime
    url: str = Field(..., description="The model card in the browser.")


class ModelPage(Schema):
    items: list[ModelOut]
    next: str | None = Field(None, description="Pass as ?cursor= for the next (older) page; null on the last.")


# Versions ----------------------------------------------------------------------------------------------------------


class VersionIn(Schema):
    name: str = Field(..., min_length=1, max_length=MAX_VERSION_NAME, description="e.g. v1.2.0")
    description: str = Field("", max_length=MAX_DESCRIPTION)
    labels: list[str] = Field(default_factory=list)
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    artifact_uri: str = Field("", max_length=MAX_URI, description="e.g. s3://models/churn/v3/model.pkl")
    source_run_url: str = Field("", max_length=MAX_URI, description="A link to the run that produced it.")


class VersionPatch(Schema):
    description: str | None = Field(None, max_length=MAX_DESCRIPTION)
    labels: list[str] | None = None
    attributes: dict[str, AttributeValue] | None = None
    artifact_uri: str | None = Field(None, max_length=MAX_URI)
    source_run_url: str | None = Field(None, max_length=MAX_URI)


class VersionOut(Schema):
    model: str = Field(..., description="The model's slug.")
    model_name: str
    name: str
    number: int = Field(..., description="1, 2, 3… per model in order of registration (MLflow's version).")
    aliases: list[str] = Field(..., description="Names of this version in its model, e.g. champion.")
    run_id: str
    description: str
    labels: list[str]
    attributes: dict[str, AttributeValue]
    artifact_uri: str | None = Field(..., description="null when the lock level Redact hides it from you.")
    source_run_url: str | None
    redacted: bool
    stage: StageName
    lock_level: LockLevelName
    created_by: str
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime | None
    pending_request: int | None = Field(None, description="The id of the version's pending stage-change request.")
    url: str


class VersionPage(Schema):
    items: list[VersionOut]
    next: str | None = None


class LockIn(Schema):
    lock_level: LockLevelName
    comment: str = Comment


# Stage-change requests ---------------------------------------------------------------------------------------------


class ChangeRequestIn(Schema):
    to_stage: StageName
    comment: str = Comment
    archive_others: bool = Field(False, description="On approval, archive the versions now in Staging or Production.")


class ReviewIn(Schema):
    comment: str = Comment


class ReviewOut(Schema):
    reviewer: str
    decision: Literal["approve", "reject"]
    comment: str
    created_at: datetime


class ChangeRequestOut(Schema):
    id: int
    model: str
    version: str
    from_stage: StageName
    to_stage: StageName
    comment: str
    requester: str
    created_at: datetime
    status: StatusName
    required_approvals: int
    approvals: int
    archive_others: bool
    skips_stages: bool
    reviews: list[ReviewOut]
    resolved_by: str | None
    resolved_at: datetime | None
    actions: list[Literal["approve", "reject", "cancel"]] = Field(..., description="What you may do with it now.")
    url: str = Field(..., description="The version page, where the request is shown.")


class ChangeRequestPage(Schema):
    items: list[ChangeRequestOut]
    next: str | None = None


# Activity ----------------------------------------------------------------------------------------------------------


class ActivityEntryOut(Schema):
    id: int
    time: datetime
    actor: str
    event: str = Field(..., description="model_registered, stage_change_requested, stage_changed, commented, …")
    model: str | None
    version: str | None
    from_stage: StageName | Literal[""]
    to_stage: StageName | Literal[""]
    comment: str
    details: dict[str, object]


class ActivityPage(Schema):
    items: list[ActivityEntryOut]
    next: str | None = None


class CommentIn(Schema):
    comment: str = Field(..., min_length=1, max_length=MAX_COMMENT)


class StagePeriodOut(Schema):
    stage: StageName
    start: datetime
    end: datetime | None = Field(..., description="null: the stage it is in now.")
    moved_by: str
    approvers: list[str]
    requested_by: str
    note: str


class TimelineOut(Schema):
    periods: list[StagePeriodOut]
    truncated: bool = Field(..., description="The earliest moves are left out.")


class StageAsOfOut(Schema):
    stage: StageName
    count: int
    versions: list[str] = Field(..., description="The newest of them, at most 50.")


class StagesAsOfOut(Schema):
    at: datetime
    stages: list[StageAsOfOut]


# Collaborators and policy ------------------------------------------------------------------------------------------


class CollaboratorIn(Schema):
    kind: Literal["user", "group"] = "user"
    name: str = Field(..., min_length=1, max_length=150, description="A username or a group's name.")
    role: RoleName


class CollaboratorOut(Schema):
    kind: Literal["user", "group"]
    name: str
    role: RoleName | None = Field(..., description="null: permissions that make up no role.")
    is_model_owner: bool


class PolicyIn(Schema):
    required_approvals: int = Field(..., ge=MIN_APPROVALS, le=MAX_APPROVALS)


class PolicyOut(Schema):
    required_approvals: int


class WebhookIn(Schema):
    url: str = Field(..., min_length=1, max_length=2000, description="https:// (plain http only where allowed).")
    events: list[str] = Field(default_factory=list, description="Event types wanted; empty: all.")
    description: str = Field("", max_length=200)
    payload_format: Literal["standard", "slack"] = "standard"
    state: Literal["active", "test", "disabled"] = "active"
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent with each delivery.")


class WebhookPatch(Schema):
    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    payload_format: Literal["standard", "slack"] | None = None
    state: Literal["active", "test", "disabled"] | None = None
    headers: dict[str, str] | None = None


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    payload_format: str
    state: str
    headers: dict[str, str]
    disabled_reason: str
    created_at: datetime
    secret: str | None = Field(None, description="Only in the answer that made it (create, rotate-secret).")


class RotateIn(Schema):
    grace_hours: int = Field(GRACE_HOURS, ge=0, le=MAX_GRACE_HOURS, description="How long the old secret also signs.")


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str
    error: str
    next_attempt_at: datetime | None
    created_at: datetime


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next: str | None
