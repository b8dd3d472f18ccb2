"""What the activity log's hash chain costs: request → approve round trips at 8 concurrent reviewers, with the chain
and without it (its trigger disabled for this comparison only), on PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelcatalog_bench_chain .venv/bin/python bench/chain.py

The database named is dropped and created afresh (a superuser's URL: the script switches the trigger off and on).
Each of 8 threads, with its own connection, has an editor who requests a stage change of its own version and a
reviewer who approves it (one approval needed), through the services the pages and the API call; two threads share
each model. Rounds alternate chain on and off, so that a slower minute of a shared machine hits both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--round-trips", type=int, default=20, help="per thread and round (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each mode, alternating (default 3)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set BENCH_DATABASE_URL to a PostgreSQL database this script may drop and create (as a superuser).")
    _fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    versions = _catalog()
    results: dict[str, list[float]] = {"chain": [], "no chain": []}
    walls: dict[str, float] = {"chain": 0.0, "no chain": 0.0}
    for _ in range(args.rounds):
        for mode in ("chain", "no chain"):
            _chain_trigger(enabled=mode == "chain")
            latencies, wall = _round(versions, args.round_trips)
            results[mode] += latencies
            walls[mode] += wall
    _chain_trigger(enabled=True)
    _report(results, walls)


def _fresh_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _catalog() -> list[tuple[object, object, object]]:
    """For each thread: its editor, its reviewer and its version (two threads per model)."""
    from django.contrib.auth.models import User

    from catalog.permissions import Role
    from catalog.services import add_collaborator, register_model, register_version

    owner = User.objects.create_user("bench-owner", password="x")
    out: list[tuple[object, object, object]] = []
    for n in range(THREADS):
        if n % 2 == 0:
            model = register_model(actor=owner, name=("Churn", "Fraud", "Search", "Vision")[n // 2] + " bench")
        editor = User.objects.create_user(f"bench-editor-{n}", password="x")
        reviewer = User.objects.create_user(f"bench-reviewer-{n}", password="x")
        add_collaborator(actor=owner, model=model, user=editor, role=Role.EDITOR)
        add_collaborator(actor=owner, model=model, user=reviewer, role=Role.REVIEWER)
        version = register_version(actor=editor, model=model, name=f"v{n}")
        out.append((editor, reviewer, version))
    return out


def _chain_trigger(*, enabled: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        state = "ENABLE" if enabled else "DISABLE"
        cursor.execute(f"ALTER TABLE activity_activityentry {state} TRIGGER activity_entry_chain")


def _round(versions: list[tuple[object, object, object]], count: int) -> tuple[list[float], float]:
    from django.db import connections

    from approvals import services as workflow
    from catalog.models import ModelVersion, Stage

    latencies: list[float] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    lock = threading.Lock()

    def run(editor: object, reviewer: object, version: object) -> None:
        mine: list[float] = []
        try:
            start.wait()
            for _ in range(count):
                current = ModelVersion.objects.get(pk=version.pk)  # type: ignore[attr-defined]
                target = Stage.STAGING if current.stage == Stage.DEVELOPMENT else Stage.DEVELOPMENT
                began = time.perf_counter()
                change_request = workflow.request_stage_change(actor=editor, version=current, to_stage=target)  # type: ignore[arg-type]
                workflow.approve_change_request(actor=reviewer, change_request=change_request)  # type: ignore[arg-type]
                mine.append((time.perf_counter() - began) * 1000)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=run, args=item) for item in versions]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise errors[0]
    return latencies, wall


def _report(results: dict[str, list[float]], walls: dict[str, float]) -> None:
    print(f"request → approve round trips, {THREADS} concurrent reviewers (PostgreSQL)")
    print(f"{'mode':<10} {'round trips':>11} {'median ms':>10} {'p95 ms':>8} {'per second':>11}")
    for mode, latencies in results.items():
        p95 = statistics.quantiles(latencies, n=20)[-1]
        rate = len(latencies) / walls[mode]
        print(f"{mode:<10} {len(latencies):>11} {statistics.median(latencies):>10.1f} {p95:>8.1f} {rate:>11.1f}")
    with_chain, without = statistics.median(results["chain"]), statistics.median(results["no chain"])
    rates = {mode: len(latencies) / walls[mode] for mode, latencies in results.items()}
    print(
        f"the chain's cost: median {100 * (with_chain / without - 1):+.1f}%, "
        f"throughput {100 * (rates['chain'] / rates['no chain'] - 1):+.1f}%"
    )


if __name__ == "__main__":
    main()
