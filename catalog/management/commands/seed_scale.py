"""Bulk-load a large synthetic catalog for benchmarks: N models × M versions, idempotent on re-run."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, TextIO

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper
from django.db import transaction
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest, Status
from catalog.models import (
    STAGE_ORDER,
    DataType,
    Label,
    LockLevel,
    ModelVersion,
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    Stage,
    TaskType,
    Visibility,
    skipped_stages,
)
from catalog.permissions import ROLE_PERMISSIONS, Role
from catalog.services import recount_stage_counts

BATCH = 2000
OWNER = "scale-owner"
LABELS = [
    "nlp", "vision", "tabular", "speech", "ranking", "fraud", "forecasting", "recsys", "risk", "ads",
    "realtime", "batch", "gpu", "cpu", "regulated", "experimental", "team-a", "team-b", "team-c", "team-d",
]  # fmt: skip
TASKS = [t.value for t in TaskType]
DATA = [d.value for d in DataType]


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


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Progress:
    """A one-line progress bar on a terminal (or plain lines elsewhere)."""

    def __init__(self, label: str, total: int, out: OutputWrapper | TextIO) -> None:
        self.label, self.total, self.out, self.done = label, max(total, 1), out, 0
        self.started = time.monotonic()
        self.tty = out.isatty()

    def advance(self, n: int) -> None:
        before = self.done * 10 // self.total
        self.done += n
        if not self.tty and self.done * 10 // self.total == before:
            return  # off a terminal, one line per tenth
        share = self.done / self.total
        bar = "#" * int(share * 30)
        line = f"{self.label:<10} [{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,}"
        self.out.write(("\r" + line) if self.tty else line + "\n")
        self.out.flush()

    def finish(self) -> None:
        self.out.write(f"{' ' if self.tty else ''}{time.monotonic() - self.started:.1f}s\n")


class Command(BaseCommand):
    help = "Bulk-load N models with M versions each (names scale-model-NNNNN, v1..vM), skipping what exists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models", type=int, default=10_000)
        parser.add_argument("--versions-per-model", type=int, default=10)
        parser.add_argument(
            "--pending-requests",
            type=int,
            default=0,
            help="Open a pending request (by scale-editor, reviewed by scale-reviewer) on the newest version of "
            "this many models.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n_models, n_versions = options["models"], options["versions_per_model"]
        if n_models < 0 or n_versions < 0:
            self.stderr.write("--models and --versions-per-model must be zero or more.")
            sys.exit(2)
        started = time.monotonic()
        owner = self._owner()
        with transaction.atomic():
            models = self._models(owner, n_models)
        with transaction.atomic():
            created = self._versions(owner, models, n_versions)
            # Bulk inserts bypass the services, so the per-stage counts are rebuilt from the versions.
            recount_stage_counts(model_ids=[m.pk for m in models])
        if options["pending_requests"]:
            with transaction.atomic():
                opened = self._pending(models[: options["pending_requests"]])
            self.stdout.write(f"{opened:,} pending requests added.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(models):,} scale models ready ({created:,} versions added) in {time.monotonic() - started:.1f}s."
            )
        )

    def _owner(self) -> User:
        owner, created = User.objects.get_or_create(username=OWNER, defaults={"email": f"{OWNER}@example.com"})
        if created:
            owner.set_password("demo")
            owner.save(update_fields=["password"])
        return owner

    def _models(self, owner: User, count: int) -> list[RegisteredModel]:
        slugs = [f"scale-model-{i:05d}" for i in range(1, count + 1)]
        existing = set(RegisteredModel.objects.filter(slug__startswith="scale-model-").values_list("slug", flat=True))
        missing = [(i, slug) for i, slug in enumerate(slugs, start=1) if slug not in existing]
        labels = {label.name: label for label in self._labels()}
        owner_perms = list(
            Permission.objects.filter(content_type__app_label="catalog", codename__in=ROLE_PERMISSIONS[Role.OWNER])
        )
        base_time = timezone.now() - timedelta(days=365)
        progress = Progress("models", len(missing), self.stdout)
        for batch in chunks(missing):
            new = [
                RegisteredModel(
                    name=f"Scale model {i:05d}",
                    slug=slug,
                    description=f"Synthetic model {i} for {LABELS[i % len(LABELS)]} workloads.",
                    owner=owner,
                    task_type=TASKS[i % len(TASKS)],
                    data_type=DATA[i % len(DATA)],
                    visibility=Visibility.PRIVATE if i % 10 == 0 else Visibility.ORGANIZATION,
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
                        created_at=base_time, actor=owner, verb=Verb.MODEL_REGISTERED, model=m, extra={"name": m.name}
                    )
                    for m in created
                ]
            )
            progress.advance(len(batch))
        progress.finish()
        return list(RegisteredModel.objects.filter(slug__in=slugs).only("pk", "created_at"))

    def _user(self, username: str) -> User:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if created:
            user.set_password("demo")
            user.save(update_fields=["password"])
        return user

    def _grant(self, user: User, role: Role, model_ids: list[int]) -> None:
        perms = list(Permission.objects.filter(content_type__app_label="catalog", codename__in=ROLE_PERMISSIONS[role]))
        have = set(
            RegisteredModelUserObjectPermission.objects.filter(user=user, content_object_id__in=model_ids).values_list(
                "content_object_id", flat=True
            )
        )
        RegisteredModelUserObjectPermission.objects.bulk_create(
            [
                RegisteredModelUserObjectPermission(content_object_id=pk, user=user, permission=p)
                for pk in model_ids
                if pk not in have
                for p in perms
            ],
            batch_size=BATCH,
        )

    def _pending(self, models: list[RegisteredModel]) -> int:
        """A pending request on the newest version of each model, made by an editor a reviewer can act on."""
        editor, reviewer = self._user("scale-editor"), self._user("scale-reviewer")
        model_ids = [m.pk for m in models]
        self._grant(editor, Role.EDITOR, model_ids)
        self._grant(reviewer, Role.REVIEWER, model_ids)
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
        now = timezone.now()
        requests = []
        for model_id, version in newest.items():
            if model_id in busy:
                continue
            following = STAGE_ORDER[min(STAGE_ORDER.index(Stage(version.stage)) + 1, len(STAGE_ORDER) - 1)]
            target = following if following != version.stage else Stage.DEVELOPMENT
            requests.append(
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
        progress = Progress("requests", len(requests), self.stdout)
        for batch in chunks(requests):
            StageChangeRequest.objects.bulk_create(batch)
            ActivityEntry.objects.bulk_create(
                [
                    ActivityEntry(
                        created_at=r.created_at,
                        actor=editor,
                        verb=Verb.STAGE_CHANGE_REQUESTED,
                        model_id=r.version.model_id,
                        version=r.version,
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
        return len(requests)

    def _labels(self) -> list[Label]:
        Label.objects.bulk_create([Label(name=name) for name in LABELS], ignore_conflicts=True)
        return list(Label.objects.filter(name__in=LABELS))

    def _versions(self, owner: User, models: list[RegisteredModel], per_model: int) -> int:
        have: dict[int, set[str]] = {}
        for model_id, name in ModelVersion.objects.filter(model__in=[m.pk for m in models]).values_list(
            "model_id", "name"
        ):
            have.setdefault(model_id, set()).add(name)
        wanted = [(m, n) for m in models for n in range(per_model) if f"v{n + 1}" not in have.get(m.pk, ())]
        progress = Progress("versions", len(wanted), self.stdout)
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
                        description=f"Version {n + 1}.",
                        attributes={"framework": "xgboost", "auc": f"0.{700 + (m.pk * 7 + n) % 290}"},
                        artifact_uri=f"s3://scale/{m.pk}/v{n + 1}/model.bin",
                        stage=stage,
                        stage_changed_at=None if stage == Stage.UNASSIGNED else created_at + timedelta(days=2),
                        created_by=owner,
                    )
                )
            ModelVersion.objects.bulk_create(versions)
            saved = {
                (v.model_id, v.name): v
                for v in ModelVersion.objects.filter(
                    model_id__in={m.pk for m, _ in batch}, name__in={f"v{n + 1}" for _, n in batch}
                ).only("pk", "model_id", "name", "stage", "stage_changed_at", "created_at")
            }
            entries = []
            for m, n in batch:
                v = saved[(m.pk, f"v{n + 1}")]
                entries.append(
                    ActivityEntry(
                        created_at=v.created_at, actor=owner, verb=Verb.VERSION_REGISTERED, model_id=m.pk, version=v
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
                        )
                    )
            ActivityEntry.objects.bulk_create(entries)
            progress.advance(len(batch))
        progress.finish()
        return len(wanted)
