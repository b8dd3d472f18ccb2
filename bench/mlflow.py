"""MLflow's registry API, served by Model Catalog and by MLflow's own server, side by side on the same PostgreSQL.

Loads the same catalog into both (ours with `seed_scale`, MLflow's with SQL straight into its tables, which its
server created), serves ours with gunicorn and MLflow's with `mlflow server`, both with the same number of workers,
then times `registered-models/search` (a page of 100, with the filter MLflow's client always sends) and
`model-versions/search` for one model against both, interleaved, each call on a new connection. Last, it imports the
MLflow server's registry into a third database with `manage.py import_mlflow` and reports the rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelcatalog python bench/mlflow.py [--models 10000]
        [--versions 5] [--runs 40] [--workers 3] [--port 8102] [--mlflow-port 8104]

Writes bench/results/mlflow.json and prints a table. It creates (and drops first) three databases named after
DATABASE_URL's: <name>_mlbench, <name>_mlbench_mlflow and <name>_mlbench_import.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.mlflow_server import MLFLOW_VERSION, free_port, mlflow_server  # noqa: E402
from bench.side_by_side import (  # noqa: E402
    API,
    PROMPT_FILTER,
    Ours,
    Side,
    compare_pages,
    compare_throughput,
    signed_in,
    summary,
    worker_memory_mib,
)

PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results" / "mlflow.json"


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def stage_names(per_model: int) -> list[str]:
    """MLflow's stage of versions 1..per_model, as seed_scale spreads ours."""
    import django

    django.setup()
    from bench.seeding.catalog import version_stage
    from mlflow_compat.translate import TO_MLFLOW_STAGE

    return [TO_MLFLOW_STAGE[version_stage(n, per_model)] for n in range(per_model)]


def load_mlflow(url: str, models: int, per_model: int) -> float:
    """The same catalog as seed_scale's, in MLflow's tables (names, descriptions, versions, stages, sources, tags)."""
    started = time.monotonic()
    stages = stage_names(per_model)
    stage_case = " ".join(f"WHEN {n + 1} THEN '{stage}'" for n, stage in enumerate(stages))
    day = 86_400_000
    created = f"%(t0)s::bigint + (n - 1)::bigint * 25 * {day} + i * 60000"  # bigint: milliseconds overflow int
    with psycopg.connect(url) as db:
        db.execute(
            """INSERT INTO registered_models (name, creation_time, last_updated_time, description, workspace)
               SELECT 'Scale model ' || lpad(i::text, 5, '0'), %(t0)s + i * 60000, %(t0)s + i * 60000,
                      'Synthetic model ' || i || ' for benchmark workloads.', 'default'
               FROM generate_series(1, %(models)s) AS i""",
            {"t0": int(time.time() * 1000) - 365 * day, "models": models},
        )
        db.execute(
            f"""INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id,
                                            current_stage, source, run_id, status, status_message, run_link,
                                            storage_location, workspace)
               SELECT 'Scale model ' || lpad(i::text, 5, '0'), n, {created}, {created},
                      'Version ' || n || '.', 'scale-owner',
                      CASE n {stage_case} END, 's3://scale/' || i || '/v' || n || '/model.bin', '', 'READY', '', '',
                      's3://scale/' || i || '/v' || n || '/model.bin', 'default'
               FROM generate_series(1, %(models)s) AS i, generate_series(1, %(per_model)s) AS n""",
            {"t0": int(time.time() * 1000) - 300 * day, "models": models, "per_model": per_model},
        )
        db.execute(
            """INSERT INTO model_version_tags (key, value, name, version, workspace)
               SELECT tag.key,
                      CASE tag.key WHEN 'framework' THEN 'xgboost' ELSE '0.' || (700 + (i * 7 + v.n) %% 290) END,
                      'Scale model ' || lpad(i::text, 5, '0'), v.n, 'default'
               FROM generate_series(1, %(models)s) AS i, generate_series(1, %(per_model)s) AS v(n),
                    (VALUES ('framework'), ('auc')) AS tag(key)""",
            {"models": models, "per_model": per_model},
        )
        db.execute("ANALYZE")
    return time.monotonic() - started


SESSIONS = """
from django.contrib.auth.models import User
from django.test import Client
from bench.seeding.catalog import grant_role, seed_user
from bench.seeding.data import OWNER, REVIEWER
from catalog.models import RegisteredModel
from catalog.permissions import Role

reviewer = seed_user(username=REVIEWER)
grant_role(user=reviewer, role=Role.REVIEWER, model_ids=list(RegisteredModel.objects.values_list("pk", flat=True)))
for name in (OWNER, REVIEWER):
    client = Client()
    client.force_login(User.objects.get(username=name))
    print(client.cookies["sessionid"].value)
"""


def sessions(env: dict[str, str]) -> tuple[str, str]:
    """Sessions of scale-owner (who owns every model) and scale-reviewer (made a Reviewer of every model here)."""
    owner, reviewer = manage(env, "shell", "--no-imports", "-c", SESSIONS).split()[-2:]
    return owner, reviewer


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def timed_get(
    client: httpx.Client, url: str, params: list[tuple[str, str]], headers: dict[str, str]
) -> tuple[float, Any]:
    """One GET on a new connection, in milliseconds, with its JSON. One client for every call, each asking for its
    connection to be closed: making a client takes ~28 ms here (an SSL context, even for http://), the same for both
    servers, which timed per call hid most of the difference between them."""
    started = time.perf_counter()
    answer = client.get(url, params=tuple(params), headers=headers | {"Connection": "close"})
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}: {answer.text[:300]}")
    return elapsed, answer.json()


def main() -> None:
    # Django's logging, set up for stage_names, would print every call.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8102, help="our gunicorn's port (0: a free one)")
    parser.add_argument("--mlflow-port", type=int, default=8104, help="MLflow's server's port (0: a free one)")
    parser.add_argument("--clients", type=int, default=8, help="clients at once in the throughput runs")
    parser.add_argument("--seconds", type=float, default=10, help="length of each throughput run")
    parser.add_argument("--skip-import", action="store_true", help="leave out the import_mlflow run")
    parser.add_argument("--markdown", action="store_true", help=f"print the README's tables from {RESULTS.name} only")
    args = parser.parse_args()
    if args.markdown:
        print_markdown(json.loads(RESULTS.read_text()))
        return
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (postgres://user@host:5432/name).")
    name = urlsplit(base).path.lstrip("/") or "modelcatalog"
    admin = database_url(base, "postgres")
    ours_db, mlflow_db, import_db = f"{name}_mlbench", f"{name}_mlbench_mlflow", f"{name}_mlbench_import"
    for db_name in (ours_db, mlflow_db, import_db):
        recreate(admin, db_name)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_LOCAL_HTTP": "1",  # session and CSRF cookies over plain HTTP on this machine
        "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
    }
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    ours_env = env | {"DATABASE_URL": database_url(base, ours_db)}

    print(f"Seeding {args.models:,} models × {args.versions} versions into {ours_db} …", flush=True)
    started = time.monotonic()
    manage(ours_env, "migrate", "--noinput")
    manage(ours_env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(ours_env, "seed_scale", "--models", str(args.models), "--versions-per-model", str(args.versions))
    token = manage(ours_env, "create_api_token", "scale-owner", "--name", "bench-mlflow").strip().splitlines()[-1]
    with psycopg.connect(database_url(base, ours_db), autocommit=True) as db:
        db.execute("ANALYZE")
    seeded_ours = time.monotonic() - started

    owner_session, reviewer_session = sessions(ours_env)
    imported = None

    port = args.port or free_port()
    ours_url = f"http://127.0.0.1:{port}"
    serve = [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    gunicorn = subprocess.Popen(
        [*serve, "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT,
        env=ours_env,
    )
    try:
        wait_for(f"{ours_url}/healthz/")
        mlflow_store = database_url(base, mlflow_db).replace("postgres://", "postgresql://", 1)
        with mlflow_server(
            backend_store_uri=mlflow_store, workers=args.workers, port=args.mlflow_port or None
        ) as mlflow_running:
            mlflow_url = mlflow_running.url
            print(f"Loading the same catalog into MLflow's tables ({mlflow_db}) …", flush=True)
            seeded_mlflow = load_mlflow(database_url(base, mlflow_db), args.models, args.versions)
            results = compare(ours_url, mlflow_url, token, args)
            ours = Ours(
                ours_url,
                signed_in(ours_url, owner_session),
                signed_in(ours_url, reviewer_session),
                database_url(base, ours_db),
            )
            mlflow_side = Side(mlflow_url, {}, {})
            print("Our pages against the MLflow calls that show the same data …", flush=True)
            pages = compare_pages(ours, mlflow_side, models=args.models, versions=args.versions, runs=args.runs)
            print(f"Throughput with {args.clients} clients at once …", flush=True)
            throughput = compare_throughput(
                ours, mlflow_side, models=args.models, clients=args.clients, seconds=args.seconds
            )
            memory = {"ours": worker_memory_mib(gunicorn.pid), "mlflow": worker_memory_mib(mlflow_running.pid)}
            if not args.skip_import:
                print("Importing MLflow's registry into a third database with import_mlflow …", flush=True)
                imported = import_rate(env | {"DATABASE_URL": database_url(base, import_db)}, mlflow_url)
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    report = {
        "measured": time.strftime("%Y-%m-%d"),
        "models": args.models,
        "versions_per_model": args.versions,
        "runs": args.runs,
        "workers": args.workers,
        "mlflow": MLFLOW_VERSION,
        "seconds_to_seed": {"ours": round(seeded_ours, 1), "mlflow_sql": round(seeded_mlflow, 1)},
        "calls": results,
        "pages": pages,
        "throughput": throughput,
        "worker_memory_mib": {side: [round(size, 1) for size in sizes] for side, sizes in memory.items()},
        "import": imported,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")


def compare(ours_url: str, mlflow_url: str, token: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    middle = f"Scale model {args.models // 2:05d}"
    calls = [
        (
            "registered-models/search (page of 100)",
            "registered-models/search",
            [("max_results", "100"), ("filter", PROMPT_FILTER)],
            lambda body: len(body.get("registered_models", [])) == 100,
        ),
        (
            "model-versions/search for one model",
            "model-versions/search",
            [("filter", f"name='{middle}'")],
            lambda body: len(body.get("model_versions", [])) == args.versions,
        ),
    ]
    sides = {"ours": (ours_url, {"Authorization": f"Bearer {token}"}), "mlflow": (mlflow_url, {})}
    timings: dict[tuple[str, str], list[float]] = {(label, side): [] for label, *_ in calls for side in sides}
    client = httpx.Client(timeout=60)
    for run in range(args.runs + 3):  # the first 3 rounds warm both up and are not counted
        for label, path, params, check in calls:
            for side, (url, headers) in sides.items():
                elapsed, body = timed_get(client, f"{url}{API}/{path}", params, headers)
                if not check(body):
                    raise SystemExit(f"{side} {label}: unexpected answer {str(body)[:300]}")
                if run >= 3:
                    timings[(label, side)].append(elapsed)
    return summary(timings, [label for label, *_ in calls], "call")


def import_rate(env: dict[str, str], mlflow_url: str) -> dict[str, Any]:
    manage(env, "migrate", "--noinput")
    manage(env | {"DJANGO_SUPERUSER_PASSWORD": "bench"}, "createsuperuser", "--noinput", "--username", "importer",
           "--email", "importer@example.com")  # fmt: skip
    started = time.monotonic()
    out = manage(env, "import_mlflow", "--from", mlflow_url, "--as", "importer")
    seconds = time.monotonic() - started
    print(out)
    versions = re.search(r"^  versions +([\d,]+)", out, re.MULTILINE)
    created = int(versions.group(1).replace(",", "")) if versions else 0
    return {"versions": created, "seconds": round(seconds, 1), "versions_per_second": round(created / seconds)}


def print_table(report: dict[str, Any]) -> None:
    print_markdown(report)
    imported = report["import"]
    if imported:
        print(
            f"\nimport_mlflow: {imported['versions']:,} versions in {imported['seconds']:.1f} s "
            f"= {imported['versions_per_second']:,} versions/s (the whole command, reading MLflow's REST API)"
        )


def print_markdown(report: dict[str, Any]) -> None:
    """The README's tables: the API calls, the pages, the throughput and the workers' memory."""
    print(
        f"At {report['models']:,} models × {report['versions_per_model']} versions on PostgreSQL, "
        f"{report['workers']} workers each, MLflow {report['mlflow']}, {report['runs']} runs, each call on a new "
        f"connection, the two sides interleaved (measured {report['measured']}).\n"
    )
    print("| MLflow's API call | ours median / p95 ms | MLflow median / p95 ms | ours ÷ MLflow |")
    print("|---|---:|---:|---:|")
    for row in report["calls"]:
        print(f"| {row['call']} | {row['ours_median_ms']:.1f} / {row['ours_p95_ms']:.1f} "
              f"| {row['mlflow_median_ms']:.1f} / {row['mlflow_p95_ms']:.1f} | {row['ratio']:.2f}× |")  # fmt: skip
    print("\n| operation (ours: the page; MLflow: the calls its UI makes) | ours median / p95 ms "
          "| MLflow median / p95 ms | ours ÷ MLflow |")  # fmt: skip
    print("|---|---:|---:|---:|")
    for row in report["pages"]:
        print(f"| {row['operation']} | {row['ours_median_ms']:.1f} / {row['ours_p95_ms']:.1f} "
              f"| {row['mlflow_median_ms']:.1f} / {row['mlflow_p95_ms']:.1f} | {row['ratio']:.2f}× |")  # fmt: skip
    print("\n| throughput, pages per second | clients | ours | MLflow | ours ÷ MLflow |")
    print("|---|---:|---:|---:|---:|")
    for row in report["throughput"]:
        print(f"| {row['page']} | {row['clients']} | {row['ours_per_second']:.1f} | {row['mlflow_per_second']:.1f} "
              f"| {row['ratio']:.2f}× |")  # fmt: skip
    memory = report["worker_memory_mib"]
    print("\n| resident memory per worker, MiB, after the runs | ours | MLflow |")
    print("|---|---:|---:|")
    print(f"| median of {len(memory['ours'])} and {len(memory['mlflow'])} workers "
          f"| {statistics.median(memory['ours']):.0f} | {statistics.median(memory['mlflow']):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
