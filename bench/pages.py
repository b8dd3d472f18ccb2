"""Server time and query count of the main pages at 10,000 models / 100,000 versions.

Seeds a throwaway database (SQLite always; PostgreSQL too when DATABASE_URL points at one), then requests
each page through the full middleware stack with Django's test client as a signed-in, non-superuser owner,
and prints the median and p95 time, the query count, and each page's ratio to a minimal page (the floor).

Then it tops the activity log up (seed_scale --activity-entries), first by a tenth of the way, then to
--activity entries, measures the pages that read the log at both sizes (their query counts must not change),
and streams the CSV and JSON-lines exports, 100,000 rows and then all of them, with their peak Python memory.

    python bench/pages.py [--models 10000] [--versions 10] [--runs 40] [--activity 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HTMX_VERSIONS = {"HX-Request": "true", "HX-Target": "versions-results"}


def owner_pages(middle: str) -> list[tuple[str, str, dict[str, str]]]:
    """The pages seen by scale-owner, who owns every model; middle is the slug number of a model to open."""
    return [
        ("floor: minimal page", "/healthz/", {}),
        ("home", "/", {}),
        ("catalog", "/models/", {}),
        ("catalog, in Production", "/models/?stage=production", {}),
        ("catalog, most production", "/models/?sort=production", {}),
        ("catalog, search + page 3", "/models/?q=model+04&page=3", {}),
        ("versions explorer", "/versions/", {}),
        ("versions explorer, stage == production", "/versions/?find=stage+%3D%3D+production", {}),
        ("versions explorer, find with a label", "/versions/?find=labels+%3D%3D+nlp", {}),
        ("model card", f"/models/scale-model-{middle}/", {}),
        ("versions tab (htmx)", f"/models/scale-model-{middle}/?sort=changed", HTMX_VERSIONS),
        ("activity tab", f"/models/scale-model-{middle}/activity/", {}),
        ("collaborators tab", f"/models/scale-model-{middle}/collaborators/", {}),
        ("version page", f"/models/scale-model-{middle}/versions/v5/", {}),
        ("version page, pending request", f"/models/scale-model-{middle}/versions/v10/", {}),
        ("Pending Approvals tab", f"/models/scale-model-{middle}/pending/", {}),
    ]  # fmt: skip


# Seen by scale-reviewer, who may review all 10,000 pending requests.
REVIEWER_PAGES: list[tuple[str, str, dict[str, str]]] = [
    ("inbox (10,000 pending)", "/approvals/", {}),
    ("inbox, filtered", "/approvals/?to_stage=development&model=0500", {}),
    # {deep}: the keyset cursor of the request halfway down the backlog, filled in once it is seeded.
    (
        "inbox, halfway down the backlog (htmx)",
        "/approvals/?after={deep}",
        {"HX-Request": "true", "HX-Target": "inbox-results"},
    ),
]


HTMX_ACTIVITY = {"HX-Request": "true", "HX-Target": "activity-results"}
RARE_WORD = "heteroscedastic"  # in about one padding comment in 700 (seed_scale)
EXPORT_SAMPLE = 100_000


def activity_pages(middle: str, before: str, at: str, since: str, until: str) -> list[tuple[str, str, dict[str, str]]]:
    """The pages that read the activity log, seen by scale-owner; before is a cursor halfway back through the log."""
    rejected = urlencode({"kind": "stage_change_rejected", "since": since, "until": until})
    return [
        ("activity page", "/activity/", {}),
        ("activity, by actor and target stage", "/activity/?actor=scale-user-07&stage=production", {}),
        ("activity, rejections in a month (htmx)", f"/activity/?{rejected}", HTMX_ACTIVITY),
        ("activity, older page halfway back", f"/activity/?before={before}", {}),
        (f"activity, comments containing “{RARE_WORD}”", f"/activity/?q={RARE_WORD}", {}),
        ("model Activity tab", f"/models/scale-model-{middle}/activity/", {}),
        ("version page (stage timeline)", f"/models/scale-model-{middle}/versions/v5/", {}),
        ("model history “as of” 150 days ago", f"/models/scale-model-{middle}/history/?{urlencode({'at': at})}", {}),
        ("home (Production chart, lead times)", "/", {}),
    ]  # fmt: skip


def run_backend(backend: str, models: int, versions: int, runs: int, activity: int) -> None:
    """Seed and measure in this process, whose DATABASE_URL the parent chose."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command(
        "seed_scale",
        models=models,
        versions_per_model=versions,
        pending_requests=models,
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seeded = time.monotonic() - started

    owner, reviewer, editor = (Client() for _ in range(3))
    owner.force_login(User.objects.get(username="scale-owner"))
    reviewer.force_login(User.objects.get(username="scale-reviewer"))
    editor.force_login(User.objects.get(username="scale-editor"))
    pages = owner_pages(f"{models // 2:05d}")
    rows = [measure(owner, name, path, headers, runs) for name, path, headers in pages]
    from approvals.models import StageChangeRequest
    from core.keyset import Cursor

    pending = StageChangeRequest.objects.filter(status="pending").order_by("created_at", "id")
    deep = str(Cursor.of(pending[pending.count() // 2]))
    rows += [measure(reviewer, name, path.format(deep=deep), headers, runs) for name, path, headers in REVIEWER_PAGES]
    rows.append(round_trip(editor, reviewer, models, runs))
    from bench.api import api_rows

    rows += api_rows(models, runs, measure, percentile95)

    floor = rows[0][1]
    print(
        f"\n{backend}: {models:,} models / {models * versions:,} versions (seeded in {seeded:.0f}s), {runs} runs each\n"
    )
    print("| page | median ms | p95 ms | queries | × floor |")
    print("|---|---:|---:|---:|---:|")
    for name, median, p95, n in rows:
        print(f"| {name} | {median:.1f} | {p95:.1f} | {n} | {median / floor:.1f} |")
    sys.stdout.flush()
    if activity:
        run_activity(backend, owner, models, versions, runs, activity, floor)


def top_up(entries: int, models: int, versions: int) -> tuple[int, float]:
    """Pad the log to entries (seed_scale --activity-entries), then refresh the planner's statistics as autovacuum
    would; returns the log's size and the seconds the padding took."""
    from django.core.management import call_command
    from django.db import connection

    from activity.models import ActivityEntry

    started = time.monotonic()
    quiet = open(os.devnull, "w")  # noqa: SIM115
    call_command("seed_scale", models=models, versions_per_model=versions, activity_entries=entries, stdout=quiet)
    took = time.monotonic() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return ActivityEntry.objects.count(), took


def activity_paths(middle: str) -> list[tuple[str, str, dict[str, str]]]:
    """The activity pages for the log as it is now, each checked to list something (a filter that matches nothing
    would measure an empty page)."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.http import QueryDict
    from django.utils import timezone

    from activity import selectors
    from activity.models import ActivityEntry
    from core.keyset import Cursor

    owner = User.objects.get(username="scale-owner")
    newest_first = ActivityEntry.objects.order_by("-created_at", "-pk")
    halfway = newest_first.only("pk", "created_at")[newest_first.count() // 2]
    now = timezone.localtime()
    month_ago = (now - timedelta(days=35)).date()
    pages = activity_pages(
        middle,
        before=str(Cursor.of(halfway)),
        at=(now - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M"),
        since=month_ago.isoformat(),
        until=(month_ago + timedelta(days=30)).isoformat(),
    )
    for name, path, _ in pages:
        if path.startswith("/activity/"):
            query = QueryDict(path.partition("?")[2])
            assert selectors.search_activity(user=owner, params=query).page.object_list, f"{name}: no entries"
    return pages


GROWTH_LIMIT = 1.3  # a page's median at the full log against a tenth of it, beyond this machine's noise


def run_activity(backend: str, owner: Any, models: int, versions: int, runs: int, activity: int, floor: float) -> None:
    """Measure the log's pages a tenth of the way to activity entries and at activity; then the exports."""
    from activity.models import ActivityEntry

    middle = f"{models // 2:05d}"
    seeded = ActivityEntry.objects.count()
    small, small_took = top_up(seeded + max(activity - seeded, 0) // 10, models, versions)
    before = [measure(owner, name, path, headers, runs) for name, path, headers in activity_paths(middle)]
    large, large_took = top_up(activity, models, versions)
    after = [measure(owner, name, path, headers, runs) for name, path, headers in activity_paths(middle)]

    print(
        f"\n{backend}: activity log at {small:,} entries (padded in {small_took:.0f}s) and at {large:,} "
        f"(padded in {large_took:.0f}s), {runs} runs each\n"
    )
    print(f"| page | median ms at {small:,} | median ms | p95 ms | queries at {small:,} | queries | × floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (name, small_median, _, small_n), (_, median, p95, n) in zip(before, after, strict=True):
        flag = "" if n == small_n else " ≠"
        print(
            f"| {name} | {small_median:.1f} | {median:.1f} | {p95:.1f} | {small_n} | {n}{flag} | {median / floor:.1f} |"
        )
    # No page may grow with the log: a query that scans it shows here first (the navigation's unread count once did,
    # 100 ms a page at 1,000,000 entries).
    grew = [f"{b[0]} ({b[1] / a[1]:.1f}×)" for a, b in zip(before, after, strict=True) if b[1] > GROWTH_LIMIT * a[1]]
    if grew and large > small:
        print(f"\nGREW WITH THE LOG (over {GROWTH_LIMIT}× from {small:,} to {large:,} entries): {', '.join(grew)}")
    sys.stdout.flush()
    if os.environ.get("BENCH_SKIP_EXPORTS"):  # the exports take minutes; skip them when only the pages are wanted
        return

    print(f"\n{backend}: exports of the whole log as scale-owner, streamed through the test client\n")
    print("| export | rows | MB | seconds | seconds with tracemalloc | peak Python MiB | queries |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt in ("csv", "jsonl"):
        for limit in (EXPORT_SAMPLE, None):
            untraced = stream_export(owner, fmt, limit, trace=False)
            traced = stream_export(owner, fmt, limit, trace=True)
            rows, size, seconds, _, queries = untraced
            print(
                f"| {fmt}, {'first ' if limit else 'all '}{rows:,} rows | {rows:,} | {size / 1e6:.1f} | {seconds:.1f} "
                f"| {traced[2]:.1f} | {traced[3] / 2**20:.1f} | {queries} |"
            )
    sys.stdout.flush()


def stream_export(client: Any, fmt: str, limit: int | None, *, trace: bool) -> tuple[int, int, float, int, int]:
    """Rows, bytes, seconds, peak traced bytes (0 untraced) and queries of GET /activity/export.fmt, read as a
    client would, a chunk at a time, stopping after limit rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if trace:
        tracemalloc.start()
    rows = -1 if fmt == "csv" else 0  # the CSV's header line is not a row
    size = 0
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        response = client.get(f"/activity/export.{fmt}")
        assert response.status_code == 200, response.status_code
        assert response.streaming, fmt
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
            if limit and rows >= limit:
                break
        response.close()
        seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return rows, size, seconds, peak, len(queries)


def measure(client: Any, name: str, path: str, headers: dict[str, str], runs: int) -> tuple[str, float, float, int]:
    """Median and p95 milliseconds and the query count of GET path."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and connections
        assert client.get(path, headers=headers).status_code == 200, path
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            response = client.get(path, headers=headers)
            timings.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, path
    return (name, statistics.median(timings), percentile95(timings), len(queries))


def percentile95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


def round_trip(editor: Any, reviewer: Any, models: int, runs: int) -> tuple[str, float, float, int]:
    """Request a stage change (POST) as the editor, then approve it (POST) as the reviewer; one version per run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.models import StageChangeRequest

    timings, queries = [], 0
    for n in range(runs):
        slug = f"scale-model-{models - n:05d}"
        version = f"/models/{slug}/versions/v9/"
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            made = editor.post(f"{version}request/", {"to_stage": "staging", "comment": "bench"})
            change_request = StageChangeRequest.objects.filter(version__model__slug=slug, status="pending").latest("id")
            approved = reviewer.post(f"/approvals/requests/{change_request.pk}/approve/", {"comment": "ok"})
            timings.append((time.perf_counter() - t0) * 1000)
        assert made.status_code == approved.status_code == 302, (made.status_code, approved.status_code)
        change_request.refresh_from_db()
        assert change_request.status == "approved", change_request.status
        queries = len(captured) - 1  # less the lookup of the request's id, which a user gets from the page
    return ("request → approve round trip (2 POSTs)", statistics.median(timings), percentile95(timings), queries)


def postgres_url(base: str, name: str) -> str:
    parts = urlparse(base)
    return urlunparse(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=10, help="versions per model")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--activity", type=int, default=1_000_000, help="activity log entries to measure at (0: skip the log)"
    )
    parser.add_argument(
        "--sqlite-activity", type=int, help="activity log entries on SQLite, when fewer than --activity"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        run_backend(args.backend, args.models, args.versions, args.runs, args.activity)
        return

    child = [sys.executable, __file__, "--models", str(args.models), "--versions", str(args.versions)]
    child += ["--runs", str(args.runs)]
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    sqlite_activity = args.activity if args.sqlite_activity is None else min(args.sqlite_activity, args.activity)
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env | {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
        subprocess.run([*child, "--activity", str(sqlite_activity), "--backend", "sqlite"], env=env, check=True)

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        # Named after DATABASE_URL's database (modelcatalog_bench for modelcatalog), so that two checkouts benching
        # on one server do not drop each other's.
        name = f"{urlparse(database_url).path.strip('/') or 'modelcatalog'}_bench"
        database = sql.Identifier(name)
        admin_url = postgres_url(database_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(database))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(database))
        try:
            env = base_env | {"DATABASE_URL": postgres_url(database_url, name)}
            subprocess.run([*child, "--activity", str(args.activity), "--backend", "postgres"], env=env, check=True)
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
    else:
        print("\n(PostgreSQL skipped: set DATABASE_URL=postgres://... to measure it too.)")


if __name__ == "__main__":
    main()
