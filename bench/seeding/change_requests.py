"""The pending change requests the inbox and the version pages are measured with."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.core.management.base import OutputWrapper
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest, Status
from bench.seeding.batches import Progress, chunks
from bench.seeding.catalog import grant_role, seed_user
from bench.seeding.data import EDITOR, REVIEWER
from catalog.models import STAGE_ORDER, LockLevel, ModelVersion, RegisteredModel, Stage, skipped_stages
from catalog.permissions import Role


def seed_pending_requests(*, models: list[RegisteredModel], out: OutputWrapper | TextIO) -> int:
    """A pending request on the newest version of each model without one, made by an editor a reviewer can act on;
    returns how many were opened."""
    editor, reviewer = seed_user(username=EDITOR), seed_user(username=REVIEWER)
    model_ids = [m.pk for m in models]
    grant_role(user=editor, role=Role.EDITOR, model_ids=model_ids)
    grant_role(user=reviewer, role=Role.REVIEWER, model_ids=model_ids)
    newest = {
        v.model_id: v
        for v in ModelVersion.objects.filter(model_id__in=model_ids, lock_level=LockLevel.OPEN).order_by(
            "model_id", "created_at"
        )
    }
    busy = set(
        StageChangeRequest.objects.filter(version__model_id__in=model_ids, status=Status.PENDING).values_list(
            "version__model_id", flat=True
        )
    )
    model_names = {m.pk: m.name for m in models}
    now = timezone.now()
    change_requests = []
    for model_id, version in newest.items():
        if model_id in busy:
            continue
        following = STAGE_ORDER[min(STAGE_ORDER.index(Stage(version.stage)) + 1, len(STAGE_ORDER) - 1)]
        target = following if following != version.stage else Stage.DEVELOPMENT
        change_requests.append(
            StageChangeRequest(
                version=version,
                from_stage=version.stage,
                to_stage=target,
                comment=f"Synthetic request for {version.name}.",
                requester=editor,
                created_at=now - timedelta(minutes=model_id % 5000),
                required_approvals=1,
                skips_stages=bool(skipped_stages(version.stage, target)),
            )
        )
    progress = Progress("requests", len(change_requests), out)
    for batch in chunks(change_requests):
        StageChangeRequest.objects.bulk_create(batch)
        ActivityEntry.objects.bulk_create(
            [
                ActivityEntry(
                    created_at=r.created_at,
                    actor=editor,
                    verb=Verb.STAGE_CHANGE_REQUESTED,
                    model_id=r.version.model_id,
                    version=r.version,
                    actor_username=editor.get_username(),
                    model_name=model_names[r.version.model_id],
                    version_name=r.version.name,
                    from_stage=r.from_stage,
                    to_stage=r.to_stage,
                    comment=r.comment,
                    extra={"change_request": r.pk},
                )
                for r in batch
            ]
        )
        progress.advance(len(batch))
    progress.finish()
    return len(change_requests)
