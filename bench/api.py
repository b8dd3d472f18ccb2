"""The REST API's reads and its request → approve round trip, at the scale bench/pages.py seeds, with tokens."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

Row = tuple[str, float, float, int]


STAGE_AND_ATTRIBUTE = "stage == staging and attributes.auc > 0.9"


def api_reads(middle: str) -> list[tuple[str, str]]:
    """(name, path) of the reads measured, as scale-owner, who may see every model."""
    model = f"/api/v1/models/scale-model-{middle}"
    return [
        ("API: versions, find stage == production", f"/api/v1/versions?find={quote('stage == production')}"),
        ("API: versions, find a label", f"/api/v1/versions?find={quote('labels == fraud')}"),
        ("API: versions, stage and an attribute", f"/api/v1/versions?find={quote(STAGE_AND_ATTRIBUTE)}"),
        ("API: models, find a label", f"/api/v1/models?find={quote('labels == nlp')}"),
        ("API: a model's versions", f"{model}/versions"),
        ("API: one version", f"{model}/versions/v5"),
        ("API: one model", model),
    ]  # fmt: skip


def token_client(username: str) -> Any:
    """A test client that sends a new API token of username's on every request."""
    from django.contrib.auth.models import User
    from django.test import Client

    from api.services import create_api_token

    _, secret = create_api_token(actor=User.objects.get(username=username), name="bench")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def api_rows(
    models: int, runs: int, measure: Callable[..., Row], percentile95: Callable[[list[float]], float]
) -> list[Row]:
    """Each read's median, p95 and queries, then the round trip over the API."""
    owner, editor, reviewer = (token_client(name) for name in ("scale-owner", "scale-editor", "scale-reviewer"))
    middle = f"{models // 2:05d}"
    for name, path in api_reads(middle):
        body = owner.get(path).json()
        assert body.get("items", body), f"{name}: lists nothing"
    rows = [measure(owner, name, path, {}, runs) for name, path in api_reads(middle)]
    rows.append(api_round_trip(editor, reviewer, models, runs, percentile95))
    return rows


def api_round_trip(
    editor: Any, reviewer: Any, models: int, runs: int, percentile95: Callable[[list[float]], float]
) -> Row:
    """POST a stage-change request as the editor, then approve it as the reviewer; one version per run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], 0
    for n in range(runs):
        version = f"/api/v1/models/scale-model-{models - n:05d}/versions/v8"  # in Staging, with no pending request
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            made = editor.post(f"{version}/requests", {"to_stage": "production"}, content_type="application/json")
            approved = reviewer.post(
                f"/api/v1/requests/{made.json()['id']}/approve", {}, content_type="application/json"
            )
            timings.append((time.perf_counter() - t0) * 1000)
        assert (made.status_code, approved.status_code) == (201, 200), (made.content, approved.content)
        assert approved.json()["status"] == "approved", approved.json()
        queries = len(captured)
    return ("API: request → approve round trip (2 POSTs)", statistics.median(timings), percentile95(timings), queries)
