"""seed_scale on a tiny catalog: what it creates, that a re-run adds nothing, its refusals, and both SQL dialects."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timedelta
from io import StringIO
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from activity import chain, selectors
from activity.models import ActivityEntry, Verb
from approvals.models import Decision, Review, StageChangeRequest, Status
from bench.management.commands.seed_scale import Command
from bench.seeding.data import QUIET_DAYS, RARE_WORD
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage, stage_count_field
from catalog.permissions import MANAGE, REQUEST, REVIEW, Access
from catalog.services import recount_stage_counts

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TINY = {"models": 3, "versions_per_model": 4, "pending_requests": 2, "activity_entries": 200}
TINY_ARGS = [arg for name, value in TINY.items() for arg in (f"--{name.replace('_', '-')}", str(value))]
SLUGS = ["scale-model-00001", "scale-model-00002", "scale-model-00003"]
LOADED_TABLES = ["activity_activityentry", "approvals_stagechangerequest", "approvals_review"]


def seed(**options: int) -> str:
    out = StringIO()
    call_command("seed_scale", stdout=out, **options)
    return out.getvalue()


def stage_counts() -> dict[str, list[int]]:
    return {
        m.slug: [getattr(m, stage_count_field(stage)) for stage in STAGE_ORDER]
        for m in RegisteredModel.objects.order_by("slug")
    }


def row_counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "models": RegisteredModel.objects.count(),
        "versions": ModelVersion.objects.count(),
        "requests": StageChangeRequest.objects.count(),
        "reviews": Review.objects.count(),
        "entries": ActivityEntry.objects.count(),
    }


def foreign_keys() -> set[tuple[str, tuple[str, ...], tuple[str, str]]]:
    with connection.cursor() as cursor:
        return {
            (table, tuple(c["columns"]), c["foreign_key"])
            for table in LOADED_TABLES
            for c in connection.introspection.get_constraints(cursor, table).values()
            if c["foreign_key"]
        }


def test_help_lists_every_option() -> None:
    text = Command().create_parser("manage.py", "seed_scale").format_help()

    for option in ("--models", "--versions-per-model", "--pending-requests", "--activity-entries"):
        assert option in text


def test_seeds_models_with_versions_and_stage_counts_that_match_them(db: None) -> None:
    out = seed(models=3, versions_per_model=4)

    assert "3 scale models ready (12 versions added)" in out
    owner = User.objects.get(username="scale-owner")
    models = list(RegisteredModel.objects.order_by("slug"))
    assert [m.slug for m in models] == SLUGS
    for model in models:
        assert model.owner == owner
        assert Access(owner).holds(model, MANAGE)
        assert sorted(model.versions.values_list("name", flat=True)) == ["v1", "v2", "v3", "v4"]
    # The oldest half archived, one in Production, the newest not yet staged.
    expected = {Stage.ARCHIVED: 2, Stage.PRODUCTION: 1, Stage.UNASSIGNED: 1}
    assert stage_counts() == {slug: [expected.get(stage, 0) for stage in STAGE_ORDER] for slug in SLUGS}
    seeded = stage_counts()
    recount_stage_counts()
    assert stage_counts() == seeded
    logged = Counter(ActivityEntry.objects.values_list("verb", flat=True))
    assert logged == {Verb.MODEL_REGISTERED: 3, Verb.VERSION_REGISTERED: 12, Verb.STAGE_CHANGED: 9}


def test_pending_requests_wait_on_the_newest_versions_one_per_version(db: None) -> None:
    out = seed(models=3, versions_per_model=4, pending_requests=2)

    assert "2 pending requests added." in out
    editor = User.objects.get(username="scale-editor")
    reviewer = User.objects.get(username="scale-reviewer")
    pending = list(StageChangeRequest.objects.filter(status=Status.PENDING).select_related("version__model"))
    assert sorted((r.version.model.slug, r.version.name) for r in pending) == [(SLUGS[0], "v4"), (SLUGS[1], "v4")]
    for change_request in pending:
        model = change_request.version.model
        assert change_request.requester == editor
        assert change_request.from_stage == change_request.version.stage
        assert change_request.to_stage != change_request.from_stage
        assert Access(editor).holds(model, REQUEST)
        assert Access(reviewer).holds(model, REVIEW)
        assert ActivityEntry.objects.get(
            verb=Verb.STAGE_CHANGE_REQUESTED,
            version=change_request.version,
            extra={"change_request": change_request.pk},
        )


def test_activity_entries_top_the_log_up_without_moving_a_stage(db: None) -> None:
    if connection.vendor == "postgresql":  # link entries as they are written, as the seed's commits would
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS activity_entry_chain IMMEDIATE")
    keys = foreign_keys()

    out = seed(**TINY)

    assert "activity entries added." in out
    assert ActivityEntry.objects.count() == 200
    assert foreign_keys() == keys
    pending = list(StageChangeRequest.objects.filter(status=Status.PENDING).values_list("version_id", flat=True))
    assert len(pending) == len(set(pending)) == 2
    padded = ActivityEntry.objects.filter(actor__username__startswith="scale-user-")
    assert {
        Verb.COMMENTED,
        Verb.STAGE_CHANGE_REQUESTED,
        Verb.STAGE_CHANGE_REJECTED,
        Verb.STAGE_CHANGE_CANCELLED,
        Verb.VERSION_EDITED,
        Verb.LOCK_CHANGED,
        Verb.MODEL_EDITED,
    } <= set(padded.values_list("verb", flat=True))
    assert not padded.filter(created_at__gt=timezone.now() - timedelta(days=QUIET_DAYS))
    owner = User.objects.get(username="scale-owner")
    assert selectors.search_activity(user=owner, params=QueryDict(f"q={RARE_WORD}")).page.object_list
    # Each version still ends its logged history in its stage, and the counts still match the versions.
    for version in ModelVersion.objects.exclude(stage=Stage.UNASSIGNED):
        moves = ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGED).order_by("created_at", "pk")
        last = moves.last()
        assert last is not None
        assert last.to_stage == version.stage
    seeded = stage_counts()
    recount_stage_counts()
    assert stage_counts() == seeded
    # Every entry keeps its names, and the log is one intact hash chain.
    assert not ActivityEntry.objects.filter(actor_username="").exists()
    assert not ActivityEntry.objects.filter(model__isnull=False, model_name="").exists()
    assert not ActivityEntry.objects.filter(version__isnull=False, version_name="").exists()
    finding = chain.verify()
    assert finding.ok, finding.problem
    assert finding.checked == 200


def test_padded_requests_are_closed_and_no_two_are_open_at_once_on_a_version(db: None) -> None:
    seed(**TINY)

    closed = list(StageChangeRequest.objects.exclude(status=Status.PENDING).prefetch_related("reviews"))
    assert closed
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for change_request in closed:
        resolved_at = change_request.resolved_at
        assert resolved_at is not None
        assert resolved_at > change_request.created_at
        decisions = [(r.reviewer_id, r.decision) for r in change_request.reviews.all()]
        if change_request.status == Status.REJECTED:
            assert decisions == [(change_request.resolved_by_id, Decision.REJECT)]
        else:
            assert change_request.status == Status.CANCELLED
            assert decisions == []
            assert change_request.resolved_by_id == change_request.requester_id
        spans.setdefault(change_request.version_id, []).append((change_request.created_at, resolved_at))
    for change_request in StageChangeRequest.objects.filter(status=Status.PENDING):
        spans.setdefault(change_request.version_id, []).append((change_request.created_at, timezone.now()))
    for version_spans in spans.values():
        for (_, closed_at), (opened_at, _) in pairwise(sorted(version_spans)):
            assert closed_at <= opened_at


def test_a_rerun_adds_nothing_and_says_so(db: None) -> None:
    seed(**TINY)
    before = row_counts()

    out = seed(**TINY)

    assert row_counts() == before
    assert "0 pending requests added." in out
    assert "0 activity entries added." in out
    assert "3 scale models ready (0 versions added)" in out


def test_a_larger_rerun_adds_only_what_is_missing(db: None) -> None:
    seed(**TINY)

    out = seed(models=4, versions_per_model=5, pending_requests=3, activity_entries=300)

    assert "4 scale models ready (8 versions added)" in out
    assert "1 pending requests added." in out
    assert ActivityEntry.objects.count() == 300
    for model in RegisteredModel.objects.all():
        assert sorted(model.versions.values_list("name", flat=True)) == ["v1", "v2", "v3", "v4", "v5"]
    assert StageChangeRequest.objects.filter(status=Status.PENDING).count() == 3
    seeded = stage_counts()
    recount_stage_counts()
    assert stage_counts() == seeded


@pytest.mark.parametrize("option", ["models", "versions_per_model", "pending_requests", "activity_entries"])
def test_a_negative_size_is_refused_before_anything_is_written(db: None, option: str) -> None:
    with pytest.raises(CommandError, match=f"^--{option.replace('_', '-')} must be zero or more, not -1.$"):
        seed(**{option: -1})

    assert row_counts() == {"users": 0, "models": 0, "versions": 0, "requests": 0, "reviews": 0, "entries": 0}


def test_a_size_that_is_not_a_number_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match="argument --models: invalid int value: 'many'"):
        call_command("seed_scale", "--models", "many", stdout=StringIO())

    assert not User.objects.exists()


def test_padding_with_no_versions_to_pad_is_refused_and_writes_nothing(db: None) -> None:
    seed(models=2, versions_per_model=0)
    before = row_counts()

    with pytest.raises(CommandError, match="seed the versions first"):
        seed(models=2, versions_per_model=0, activity_entries=100)

    assert row_counts() == before


# The suite runs on one database; this runs the command as `make bench` does, in a fresh process and database, on
# the other one, so that a migration or a change of SQL cannot break either dialect unnoticed.
@pytest.fixture
def other_database(tmp_path: Path) -> Iterator[tuple[str, Callable[[str], int]]]:
    """The URL of a fresh, empty database of the dialect the suite does not run on, and a way to count in it."""
    if connection.vendor == "postgresql":
        path = tmp_path / "x.sqlite3"

        def count_sqlite(sql: str) -> int:
            with closing(sqlite3.connect(path)) as db:
                return int(db.execute(sql).fetchone()[0])

        yield f"sqlite:///{path}", count_sqlite
        return
    name = f"seed_scale_smoke_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {str(error).splitlines()[0]}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:

            def count_postgres(sql: str) -> int:
                with psycopg.connect(url) as db:
                    row = db.execute(sql).fetchone()
                    assert row is not None
                    return int(row[0])

            yield url, count_postgres
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def manage(url: str, *args: str) -> str:
    env = os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def test_migrate_and_seed_scale_work_on_the_other_database(other_database: tuple[str, Callable[[str], int]]) -> None:
    url, count = other_database
    manage(url, "migrate", "--noinput", "--verbosity", "0")

    first = manage(url, "seed_scale", *TINY_ARGS)
    again = manage(url, "seed_scale", *TINY_ARGS)

    assert "3 scale models ready (12 versions added)" in first
    assert "3 scale models ready (0 versions added)" in again
    assert "0 activity entries added." in again
    assert count("SELECT COUNT(*) FROM catalog_registeredmodel WHERE slug LIKE 'scale-model-%'") == 3
    assert count("SELECT COUNT(*) FROM catalog_modelversion") == 12
    assert count("SELECT COUNT(*) FROM approvals_stagechangerequest WHERE status = 'pending'") == 2
    assert count("SELECT COUNT(*) FROM activity_activityentry") == 200
    assert count("SELECT COUNT(*) FROM activity_activityentry WHERE actor_username = ''") == 0
    assert "The activity log is intact: 200 entries" in manage(url, "verify_activity_log")
    for stage in STAGE_ORDER:
        field = stage_count_field(stage)
        in_stage = count(f"SELECT COUNT(*) FROM catalog_modelversion WHERE stage = '{stage.value}'")
        assert count(f"SELECT COALESCE(SUM({field}), 0) FROM catalog_registeredmodel") == in_stage, stage
