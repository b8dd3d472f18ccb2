"""Bulk-load a large synthetic catalog for benchmarks: N models × M versions, idempotent on re-run."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from approvals.models import Decision, StageChangeRequest, Status
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

# Padding of the activity log (--activity-entries): everyday events by a few dozen collaborators.
ACTORS = 40  # scale-user-01 … scale-user-40; model pk p has Editor number p % 40 and Reviewer (p + 17) % 40
REVIEWER_SHIFT = 17
RARE_WORD = "heteroscedastic"  # in about one comment in 700, for searches that must dig deep into the log
COMMENTS = [
    "Offline AUC matches the training run; ready for a staging soak.",
    "Latency p99 is 38 ms on the shadow fleet, well inside the budget.",
    "Re-ran the fairness checks on the new holdout: no regressions.",
    "Feature drift on session_length since the last client release; keep an eye on it.",
    "Canary healthy after 24 hours at 5% of traffic.",
    "Artifact rebuilt with the pinned tokenizer; checksums updated.",
    "Calibration is off in the top decile, recalibrating with isotonic regression.",
    "Shadow traffic disagrees with the Production version on 2.1% of requests.",
    "Memory footprint down to 1.2 GB after pruning.",
    "Needs sign-off from risk before it goes any further.",
    "Against the baseline: +0.8 pt recall at the same precision.",
    "Retrained on last month's data; metrics are on the run page.",
]
RARE_COMMENTS = [
    f"Residuals look {RARE_WORD} on the March holdout; trying a variance head before promoting.",
    f"{RARE_WORD.capitalize()} label noise from the annotation vendor again, see the data-quality ticket.",
]
REQUEST_COMMENTS = [
    "Evaluation report attached.",
    "Passed the offline checks.",
    "Rollback candidate while we investigate the incident.",
    "",
]
REJECTION_COMMENTS = [
    "Needs a longer canary first.",
    "Missing the fairness report.",
    "Over the latency budget in the load test.",
    "Please retrain on the new feature set.",
]
CANCELLATION_COMMENTS = ["Superseded by a newer version.", "Opened by mistake.", ""]
LOCK_LEVELS = [str(LockLevel.CLOSED.label), str(LockLevel.REDACT.label)]
LOCK_COMMENTS = ["Frozen for the quarterly audit.", "Locked while legal reviews the training data."]
UNLOCK_COMMENTS = ["Audit complete.", "Cleared by legal.", ""]
VERSION_FIELDS = [
    json.dumps({"fields": fields})
    for fields in (["description"], ["attributes"], ["labels"], ["artifact_uri"], ["description", "labels"])
]
MODEL_FIELDS = [
    json.dumps({"fields": fields}) for fields in (["description"], ["labels"], ["task_type", "description"])
]
# One unit of padding on a version: a comment, a request and its rejection or cancellation, an edit, or a lock raised
# and lowered again. No unit moves a stage, so every version stays where its logged moves put it.
UNIT_KINDS = ["comment"] * 13 + ["rejected", "rejected", "cancelled", "edited", "edited", "locked"]
PAIRS = {"rejected", "cancelled", "locked"}  # two entries each, the second 10 minutes to 5 hours after the first
MODEL_EDIT_SHARE = 0.04
MIN_WINDOW_DAYS = 20  # units of one version are spread evenly enough over this that no two pairs overlap
QUIET_DAYS = 5  # padding stops this long before now, before the seeded pending requests


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


@contextmanager
def foreign_keys_checked_after(cursor: CursorWrapper, *tables: str) -> Iterator[None]:
    """On PostgreSQL, drop the tables' foreign keys for a bulk load and add them back after it: that checks every row
    in one join per key, where the deferred checks run one lookup per row and key at commit (half the load time)."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses a table with checks still pending
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(CAST(%s AS regclass[]))",
        [list(tables)],
    )
    keys = cursor.fetchall()
    for table, name, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between PostgreSQL and SQLite in the set-based padding of the log."""

    epoch: str  # a timestamp column {} as seconds since 1970
    timestamp: str  # seconds since 1970 {} as a value for a timestamp column
    json: str  # text {} as a value for a JSON column
    greatest: str
    least: str
    series: str  # the rows n = 0 … %s - 1


DIALECTS = {
    "postgresql": Dialect(
        epoch="CAST(extract(epoch FROM {}) AS double precision)",
        timestamp="to_timestamp({})",
        json="CAST({} AS jsonb)",
        greatest="GREATEST",
        least="LEAST",
        series="SELECT n FROM generate_series(0, %s - 1) AS n",
    ),
    "sqlite": Dialect(
        epoch="((julianday({}) - 2440587.5) * 86400.0)",
        # Milliseconds padded to the microseconds Django writes, so that text comparisons order them as instants.
        timestamp="(strftime('%%Y-%%m-%%d %%H:%%M:%%f', {}, 'unixepoch') || '000')",
        json="{}",
        greatest="max",
        least="min",
        series="WITH RECURSIVE series(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM series WHERE n + 1 < %s) "
        "SELECT n FROM series",
    ),
}

TEMPORARY_TABLES = {
    "seed_scale_actor": "slot integer PRIMARY KEY, user_id integer NOT NULL",
    # The versions padding may touch, numbered from 0, with the span of time in which each stays in its stage.
    "seed_scale_version": "rn integer PRIMARY KEY, version_id bigint, model_id bigint, stage varchar(20), "
    "required_approvals integer, editor_id integer, reviewer_id integer, model_starts double precision, "
    "starts double precision, ends double precision, done integer",
    "seed_scale_unit": "i integer PRIMARY KEY, kind varchar(10), version_id bigint, model_id bigint, "
    "stage varchar(20), to_stage varchar(20), required_approvals integer, editor_id integer, reviewer_id integer, "
    "moment double precision, gap double precision, request_id bigint",
}

FILL_VERSIONS = f"""
INSERT INTO seed_scale_version
SELECT row_number() OVER (ORDER BY w.id) - 1, w.id, w.model_id, w.stage, w.required_approvals, e.user_id, r.user_id,
       w.model_starts, w.starts, w.ends, COALESCE(done.units, 0)
FROM (
    SELECT v.id, v.model_id, v.stage, m.required_approvals, {{epoch_model}} + 2 * 86400 AS model_starts,
           {{greatest}}({{epoch_version}}, {{epoch_moved}}, {{epoch_model}} + 2 * 86400) + 3600 AS starts,
           {{least}}(%s, COALESCE((
               SELECT MIN({{epoch_request}}) - 3600 FROM approvals_stagechangerequest r
               WHERE r.version_id = v.id AND r.status = 'pending'
           ), %s)) AS ends
    FROM catalog_modelversion v JOIN catalog_registeredmodel m ON m.id = v.model_id
    WHERE m.slug LIKE 'scale-model-%%' AND v.lock_level = 'open'
) w
JOIN seed_scale_actor e ON e.slot = w.model_id %% {ACTORS}
JOIN seed_scale_actor r ON r.slot = (w.model_id + {REVIEWER_SHIFT}) %% {ACTORS}
LEFT JOIN (
    SELECT version_id, COUNT(*) AS units FROM activity_activityentry
    WHERE actor_id IN (SELECT user_id FROM seed_scale_actor) AND version_id IS NOT NULL
      AND verb NOT IN ('{Verb.STAGE_CHANGE_REJECTED.value}', '{Verb.STAGE_CHANGE_CANCELLED.value}')
    GROUP BY version_id
) done ON done.version_id = w.id
WHERE w.ends - w.starts >= {MIN_WINDOW_DAYS} * 86400
"""

# Unit i goes to version i mod V, as that version's unit number j = done + i div V, at the point j * 0.618034 (mod 1)
# of its span, shifted per version: consecutive terms of that sequence stay far apart, so pairs never overlap.
FILL_UNITS = """
INSERT INTO seed_scale_unit
SELECT s.n, CASE WHEN s.n = %s THEN 'comment' ELSE {kind} END, v.version_id, v.model_id, v.stage,
       CASE v.stage WHEN 'unassigned' THEN 'development' WHEN 'development' THEN 'staging'
                    WHEN 'staging' THEN 'production' WHEN 'archived' THEN 'production'
                    ELSE CASE WHEN s.n %% 2 = 0 THEN 'staging' ELSE 'archived' END END,
       v.required_approvals, v.editor_id, v.reviewer_id,
       v.starts + (v.ends - v.starts)
           * ((CAST(v.done + s.n / %s AS bigint) * 618034 + CAST(v.rn AS bigint) * 754878) %% 1000000) / 1000000.0,
       600 + (s.n %% 20) * 900,
       %s + s.n
FROM ({series}) s JOIN seed_scale_version v ON v.rn = s.n %% %s
"""

LOADED_TABLES = ("activity_activityentry", "approvals_stagechangerequest", "approvals_review")
FRESH_TABLES = (
    "catalog_registeredmodel",
    "catalog_modelversion",
    "approvals_stagechangerequest",
    "activity_activityentry",
)
ENTRY_COLUMNS = "created_at, actor_id, verb, model_id, version_id, from_stage, to_stage, comment, extra"


def pick(key: str, values: Sequence[str]) -> tuple[str, list[str]]:
    """SQL choosing one of values by the integer expression key, with its parameters."""
    whens = " ".join(f"WHEN {n} THEN %s" for n in range(len(values)))
    return f"CASE ({key}) %% {len(values)} {whens} END", list(values)


def padding_units(entries: int, done: int) -> tuple[int, int]:
    """How many units, counting on from unit number done, add exactly entries entries; and which unit, if any,
    must be a lone comment instead of a pair to land on the number (-1 for none)."""
    units = total = 0
    while total < entries:
        total += 2 if UNIT_KINDS[(done + units) % len(UNIT_KINDS)] in PAIRS else 1
        units += 1
    return units, units - 1 if total > entries else -1


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
        parser.add_argument(
            "--activity-entries",
            type=int,
            default=0,
            help="Top the activity log up to this many entries with comments, rejected and cancelled requests, edits "
            "and lock changes by scale-user-01…40 over the past year (none that moves a stage).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n_models, n_versions = options["models"], options["versions_per_model"]
        if n_models < 0 or n_versions < 0 or options["activity_entries"] < 0:
            self.stderr.write("--models, --versions-per-model and --activity-entries must be zero or more.")
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
        if options["activity_entries"]:
            with transaction.atomic():
                padded = self._pad_activity(owner, models, options["activity_entries"])
            self.stdout.write(f"{padded:,} activity entries added.")
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
                        extra={"name": m.name},
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

    def _grant(self, user: User, role: Role, model_ids: list[int]) -> list[int]:
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

    def _pad_activity(self, owner: User, models: list[RegisteredModel], target: int) -> int:
        """Add entries until the log holds target, in a few set-based statements; returns how many were added."""
        if ActivityEntry.objects.count() >= target:
            return 0
        actors = self._scale_users()
        self._collaborators(owner, actors, models)
        missing = target - ActivityEntry.objects.count()
        if missing <= 0:
            return 0
        actor_ids = [a.pk for a in actors]
        by_actors = ActivityEntry.objects.filter(actor__in=actor_ids)
        decisions = [Verb.STAGE_CHANGE_REJECTED, Verb.STAGE_CHANGE_CANCELLED]
        units_done = by_actors.filter(version__isnull=False).exclude(verb__in=decisions).count()
        model_edits_done = by_actors.filter(verb=Verb.MODEL_EDITED).count()
        model_edits = round(missing * MODEL_EDIT_SHARE)
        units, lone_comment = padding_units(missing - model_edits, units_done)
        d = DIALECTS[connection.vendor]
        ends = (timezone.now() - timedelta(days=QUIET_DAYS)).timestamp()
        progress = Progress("activity", missing, self.stdout)
        with connection.cursor() as cursor:
            for table, columns in TEMPORARY_TABLES.items():
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
            cursor.executemany("INSERT INTO seed_scale_actor VALUES (%s, %s)", list(enumerate(actor_ids)))
            self._analyze(cursor, "seed_scale_actor", *FRESH_TABLES)
            epoch = {
                f"epoch_{name}": d.epoch.format(column)
                for name, column in [
                    ("model", "m.created_at"),
                    ("version", "v.created_at"),
                    ("moved", "COALESCE(v.stage_changed_at, v.created_at)"),
                    ("request", "r.created_at"),
                ]
            }
            cursor.execute(FILL_VERSIONS.format(greatest=d.greatest, least=d.least, **epoch), [ends, ends])
            versions = cursor.rowcount
            if not versions:
                raise CommandError(
                    f"No open scale version has {MIN_WINDOW_DAYS} days between its last stage move and "
                    f"{QUIET_DAYS} days ago to pad; seed the versions first."
                )
            kind, kind_params = pick(f"{units_done} + s.n", UNIT_KINDS)
            request_base = (StageChangeRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            cursor.execute(
                FILL_UNITS.format(kind=kind, series=d.series),
                [lone_comment, *kind_params, versions, request_base, units, versions],
            )
            self._analyze(cursor, "seed_scale_version", "seed_scale_unit")
            with foreign_keys_checked_after(cursor, *LOADED_TABLES):
                self._pad_requests(cursor, d)
                for sql, params in [
                    *self._unit_entries(d, owner),
                    self._model_edits(d, model_edits_done, model_edits, versions),
                ]:
                    cursor.execute(sql, params)
                    progress.advance(cursor.rowcount)
            for table in TEMPORARY_TABLES:
                cursor.execute(f"DROP TABLE {table}")
        progress.finish()
        return missing

    def _analyze(self, cursor: CursorWrapper, *tables: str) -> None:
        # PostgreSQL has no statistics yet for tables just bulk-loaded, nor ever for temporary ones, and plans their
        # joins as nested loops over the few rows it then assumes (minutes instead of seconds).
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ANALYZE {table}")

    def _scale_users(self) -> list[User]:
        names = [f"scale-user-{n:02d}" for n in range(1, ACTORS + 1)]
        password = make_password("demo")  # hashed once: synthetic accounts, and dozens of slow hashes add nothing
        User.objects.bulk_create(
            [User(username=name, email=f"{name}@example.com", password=password) for name in names],
            ignore_conflicts=True,
        )
        users = {u.username: u for u in User.objects.filter(username__in=names)}
        return [users[name] for name in names]

    def _collaborators(self, owner: User, actors: list[User], models: list[RegisteredModel]) -> None:
        """Make one scale user Editor and another Reviewer of each model, logged as added by the owner a day in."""
        registered = {m.pk: m.created_at for m in models}
        now = timezone.now()
        entries = []
        for slot, user in enumerate(actors):
            for role, shift in ((Role.EDITOR, 0), (Role.REVIEWER, REVIEWER_SHIFT)):
                granted = self._grant(user, role, [pk for pk in registered if (pk + shift) % ACTORS == slot])
                entries += [
                    ActivityEntry(
                        created_at=min(registered[pk] + timedelta(days=1), now),
                        actor=owner,
                        verb=Verb.COLLABORATOR_ADDED,
                        model_id=pk,
                        extra={"principal": f"user {user.get_username()}", "role": str(role.label)},
                    )
                    for pk in granted
                ]
        ActivityEntry.objects.bulk_create(entries, batch_size=BATCH)

    def _pad_requests(self, cursor: CursorWrapper, d: Dialect) -> None:
        """The requests that padding units reject or cancel, with the rejections' reviews, under ids chosen ahead."""
        comment, comment_params = pick("u.i", REQUEST_COMMENTS)
        cursor.execute(
            f"""
            INSERT INTO approvals_stagechangerequest (id, version_id, from_stage, to_stage, comment, requester_id,
                created_at, status, required_approvals, archive_others, skips_stages, resolved_by_id, resolved_at)
            SELECT u.request_id, u.version_id, u.stage, u.to_stage, {comment}, u.editor_id,
                   {d.timestamp.format("u.moment")},
                   CASE u.kind WHEN 'rejected' THEN '{Status.REJECTED.value}' ELSE '{Status.CANCELLED.value}' END,
                   u.required_approvals, FALSE, FALSE,
                   CASE u.kind WHEN 'rejected' THEN u.reviewer_id ELSE u.editor_id END,
                   {d.timestamp.format("u.moment + u.gap")}
            FROM seed_scale_unit u WHERE u.kind IN ('rejected', 'cancelled')
            """,
            comment_params,
        )
        comment, comment_params = pick("u.i", REJECTION_COMMENTS)
        cursor.execute(
            f"""
            INSERT INTO approvals_review (change_request_id, reviewer_id, decision, comment, created_at)
            SELECT u.request_id, u.reviewer_id, '{Decision.REJECT.value}', {comment},
                   {d.timestamp.format("u.moment + u.gap")}
            FROM seed_scale_unit u WHERE u.kind = 'rejected'
            """,
            comment_params,
        )
        for sql in connection.ops.sequence_reset_sql(no_style(), [StageChangeRequest]):
            cursor.execute(sql)

    def _unit_entries(self, d: Dialect, owner: User) -> Iterator[tuple[str, list[Any]]]:
        """One INSERT … SELECT per kind of entry the units make, with its parameters."""
        first, second = d.timestamp.format("u.moment"), d.timestamp.format("u.moment + u.gap")
        request = """'{"change_request": ' || u.request_id || '}'"""
        request_skipping = """'{"change_request": ' || u.request_id || ', "skipped": []}'"""
        opened = str(LockLevel.OPEN.label)
        raised = [json.dumps({"from": opened, "to": level}) for level in LOCK_LEVELS]
        lowered = [json.dumps({"from": level, "to": opened}) for level in LOCK_LEVELS]
        rare, rare_params = pick("u.i / 700", RARE_COMMENTS)
        common, common_params = pick("u.i", COMMENTS)
        comment = (f"CASE WHEN u.i %% 700 = 0 THEN {rare} ELSE {common} END", rare_params + common_params)
        commenter = "CASE WHEN u.i %% 3 = 0 THEN u.reviewer_id ELSE u.editor_id END"
        nothing: tuple[str, list[str]] = ("''", [])
        no_details: tuple[str, list[str]] = ("'{}'", [])
        # verb, kinds of unit, actor, time, whether it names the stages, comment, extra: SQL with its parameters
        steps = [
            (Verb.COMMENTED, ["comment"], commenter, first, False, comment, no_details),
            (
                Verb.STAGE_CHANGE_REQUESTED,
                ["rejected", "cancelled"],
                "u.editor_id",
                first,
                True,
                pick("u.i", REQUEST_COMMENTS),
                (request_skipping, []),
            ),
            (
                Verb.STAGE_CHANGE_REJECTED,
                ["rejected"],
                "u.reviewer_id",
                second,
                True,
                pick("u.i", REJECTION_COMMENTS),
                (request, []),
            ),
            (
                Verb.STAGE_CHANGE_CANCELLED,
                ["cancelled"],
                "u.editor_id",
                second,
                True,
                pick("u.i", CANCELLATION_COMMENTS),
                (request, []),
            ),
            (Verb.VERSION_EDITED, ["edited"], "u.editor_id", first, False, nothing, pick("u.i", VERSION_FIELDS)),
            (
                Verb.LOCK_CHANGED,
                ["locked"],
                "u.editor_id",
                first,
                False,
                pick("u.i", LOCK_COMMENTS),
                pick("u.i", raised),
            ),
            (
                Verb.LOCK_CHANGED,
                ["locked"],
                str(owner.pk),
                second,
                False,
                pick("u.i", UNLOCK_COMMENTS),
                pick("u.i", lowered),
            ),
        ]
        for verb, kinds, actor, moment, stages, (text, text_params), (extra, extra_params) in steps:
            from_stage, to_stage = ("u.stage", "u.to_stage") if stages else ("''", "''")
            sql = f"""
                INSERT INTO activity_activityentry ({ENTRY_COLUMNS})
                SELECT {moment}, {actor}, %s, u.model_id, u.version_id, {from_stage}, {to_stage}, {text},
                       {d.json.format(extra)}
                FROM seed_scale_unit u WHERE u.kind IN ({", ".join(f"'{kind}'" for kind in kinds)})
            """
            yield sql, [verb.value, *text_params, *extra_params]

    def _model_edits(self, d: Dialect, done: int, count: int, versions: int) -> tuple[str, list[Any]]:
        """Edits of models, spread over each model's life by the same sequence as the units."""
        fields, fields_params = pick("s.n", MODEL_FIELDS)
        moment = (
            "v.model_starts + (v.ends - v.model_starts) * ((CAST(%s + s.n AS bigint) * 618034) %% 1000000) / 1000000.0"
        )
        sql = f"""
            INSERT INTO activity_activityentry ({ENTRY_COLUMNS})
            SELECT {d.timestamp.format(moment)}, v.editor_id, %s, v.model_id, NULL, '', '', '', {d.json.format(fields)}
            FROM ({d.series}) s JOIN seed_scale_version v ON v.rn = (CAST(%s + s.n AS bigint) * 7919) %% %s
        """
        return sql, [done, Verb.MODEL_EDITED.value, *fields_params, count, done, versions]
