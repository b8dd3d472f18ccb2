"""The scale users, models and versions, with the roles and activity entries that go with them."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.contrib.auth.models import Permission, User
from django.core.management.base import OutputWrapper
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from bench.seeding.batches import Progress, chunks
from bench.seeding.data import BATCH, DATA, LABELS, PASSWORD, TASKS, model_slug
from catalog.models import (
    STAGE_ORDER,
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Stage,
    Visibility,
)
from catalog.permissions import ROLE_PERMISSIONS, Role
from core.names import skeleton


def seed_user(*, username: str) -> User:
    """The user named username, created with the demo password when missing."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def grant_role(*, user: User, role: Role, model_ids: list[int]) -> list[int]:
    """Give user role on each of model_ids where user holds nothing yet; returns those model ids."""
    perms = list(Permission.objects.filter(content_type__app_label="catalog", codename__in=ROLE_PERMISSIONS[role]))
    have = set(
        RegisteredModelUserObjectPermission.objects.filter(user=user, content_object_id__in=model_ids).values_list(
            "content_object_id", flat=True
        )
    )
    granted = [pk for pk in model_ids if pk not in have]
    RegisteredModelUserObjectPermission.objects.bulk_create(
        [
            RegisteredModelUserObjectPermission(content_object_id=pk, user=user, permission=p)
            for pk in granted
            for p in perms
        ],
        batch_size=BATCH,
    )
    return granted


def seed_models(*, owner: User, count: int, out: OutputWrapper | TextIO) -> list[RegisteredModel]:
    """Scale models 1 to count, owned by owner, creating the missing ones with their labels and log entry."""
    slugs = [model_slug(i) for i in range(1, count + 1)]
    existing = set(RegisteredModel.objects.filter(slug__startswith="scale-model-").values_list("slug", flat=True))
    missing = [(i, slug) for i, slug in enumerate(slugs, start=1) if slug not in existing]
    labels = {label.name: label for label in _labels()}
    owner_perms = list(
        Permission.objects.filter(content_type__app_label="catalog", codename__in=ROLE_PERMISSIONS[Role.OWNER])
    )
    base_time = timezone.now() - timedelta(days=365)
    progress = Progress("models", len(missing), out)
    for batch in chunks(missing):
        new = [
            RegisteredModel(
                name=f"Scale model {i:05d}",
                name_skeleton=skeleton(f"Scale model {i:05d}"),
                slug=slug,
                description=f"Synthetic model {i} for {LABELS[i % len(LABELS)]} workloads.",
                owner=owner,
                task_type=TASKS[i % len(TASKS)],
                data_type=DATA[i % len(DATA)],
                visibility=Visibility.PRIVATE if i % 10 == 0 else Visibility.ORGANIZATION,
                created_at=base_time + timedelta(minutes=i),
                updated_at=base_time + timedelta(minutes=i),
            )
            for i, slug in batch
        ]
        RegisteredModel.objects.bulk_create(new)
        created = list(RegisteredModel.objects.filter(slug__in=[slug for _, slug in batch]).order_by("slug"))
        through = RegisteredModel.labels.through
        through.objects.bulk_create(
            [
                through(registeredmodel_id=m.pk, label_id=labels[LABELS[(m.pk + k) % len(LABELS)]].pk)
                for m in created
                for k in (0, 7)
            ]
        )
        RegisteredModelUserObjectPermission.objects.bulk_create(
            [
                RegisteredModelUserObjectPermission(content_object=m, user=owner, permission=p)
                for m in created
                for p in owner_perms
            ]
        )
        ActivityEntry.objects.bulk_create(
            [
                ActivityEntry(
                    created_at=m.created_at,
                    actor=owner,
                    verb=Verb.MODEL_REGISTERED,
                    model=m,
                    actor_username=owner.get_username(),
                    model_name=m.name,
                    extra={"name": m.name},
                )
                for m in created
            ]
        )
        progress.advance(len(batch))
    progress.finish()
    return list(RegisteredModel.objects.filter(slug__in=slugs).only("pk", "created_at"))


def _labels() -> list[Label]:
    Label.objects.bulk_create([Label(name=name) for name in LABELS], ignore_conflicts=True)
    return list(Label.objects.filter(name__in=LABELS))


def version_stage(n: int, count: int) -> Stage:
    """A lifecycle spread: the oldest versions archived, one in Production, newer ones behind it."""
    position = n / max(count - 1, 1)
    if n == count - 1:
        return Stage.UNASSIGNED if count > 1 else Stage.PRODUCTION
    if position < 0.5:
        return Stage.ARCHIVED
    if position < 0.7:
        return Stage.PRODUCTION
    if position < 0.85:
        return Stage.STAGING
    return Stage.DEVELOPMENT


def seed_versions(*, owner: User, models: list[RegisteredModel], per_model: int, out: OutputWrapper | TextIO) -> int:
    """Versions v1 to v{per_model} of each model, creating the missing ones with their logged history; returns how
    many were created."""
    have: dict[int, set[str]] = {}
    for model_id, name in ModelVersion.objects.filter(model__in=[m.pk for m in models]).values_list("model_id", "name"):
        have.setdefault(model_id, set()).add(name)
    wanted = [(m, n) for m in models for n in range(per_model) if f"v{n + 1}" not in have.get(m.pk, ())]
    labels = sorted(_labels(), key=lambda label: label.name)
    progress = Progress("versions", len(wanted), out)
    start = timezone.now() - timedelta(days=300)
    for batch in chunks(wanted):
        versions = []
        for m, n in batch:
            stage = version_stage(n, per_model)
            created_at = start + timedelta(days=n * 25, minutes=m.pk % 1440)
            versions.append(
                ModelVersion(
                    model_id=m.pk,
                    name=f"v{n + 1}",
                    number=n + 1,
                    description=f"Version {n + 1}.",
                    attributes={"framework": "xgboost", "auc": f"0.{700 + (m.pk * 7 + n) % 290}"},
                    artifact_uri=f"s3://scale/{m.pk}/v{n + 1}/model.bin",
                    stage=stage,
                    stage_changed_at=None if stage == Stage.UNASSIGNED else created_at + timedelta(days=2),
                    created_by=owner,
                    created_at=created_at,
                    updated_at=created_at if stage == Stage.UNASSIGNED else created_at + timedelta(days=2),
                )
            )
        ModelVersion.objects.bulk_create(versions)
        saved = {
            (v.model_id, v.name): v
            for v in ModelVersion.objects.filter(
                model_id__in={m.pk for m, _ in batch}, name__in={f"v{n + 1}" for _, n in batch}
            ).only("pk", "model_id", "name", "stage", "stage_changed_at", "created_at")
        }
        # One label per version, the same mix as the models', so that label searches over versions find some.
        ModelVersion.labels.through.objects.bulk_create(
            [
                ModelVersion.labels.through(
                    modelversion_id=saved[(m.pk, f"v{n + 1}")].pk, label_id=labels[(m.pk + n) % len(labels)].pk
                )
                for m, n in batch
            ]
        )
        entries = []
        for m, n in batch:
            v = saved[(m.pk, f"v{n + 1}")]
            entries.append(
                ActivityEntry(
                    created_at=v.created_at,
                    actor=owner,
                    verb=Verb.VERSION_REGISTERED,
                    model_id=m.pk,
                    version=v,
                    actor_username=owner.get_username(),
                    model_name=m.name,
                    version_name=v.name,
                )
            )
            if v.stage != Stage.UNASSIGNED:
                # Imported history: one logged move per version, straight to the stage it holds.
                entries.append(
                    ActivityEntry(
                        created_at=v.stage_changed_at or v.created_at,
                        actor=owner,
                        verb=Verb.STAGE_CHANGED,
                        model_id=m.pk,
                        version=v,
                        from_stage=STAGE_ORDER[0],
                        to_stage=v.stage,
                        actor_username=owner.get_username(),
                        model_name=m.name,
                        version_name=v.name,
                    )
                )
        ActivityEntry.objects.bulk_create(entries)
        progress.advance(len(batch))
    progress.finish()
    return len(wanted)
