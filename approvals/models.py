"""Stage-change requests and their reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from activity.models import MAX_COMMENT  # one limit for every comment, which the log keeps
from catalog.models import MAX_APPROVALS, MIN_APPROVALS, ModelVersion, Stage


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"


class StageChangeRequest(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="change_requests")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    comment = models.TextField(blank=True, max_length=MAX_COMMENT)
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    required_approvals = models.PositiveSmallIntegerField()
    archive_others = models.BooleanField(
        default=False, help_text="On approval, move the model's other versions in the target stage to Archived."
    )
    skips_stages = models.BooleanField(default=False)
    # Not stored: how many reviewers request_stage_change wrote to, on the instance it returns (None on any other).
    reviewers_mailed: int | None = None
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one open request per version, enforced by the database (a partial unique index).
            models.UniqueConstraint(
                fields=["version"], condition=models.Q(status="pending"), name="approvals_one_pending_per_version"
            ),
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="approvals_status_valid"),
            models.CheckConstraint(condition=models.Q(from_stage__in=Stage.values), name="approvals_from_valid"),
            models.CheckConstraint(condition=models.Q(to_stage__in=Stage.values), name="approvals_to_valid"),
            models.CheckConstraint(condition=~models.Q(from_stage=models.F("to_stage")), name="approvals_moves"),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=MIN_APPROVALS, required_approvals__lte=MAX_APPROVALS),
                name="approvals_required_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at", "id"], condition=models.Q(status="pending"), name="approvals_pending_idx"
            ),
            models.Index(fields=["requester", "-created_at"], name="approvals_requester_idx"),
            models.Index(fields=["version", "-created_at"], name="approvals_version_idx"),
            # Decisions newest first, for the home page's lead time.
            models.Index(
                fields=["-resolved_at"],
                condition=models.Q(status__in=["approved", "rejected"]),
                name="approvals_decided_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.from_stage} → {self.to_stage} ({self.status})"


class Review(models.Model):
    change_request = models.ForeignKey(StageChangeRequest, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=MAX_COMMENT)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["change_request", "reviewer"], name="approvals_one_review_per_reviewer"),
            models.CheckConstraint(condition=models.Q(decision__in=Decision.values), name="approvals_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.decision} {self.change_request_id}"
