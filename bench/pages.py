"""Server time and query count of the main pages at 10,000 models / 100,000 versions.

Seeds a throwaway database (SQLite always; PostgreSQL too when DATABASE_URL points at one), then requests
each page through the full middleware stack with Django's test client as a signed-in, non-superuser owner,
and prints the median and p95 time, the query count, and each page's ratio to a minimal page (the floor).

    python bench/pages.py [--models 10000] [--versions 10] [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

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
    ("inbox, page 200 (htmx)", "/approvals/?page=200", {"HX-Request": "true", "HX-Target": "inbox-results"}),
]


def run_backend(backend: str, models: int, versions: int, runs: int) -> None:
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
    rows += [measure(reviewer, name, path, headers, runs) for name, path, headers in REVIEWER_PAGES]
    rows.append(round_trip(editor, reviewer, models, runs))

    floor = rows[0][1]
    print(
        f"\n{backend}: {models:,} models / {models * versions:,} versions (seeded in {seeded:.0f}s), {runs} runs each\n"
    )
    print("| page | median ms | p95 ms | queries | × floor |")
    print("|---|---:|---:|---:|---:|")
    for name, median, p95, n in rows:
        print(f"| {name} | {median:.1f} | {p95:.1f} | {n} | {median / floor:.1f} |")


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
    parser.add_argument("--backend", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        run_backend(args.backend, args.models, args.versions, args.runs)
        return

    child = [sys.executable, __file__, "--models", str(args.models), "--versions", str(args.versions)]
    child += ["--runs", str(args.runs)]
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    with tempfile.TemporaryDirectory() as tmp:
        env = base_env | {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}
        subprocess.run([*child, "--backend", "sqlite"], env=env, check=True)

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = "modelcatalog_bench"
        admin_url = postgres_url(database_url, "postgres")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        try:
            env = base_env | {"DATABASE_URL": postgres_url(database_url, name)}
            subprocess.run([*child, "--backend", "postgres"], env=env, check=True)
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        print("\n(PostgreSQL skipped: set DATABASE_URL=postgres://... to measure it too.)")


if __name__ == "__main__":
    main()
