"""manage.py import_mlflow against a real MLflow server (pinned, in its own environment, SQLite store, loopback)."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from activity.models import ActivityEntry, Verb
from bench.mlflow_server import MlflowSetupError, free_port, mlflow_server
from catalog.models import Alias, ModelVersion, RegisteredModel, Stage
from mlflow_compat import importer
from tests.factories import ModelFactory, UserFactory

# One worker starts the MLflow server (and installs it into var/ the first time) for the whole file.
pytestmark = pytest.mark.xdist_group("mlflow-server")

ROOT = Path(__file__).resolve().parents[2]
API = "/api/2.0/mlflow"
CHURN, FRAUD, PER_MODEL = 12, 48, 5  # 60 models, 300 versions


def stage_of(model_index: int, number: int) -> str:
    """The MLflow stage of version number of the model_index-th model: every stage, in a lifecycle's shape."""
    if number == 4 and model_index % 3 == 0:
        return "Staging"
    return {1: "Archived", 2: "Staging", 3: "Production"}.get(number, "None")


@dataclass
class Registry:
    """What the MLflow server holds, as the test put it there."""

    url: str
    models: list[str] = field(default_factory=list)
    aliases: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def versions(self) -> int:
        return len(self.models) * PER_MODEL


def _populate(url: str) -> Registry:
    """A registry of 60 models × 5 versions with descriptions, tags, every stage and aliases, plus one prompt, made
    through MLflow's own REST API (the calls its client makes)."""
    registry = Registry(url=url)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    names = [f"churn-{i:02d}" for i in range(CHURN)] + [f"fraud-{i:02d}" for i in range(FRAUD)]
    with httpx.Client(base_url=url + API, timeout=60) as mlflow:

        def post(path: str, body: dict[str, Any]) -> None:
            answer = mlflow.post(path, json=body)
            assert answer.status_code == 200, (path, answer.text)

        for i, name in enumerate(names):
            tags = [{"key": "team", "value": "risk" if name.startswith("fraud") else "growth"}]
            post("registered-models/create", {"name": name, "description": f"Scores {name}.", "tags": tags})
            for number in range(1, PER_MODEL + 1):
                version = {
                    "name": name,
                    "source": f"s3://models/{name}/{number}",
                    "run_id": f"run{i:02d}{number}",
                    "run_link": f"https://mlflow.example.com/#/experiments/1/runs/run{i:02d}{number}",
                    "description": f"Trained on batch {number}." if number < PER_MODEL else "",
                    "tags": [{"key": "auc", "value": f"0.{80 + number}"}, {"key": "framework", "value": "xgboost"}],
                }
                post("model-versions/create", version)
                stage = stage_of(i, number)
                if stage != "None":
                    move = {"name": name, "version": str(number), "stage": stage, "archive_existing_versions": False}
                    post("model-versions/transition-stage", move)
            post("registered-models/alias", {"name": name, "alias": "champion", "version": "3"})
            registry.aliases[(name, "champion")] = 3
            if i % 2 == 0:
                post("registered-models/alias", {"name": name, "alias": "challenger", "version": "5"})
                registry.aliases[(name, "challenger")] = 5
            registry.models.append(name)
        # MLflow 3 keeps prompts as registered models with a tag: not models, so not imported.
        prompt_tags = [{"key": "mlflow.prompt.is_prompt", "value": "true"}]
        post("registered-models/create", {"name": "support-reply-prompt", "tags": prompt_tags})
        post("model-versions/create", {"name": "support-reply-prompt", "source": "prompts:/support-reply-prompt/1"})
    return registry


@pytest.fixture(scope="session")
def mlflow_registry() -> Iterator[Registry]:
    """A real `mlflow server` (installed in var/mlflow-venv the first time: a few minutes), started once for the
    session and filled once. It cannot be skipped: a failure to install or start it fails the tests that need it."""
    try:
        with mlflow_server() as server:
            yield _populate(server.url)
    except MlflowSetupError as error:
        pytest.fail(f"The MLflow server for the import tests could not be made: {error}")


@pytest.fixture
def importer_user(db: None) -> Any:
    return UserFactory(username="importer")


def run_import(url: str, *options: str, user: str = "importer") -> tuple[str, str]:
    """The command's stdout and stderr; raises CommandError as the command does."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_mlflow", "--from", url, "--as", user, *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts(summary: str, kind: str) -> tuple[int, ...]:
    """The (created, already here, failed) row of kind in the command's closing table."""
    row = re.search(rf"^  {kind} +([\d,]+) +([\d,]+) +([\d,]+)$", summary, re.MULTILINE)
    assert row is not None, summary
    return tuple(int(n.replace(",", "")) for n in row.groups())


def imported(verb: Verb) -> int:
    return ActivityEntry.objects.filter(verb=verb, extra__imported__from="MLflow").count()


def test_imports_the_whole_registry(mlflow_registry: Registry, importer_user: Any) -> None:
    out, err = run_import(mlflow_registry.url)

    assert f"Imported from {mlflow_registry.url}" in out
    assert counts(out, "models") == (60, 0, 0)
    assert counts(out, "versions") == (300, 0, 0)
    assert counts(out, "aliases") == (90, 0, 0)
    assert "100% versions 300/300 · models 60/60" in err  # the progress, in plain lines off a terminal

    assert RegisteredModel.objects.count() == 60
    assert not RegisteredModel.objects.filter(name="support-reply-prompt").exists()
    model = RegisteredModel.objects.get(name="fraud-03")
    assert (model.description, model.attributes, model.owner) == ("Scores fraud-03.", {"team": "risk"}, importer_user)
    versions = list(model.versions.order_by("number"))
    assert [(v.name, v.number, v.stage) for v in versions] == [
        ("1", 1, Stage.ARCHIVED),
        ("2", 2, Stage.STAGING),
        ("3", 3, Stage.PRODUCTION),
        ("4", 4, Stage.STAGING),  # the 15th model: index 15 is a multiple of 3
        ("5", 5, Stage.UNASSIGNED),
    ]
    first = versions[0]
    assert (first.artifact_uri, first.run_id, first.source_run_url, first.description) == (
        "s3://models/fraud-03/1",
        "run151",
        "https://mlflow.example.com/#/experiments/1/runs/run151",
        "Trained on batch 1.",
    )
    assert first.attributes == {"auc": "0.81", "framework": "xgboost"}
    assert first.created_at < versions[-1].created_at  # MLflow's registration times, not the import's
    # Every stage arrived, and the per-stage counts the pages read are in step.
    by_stage = {stage: ModelVersion.objects.filter(stage=stage).count() for stage in Stage.values}
    assert by_stage == {"archived": 60, "staging": 80, "production": 60, "unassigned": 100, "development": 0}
    assert sum(m.staging_count for m in RegisteredModel.objects.all()) == 80
    assert (model.archived_count, model.staging_count, model.production_count, model.unassigned_count) == (1, 2, 1, 1)

    aliases = {(a.model.name, a.name): a.version.number for a in Alias.objects.select_related("model", "version")}
    assert aliases == mlflow_registry.aliases
    # One activity entry per imported object, saying where it came from and when MLflow registered it.
    assert (imported(Verb.MODEL_REGISTERED), imported(Verb.VERSION_REGISTERED), imported(Verb.ALIAS_SET)) == (
        60,
        300,
        90,
    )
    entry = ActivityEntry.objects.get(verb=Verb.VERSION_REGISTERED, version=first)
    assert entry.actor == importer_user
    assert entry.extra["imported"]["server"] == mlflow_registry.url
    assert entry.extra["imported"]["stage"] == "Archived"
    assert entry.extra["imported"]["created_at"].startswith(first.created_at.isoformat()[:19])
    assert ActivityEntry.objects.exclude(extra__has_key="imported").filter(model__isnull=False).count() == 0


def test_a_second_run_adds_nothing_and_says_so(mlflow_registry: Registry, importer_user: Any) -> None:
    run_import(mlflow_registry.url)
    entries = ActivityEntry.objects.count()

    out, _ = run_import(mlflow_registry.url)

    assert f"Nothing new in {mlflow_registry.url}: 60 models, 300 versions, 90 aliases were already here." in out
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count(), Alias.objects.count()) == (60, 300, 90)
    assert ActivityEntry.objects.count() == entries


def test_models_pattern_then_everything(mlflow_registry: Registry, importer_user: Any) -> None:
    out, _ = run_import(mlflow_registry.url, "--models", "churn-*")
    assert counts(out, "models") == (12, 0, 0)
    assert counts(out, "versions") == (60, 0, 0)
    assert set(RegisteredModel.objects.values_list("name", flat=True)) == {f"churn-{i:02d}" for i in range(CHURN)}

    out, _ = run_import(mlflow_registry.url)

    assert counts(out, "models") == (48, 12, 0)
    assert counts(out, "versions") == (240, 60, 0)
    assert counts(out, "aliases") == (72, 18, 0)
    assert ModelVersion.objects.count() == 300
    assert imported(Verb.VERSION_REGISTERED) == 300  # no entry twice


class CutAfter:
    """A proxy on 127.0.0.1 in front of the MLflow server that forwards the first n requests and then refuses every
    connection, as a server that goes away in the middle of an import."""

    def __init__(self, upstream: str, n: int) -> None:
        self.left = n
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if proxy.left <= 0:
                    self.close_connection = True
                    return
                proxy.left -= 1
                answer = httpx.get(f"{upstream}{self.path}", timeout=60)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        assert target.hostname == "127.0.0.1"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_interrupted_import_resumes_when_run_again(
    mlflow_registry: Registry, importer_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "VERSIONS_PAGE", 50)
    monkeypatch.setattr(importer, "BATCH", 50)
    # The check, the page of models, two pages of versions; then the server is gone.
    proxy = CutAfter(mlflow_registry.url, 4)
    try:
        with pytest.raises(CommandError) as stopped:
            run_import(proxy.url)
    finally:
        proxy.close()
    message = str(stopped.value)
    assert message.startswith(f"Reading {proxy.url} failed") or message.startswith(f"Cannot connect to {proxy.url}")
    assert "What was imported is kept: run the same command again to resume." in message
    assert "\n" not in message
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count(), Alias.objects.count()) == (60, 100, 0)

    out, _ = run_import(mlflow_registry.url)

    assert counts(out, "models") == (0, 60, 0)
    assert counts(out, "versions") == (200, 100, 0)
    assert counts(out, "aliases") == (90, 0, 0)
    assert ModelVersion.objects.count() == 300
    assert imported(Verb.VERSION_REGISTERED) == 300


def test_a_dry_run_writes_nothing(mlflow_registry: Registry, importer_user: Any) -> None:
    out, _ = run_import(mlflow_registry.url, "--dry-run", "--models", "fraud-0*")

    assert "Dry run, nothing was written." in out
    assert counts(out, "models") == (10, 0, 0)
    assert counts(out, "versions") == (50, 0, 0)
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count(), ActivityEntry.objects.count()) == (0, 0, 0)


def test_what_cannot_be_imported_is_listed_with_the_reason(mlflow_registry: Registry, importer_user: Any) -> None:
    # A model of the same name here, owned by someone who gave the importer no role: its versions are refused.
    ModelFactory(name="churn-01", owner=UserFactory(username="someone"), visibility="private")

    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^6 objects could not be imported \(listed above\)\.$"):
        call_command("import_mlflow", "--from", mlflow_registry.url, "--as", "importer", "--models", "churn-0[01]",
                     stdout=out, stderr=io.StringIO())  # fmt: skip
    text = out.getvalue()
    assert counts(text, "models") == (1, 1, 0)
    assert counts(text, "versions") == (5, 0, 5)
    assert counts(text, "aliases") == (2, 0, 1)
    assert "version 1 of “churn-01”: Only editors and owners of this model can register versions." in text
    assert "alias @champion of “churn-01”: its version 3 was not imported" in text


@pytest.fixture
def not_mlflow() -> Iterator[str]:
    """A plain web server on 127.0.0.1 that answers every path with a 404 page in HTML."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = b"<!doctype html><title>Not Found</title><h1>Not Found</h1>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_bad_addresses_are_one_clear_line(importer_user: Any, not_mlflow: str) -> None:
    port = free_port()  # nothing listens on it once found
    cases = {
        "mlflow.example.com": "--from must be an MLflow server's http:// or https:// address, "
        "not “mlflow.example.com”.",
        f"http://127.0.0.1:{port}": f"Cannot connect to http://127.0.0.1:{port}: Connection refused.",
        not_mlflow: f"{not_mlflow} does not look like an MLflow server: GET /api/2.0/mlflow/registered-models/search "
        "answered 404 Not Found with text/html, not MLflow's JSON.",
    }
    for url, message in cases.items():
        with pytest.raises(CommandError) as refused:
            run_import(url)
        assert str(refused.value) == message
    assert RegisteredModel.objects.count() == 0


def test_credentials_refused_by_an_mlflow_api(server: str) -> None:
    """Model Catalog's own MLflow API wants a token: a wrong one is a 401 in MLflow's shape, said in one line."""
    UserFactory(username="importer")
    with pytest.raises(CommandError) as refused:
        run_import(server, "--token", "mc_not-a-real-token")
    message = str(refused.value)
    assert message.startswith(f"{server} refused the credentials (401 Unauthorized): ")
    assert message.endswith("; check --token (or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD).")
    assert "\n" not in message


def test_unknown_user_is_one_clear_line(mlflow_registry: Registry, importer_user: Any) -> None:
    with pytest.raises(CommandError, match=r"^The user “nobody” does not exist: --as names the Model Catalog user"):
        run_import(mlflow_registry.url, user="nobody")


def test_the_command_line_prints_one_line_and_no_traceback() -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_mlflow", "--from", f"http://127.0.0.1:{port}", "--as", "anyone"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings_test"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"CommandError: Cannot connect to http://127.0.0.1:{port}: Connection refused."
