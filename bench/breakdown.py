"""Where a page's server time goes: each page and the two workflow POSTs, profiled through the full middleware stack.

Runs on a catalog `bench/pages.py` seeded (10,000 models / 100,000 versions / 10,000 pending requests), with the
test client as scale-owner (and scale-reviewer for the inbox, scale-editor for the POSTs), under cProfile. Each
function's own time goes to the part of the stack it belongs to, by its module:

- session and auth: Django's sessions and auth, axes;
- permissions: catalog/permissions.py and guardian;
- SQL: building statements (the ORM's query, compiler and expressions) and running them (the database driver);
- rendering: Django's template engine, template tags and filters;
- middleware: the middleware classes' own code and Django's request handling;
- mail and events: the task queue (mail, webhooks) and building events;
- the app: the rest of our code (views, selectors, services);
- other: Python and libraries not named above.

The shares are of the profiled time (cProfile slows Python, not the database, so SQL's share is understated).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelcatalog_bench python bench/breakdown.py [--runs 20]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("session and auth", ("django/contrib/sessions/", "django/contrib/auth/", "/axes/", "django/core/signing")),
    ("permissions", ("/catalog/permissions.py", "/guardian/")),
    (
        "SQL: building",
        (
            "django/db/models/sql/",
            "django/db/models/expressions.py",
            "django/db/models/lookups.py",
            "django/db/models/query.py",
            "django/db/models/query_utils.py",
            "django/db/models/fields/",
            "django/db/models/functions/",
            "django/db/models/aggregates.py",
            "django/db/models/base.py",
            "django/db/models/manager.py",
            "django/db/models/related",
        ),
    ),
    ("SQL: running", ("django/db/backends/", "/psycopg/", "/psycopg_binary/", "sqlite3")),
    (
        "rendering",
        (
            "django/template/",
            "/templatetags/",
            "/template_partials/",
            "django/utils/html.py",
            "django/utils/safestring.py",
            "django/utils/formats.py",
            "django/utils/dateformat.py",
            "django/forms/",
        ),
    ),
    (
        "middleware",
        (
            "django/core/handlers/",
            "/middleware.py",
            "/middleware/",
            "django/utils/deprecation.py",
            "/csp/",
            "django_permissions_policy",
            "/whitenoise/",
            "django_htmx",
            "django/test/client.py",
        ),
    ),
    ("mail and events", ("/django_tasks", "/core/mail.py", "/webhooks/", "django/core/mail/")),
    ("the app", (str(ROOT),)),
]


def part_of(filename: str) -> str:
    for name, markers in PARTS:
        if any(marker in filename for marker in markers):
            return name
    return "other"


def breakdown(run: Callable[[], Any], runs: int) -> tuple[float, dict[str, float]]:
    """Profiled milliseconds per run, and each part's share of them."""
    for _ in range(3):
        run()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(runs):
        run()
    profile.disable()
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    parts: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in stats.items():
        parts[part_of(filename)] += own
    total = sum(parts.values())
    return total / runs * 1000, {name: seconds / total for name, seconds in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from approvals.models import StageChangeRequest
    from bench.pages import REVIEWER_PAGES, owner_pages

    clients = {}
    for name in ("scale-owner", "scale-reviewer", "scale-editor"):
        clients[name] = Client()
        clients[name].force_login(User.objects.get(username=name))

    def get(client: Client, path: str, headers: dict[str, str]) -> Callable[[], Any]:
        def run() -> None:
            assert client.get(path, headers=headers).status_code == 200, path

        return run

    rows: list[tuple[str, Callable[[], Any]]] = [
        (name, get(clients["scale-owner"], path, headers)) for name, path, headers in owner_pages("05000")
    ]
    rows += [(name, get(clients["scale-reviewer"], path, headers)) for name, path, headers in REVIEWER_PAGES[:2]]
    from catalog.models import ModelVersion, Stage

    versions = iter(
        ModelVersion.objects.filter(model__slug__startswith="scale-model-")
        .exclude(change_requests__status="pending")
        .select_related("model")
        .order_by("-pk")[:200]
    )

    def request_then_approve() -> None:
        version = next(versions)
        to_stage = Stage.STAGING if version.stage != Stage.STAGING else Stage.PRODUCTION
        response = clients["scale-editor"].post(f"{version.get_absolute_url()}request/", {"to_stage": to_stage})
        assert response.status_code == 302
        pending = StageChangeRequest.objects.get(version=version, status="pending")
        response = clients["scale-reviewer"].post(f"/approvals/requests/{pending.pk}/approve/", {"comment": "ok"})
        assert response.status_code == 302

    rows.append(("request → approve (two POSTs)", request_then_approve))
    names = [name for name, _ in PARTS] + ["other"]
    print(f"| page (profiled ms) | {' | '.join(names)} |")
    print(f"|---|{'---:|' * len(names)}")
    for name, run in rows:
        if name.startswith("floor"):
            continue
        ms, shares = breakdown(run, args.runs)
        cells = " | ".join(f"{shares.get(part, 0) * 100:.0f}%" for part in names)
        print(f"| {name} ({ms:.0f}) | {cells} |", flush=True)


if __name__ == "__main__":
    main()
