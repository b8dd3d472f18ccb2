"""Our pages against the MLflow calls that show the same data, for `bench/mlflow.py`.

Four operations, each ours (server-rendered HTML, signed in) against MLflow's JSON API (what its own UI calls):

- the catalog's first page against `registered-models/search` for a page of the same size;
- a model card against the two calls MLflow's model page makes (`registered-models/get`, `model-versions/search`);
- a version page against the two calls MLflow's version page makes (`model-versions/get`, `registered-models/get`);
- a stage change: our request and approval (two POSTs, by two people) against one `model-versions/transition-stage`.

The two sides alternate call by call, each call on a new connection. Then the throughput of the catalog and the
version page with 8 clients at once (each on its own keep-alive connection), and the memory of each side's workers.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.throughput import run_clients

API = "/api/2.0/mlflow"
PAGE_SIZE = 24  # the catalog's page (settings.PAGE_SIZE)
WARM_UP = 3  # rounds that warm both sides up and are not counted
Calls = list[tuple[str, list[tuple[str, str]]]]  # (path, query parameters), made one after another


@dataclass(frozen=True)
class Side:
    """How to reach one system: its address and the headers and cookies of each caller."""

    url: str
    headers: dict[str, str]
    cookies: dict[str, str]


@dataclass(frozen=True)
class Ours:
    url: str
    owner: Side  # scale-owner: the pages and the request
    reviewer: Side  # scale-reviewer: the approval
    database_url: str  # to find the request the owner just made


def signed_in(url: str, session_key: str) -> Side:
    """A caller with a session, and a CSRF cookie and header of its own making (Django accepts any well-formed one)."""
    csrf = secrets.token_hex(16)  # 32 characters, the length of Django's CSRF secret
    return Side(url, {"X-CSRFToken": csrf}, {"sessionid": session_key, "csrftoken": csrf})


def _call(client: httpx.Client, method: str, side: Side, path: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    """One call on a new connection (the server is asked to close it after the answer), timed in milliseconds."""
    client.cookies.clear()
    started = time.perf_counter()
    response = client.request(
        method, f"{side.url}{path}", headers=side.headers | {"Connection": "close"}, cookies=side.cookies, **kwargs
    )
    return (time.perf_counter() - started) * 1000, response


def _expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise SystemExit(f"{what}: {response.request.method} {response.url} answered {response.status_code}, "
                         f"not {status}: {response.text[:300]}")  # fmt: skip
    return response


def _timed_pair(client: httpx.Client, side: Side, calls: Calls) -> float:
    """The calls one after another, as a page makes them; their total time."""
    total = 0.0
    for path, params in calls:
        elapsed, response = _call(client, "GET", side, f"{API}/{path}", params=tuple(params))
        _expect(response, 200, "MLflow")
        total += elapsed
    return total


PROMPT_FILTER = "tags.`mlflow.prompt.is_prompt` != 'true'"  # what MlflowClient.search_registered_models sends


def ui_calls(name: str) -> dict[str, Calls]:
    """The calls MLflow's UI makes for the catalog, a model's page and a version's page (of model name)."""
    model = ("registered-models/get", [("name", name)])
    return {
        "catalog": [("registered-models/search", [("max_results", str(PAGE_SIZE)), ("filter", PROMPT_FILTER)])],
        "model": [model, ("model-versions/search", [("filter", f"name='{name}'")])],
        "version": [("model-versions/get", [("name", name), ("version", "1")]), model],
    }


def model_name(number: int) -> tuple[str, str]:
    """The name and the slug of seed_scale's model number."""
    return f"Scale model {number:05d}", f"scale-model-{number:05d}"


Timed = Callable[[httpx.Client, int], float]  # one go of an operation: (client, run number) -> milliseconds


def operations(ours: Ours, mlflow: Side, models: int, versions: int) -> list[tuple[str, Timed, Timed]]:
    """Each operation as (label, ours, mlflow): callables of (client, run number) that time one go of it."""
    name, slug = model_name(models // 2)

    def our_page(path: str, marker: str) -> Callable[[httpx.Client, int], float]:
        def run(client: httpx.Client, _: int) -> float:
            elapsed, response = _call(client, "GET", ours.owner, path)
            if marker not in _expect(response, 200, "ours").text:
                raise SystemExit(f"ours {path}: the page does not show {marker!r}")
            return elapsed

        return run

    calls = ui_calls(name)

    def their_page(which: str) -> Callable[[httpx.Client, int], float]:
        return lambda client, _: _timed_pair(client, mlflow, calls[which])

    def our_stage_change(client: httpx.Client, run: int) -> float:
        _, changed_slug = model_name(models - run)
        version = f"/models/{changed_slug}/versions/v{versions}/"
        requested, response = _call(
            client, "POST", ours.owner, f"{version}request/", data={"to_stage": "development", "comment": "bench"}
        )
        _expect(response, 302, "our request")
        with psycopg.connect(ours.database_url) as db:
            row = db.execute(
                """SELECT r.id FROM approvals_stagechangerequest r JOIN catalog_modelversion v ON v.id = r.version_id
                   JOIN catalog_registeredmodel m ON m.id = v.model_id WHERE m.slug = %s AND r.status = 'pending'""",
                [changed_slug],
            ).fetchone()
        if row is None:
            raise SystemExit(f"our request on {version} made no pending request")
        approved, response = _call(
            client, "POST", ours.reviewer, f"/approvals/requests/{row[0]}/approve/", data={"comment": "ok"}
        )
        _expect(response, 302, "our approval")
        return requested + approved

    def their_stage_change(client: httpx.Client, run: int) -> float:
        changed, _ = model_name(models - run)
        body = {"name": changed, "version": str(versions), "stage": "Staging", "archive_existing_versions": False}
        elapsed, response = _call(client, "POST", mlflow, f"{API}/model-versions/transition-stage", json=body)
        _expect(response, 200, "MLflow transition-stage")
        return elapsed

    return [
        ("catalog, first page", our_page("/models/", "Scale model"), their_page("catalog")),
        ("one model's versions", our_page(f"/models/{slug}/", name), their_page("model")),
        ("one version", our_page(f"/models/{slug}/versions/v1/", name), their_page("version")),
        ("stage change", our_stage_change, their_stage_change),
    ]


def p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def summary(timings: dict[tuple[str, str], list[float]], labels: list[str], name: str) -> list[dict[str, Any]]:
    """For each label (under the key name), both sides' median and p95 and ours ÷ MLflow's median."""
    rows = []
    for label in labels:
        ours, theirs = timings[(label, "ours")], timings[(label, "mlflow")]
        rows.append(
            {
                name: label,
                "ours_median_ms": round(statistics.median(ours), 1),
                "ours_p95_ms": round(p95(ours), 1),
                "mlflow_median_ms": round(statistics.median(theirs), 1),
                "mlflow_p95_ms": round(p95(theirs), 1),
                "ratio": round(statistics.median(ours) / statistics.median(theirs), 2),
            }
        )
    return rows


def compare_pages(ours: Ours, mlflow: Side, *, models: int, versions: int, runs: int) -> list[dict[str, Any]]:
    """Median and p95 of each operation on both sides, interleaved call by call."""
    ops = operations(ours, mlflow, models, versions)
    timings: dict[tuple[str, str], list[float]] = {
        (label, side): [] for label, *_ in ops for side in ("ours", "mlflow")
    }
    with httpx.Client(timeout=60) as client:
        for run in range(runs + WARM_UP):
            for label, our_op, their_op in ops:
                # Which side goes first alternates, so that neither always finds the database's caches warmer.
                order = [("ours", our_op), ("mlflow", their_op)]
                for side, op in order if run % 2 else reversed(order):
                    elapsed = op(client, run + 1)
                    if run >= WARM_UP:
                        timings[(label, side)].append(elapsed)
    return summary(timings, [label for label, *_ in ops], "operation")


def requests_per_second(side: Side, paths: Calls, clients: int, seconds: float) -> float:
    """Pages per second that clients threads get, each asking for the paths one after another (one page) on its own
    keep-alive connection."""
    done = [0] * clients
    failures: list[str] = []

    def client(n: int, start: threading.Barrier, stop: threading.Event) -> None:
        with httpx.Client(base_url=side.url, headers=side.headers, cookies=side.cookies, timeout=60) as http:

            def page() -> None:
                for path, params in paths:
                    response = http.get(path, params=tuple(params))
                    if response.status_code != 200:
                        failures.append(f"{path}: {response.status_code}")

            for _ in range(WARM_UP):  # warm this connection and the worker it lands on
                page()
            start.wait()
            while not stop.is_set():
                page()
                done[n] += 1

    elapsed = run_clients(clients, seconds, client)
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, the first: {failures[0]}")
    return sum(done) / elapsed


def compare_throughput(ours: Ours, mlflow: Side, *, models: int, clients: int, seconds: float) -> list[dict[str, Any]]:
    name, slug = model_name(models // 2)
    calls = {which: [(f"{API}/{path}", params) for path, params in made] for which, made in ui_calls(name).items()}
    pages: list[tuple[str, Calls, Calls]] = [
        ("catalog, first page", [("/models/", [])], calls["catalog"]),
        ("one version", [(f"/models/{slug}/versions/v1/", [])], calls["version"]),
    ]
    rows = []
    for label, our_paths, their_paths in pages:
        ours_rate = requests_per_second(ours.owner, our_paths, clients, seconds)
        theirs_rate = requests_per_second(mlflow, their_paths, clients, seconds)
        rows.append(
            {
                "page": label,
                "clients": clients,
                "ours_per_second": round(ours_rate, 1),
                "mlflow_per_second": round(theirs_rate, 1),
                "ratio": round(ours_rate / theirs_rate, 2),
            }
        )
    return rows


def worker_memory_mib(leader: int) -> list[float]:
    """The resident memory of each worker under the process leader (the processes with no children of their own), in
    MiB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    leaves, todo = [], [leader]
    while todo:
        pid = todo.pop()
        if children.get(pid):
            todo.extend(children[pid])
        elif pid != leader:
            leaves.append(pid)
    sizes = []
    for pid in leaves:
        if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
            continue  # multiprocessing's helper beside uvicorn's workers, not a worker
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sorted(sizes)
