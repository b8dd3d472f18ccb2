"""The `modelcatalog` command: its commands, output and the exit codes a CI job branches on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from modelcatalog_client.cli import main

from approvals.models import StageChangeRequest
from catalog.models import Stage
from tests.client.conftest import Connect
from tests.factories import VersionFactory
from tests.helpers import set_stage


class Result(NamedTuple):
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def cli(server: str, token_for: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `modelcatalog ARGS…` in this process as user (None: without a token)."""

    def run(user: Any, *argv: str) -> Result:
        monkeypatch.setenv("MODELCATALOG_HOST", server)
        if user is None:
            monkeypatch.delenv("MODELCATALOG_TOKEN", raising=False)
        else:
            monkeypatch.setenv("MODELCATALOG_TOKEN", token_for(user))
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def decide(connect: Connect) -> Iterator[Callable[[Any, str], None]]:
    """In another thread, once a request waits for reviewer, approve or reject it (as a person would, later)."""
    threads: list[threading.Thread] = []
    failures: list[BaseException] = []

    def start(reviewer: Any, action: str) -> None:
        client = connect(reviewer)

        def act() -> None:
            try:
                for _ in range(200):
                    waiting = list(client.change_requests(waiting_for_me=True))
                    if waiting:
                        time.sleep(0.2)  # let the pipeline start waiting
                        getattr(waiting[0], action)("Decided in the test.")
                        return
                    time.sleep(0.05)
                raise AssertionError("no request came")
            except BaseException as error:
                failures.append(error)

        threads.append(threading.Thread(target=act))
        threads[-1].start()

    yield start
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures


def test_versions_find_prints_an_aligned_table_or_json(
    cli: Run, owner: Any, model: Any, org_model: Any, version: Any
) -> None:
    set_stage(version, Stage.PRODUCTION)
    VersionFactory(model=org_model, created_by=owner, name="v2-longer-name", attributes={"auc": 0.97})
    set_stage(VersionFactory(model=org_model, created_by=owner, name="v3"), Stage.PRODUCTION)

    table = cli(owner, "versions", "find", "stage == production")
    assert table.code == 0, table.err
    header, *rows = table.out.splitlines()
    assert header.split() == ["MODEL", "VERSION", "STAGE", "LOCK", "CREATED", "BY", "CREATED", "URL"]
    assert [row.split()[:3] for row in rows] == [
        ["open-model", "v3", "production"],
        ["churn-predictor", "v1.0.0", "production"],
    ]
    version_at, stage_at, lock_at = (header.index(title) for title in ("VERSION", "STAGE", "LOCK"))
    for row, name in zip(rows, ["v3", "v1.0.0"], strict=True):
        assert (row[version_at:].split()[0], row[stage_at:].split()[0], row[lock_at:].split()[0]) == (
            name,
            "production",
            "open",
        )

    found = cli(owner, "versions", "find", "stage != production", "attributes.auc > 0.9", "-o", "json")
    assert found.code == 0, found.err
    assert [(v["model"], v["name"], v["attributes"]) for v in json.loads(found.out)] == [
        ("open-model", "v2-longer-name", {"auc": 0.97})
    ]
    one_model = cli(owner, "versions", "find", "--model", "Churn Predictor", "-o", "json")
    assert [v["name"] for v in json.loads(one_model.out)] == ["v1.0.0"]
    limited = cli(owner, "versions", "find", "--limit", "1", "-o", "json")
    assert (len(json.loads(limited.out)), limited.err) == (1, "(the first 1 shown; pass --limit to see more)\n")

    bad = cli(owner, "versions", "find", "stage == prod")
    assert (bad.code, bad.out) == (6, "")
    assert (
        bad.err
        == "modelcatalog: unknown stage `prod`; stages are: unassigned, development, staging, production, archived\n"
    )
    anonymous = cli(None, "versions", "find")
    assert anonymous.code == 5
    assert "No API token was sent" in anonymous.err


def test_request_stage_and_each_review_command_with_their_exit_codes(
    cli: Run, owner: Any, editor: Any, reviewer: Any, viewer: Any, version: Any
) -> None:
    filed = cli(editor, "request-stage", "Churn Predictor", "v1.0.0", "Staging", "-m", "Ready for soak.")
    change_request = StageChangeRequest.objects.get()
    assert (filed.code, filed.out) == (
        0,
        f"Requested Staging for churn-predictor v1.0.0 (request {change_request.pk}): pending, 0 of 1 approvals.\n",
    )
    assert (change_request.to_stage, change_request.comment) == ("staging", "Ready for soak.")

    again = cli(editor, "request-stage", "churn-predictor", "v1.0.0", "production", "-m", "Now prod.")
    assert again.code == 2
    assert "already has a pending request" in again.err
    assert cli(viewer, "request-stage", "churn-predictor", "v1.0.0", "production", "-m", "?").code == 2
    assert cli(editor, "request-stage", "churn-predictor", "v9", "production", "-m", "?").code == 4

    inbox = cli(reviewer, "requests", "--waiting-for-me")
    header, row = inbox.out.splitlines()
    assert header.split()[:4] == ["ID", "MODEL", "VERSION", "CHANGE"]
    assert row.split()[:-2] == [
        str(change_request.pk), "churn-predictor", "v1.0.0", "unassigned", "→", "staging", "pending", "0/1", "editor"
    ]  # fmt: skip
    as_json = json.loads(cli(reviewer, "requests", "--waiting-for-me", "-o", "json").out)
    assert [(r["id"], r["actions"]) for r in as_json] == [(change_request.pk, ["approve", "reject"])]
    assert cli(editor, "requests", "--waiting-for-me").out.splitlines()[1:] == []

    own = cli(editor, "approve", str(change_request.pk))
    assert (own.code, own.err) == (2, "modelcatalog: You made this request, so someone else has to review it.\n")
    approved = cli(reviewer, "approve", str(change_request.pk), "-m", "Soak passed.")
    assert (approved.code, approved.out) == (
        0,
        f"Approved (request {change_request.pk}): churn-predictor v1.0.0 is now in Staging.\n",
    )
    assert cli(owner, "reject", str(change_request.pk)).code == 2  # already decided: 409
    assert cli(reviewer, "approve", "424242").code == 4

    second = json.loads(
        cli(editor, "request-stage", "churn-predictor", "v1.0.0", "production", "-m", "Go.", "-o", "json").out
    )
    rejected = cli(reviewer, "reject", str(second["id"]), "-m", "Not this week.")
    assert (rejected.code, rejected.out) == (
        0,
        f"Rejected (request {second['id']}): rejected by reviewer; churn-predictor v1.0.0 stays in Staging.\n",
    )
    third = json.loads(
        cli(editor, "request-stage", "churn-predictor", "v1.0.0", "archived", "-m", "Oops.", "-o", "json").out
    )
    cancelled = cli(editor, "cancel", str(third["id"]), "-o", "json")
    assert (cancelled.code, json.loads(cancelled.out)["status"]) == (0, "cancelled")
    rejected_list = json.loads(
        cli(viewer, "requests", "--status", "rejected", "--model", "Churn Predictor", "-o", "json").out
    )
    assert [r["id"] for r in rejected_list] == [second["id"]]


def test_request_stage_wait_exits_0_once_approved(
    cli: Run, decide: Callable[[Any, str], None], editor: Any, reviewer: Any, version: Any
) -> None:
    decide(reviewer, "approve")
    waited = cli(
        editor, "request-stage", "churn-predictor", "v1.0.0", "production", "-m", "Release.", "--wait",
        "--poll-interval", "0.05", "-o", "json",
    )  # fmt: skip
    assert waited.code == 0, waited.err
    assert (json.loads(waited.out)["status"], json.loads(waited.out)["resolved_by"]) == ("approved", "reviewer")
    assert "waiting up to 3600 s for 1 approval(s)" in waited.err
    version.refresh_from_db()
    assert version.stage == "production"


def test_request_stage_wait_exits_2_when_rejected_and_3_when_no_one_decides(
    cli: Run, decide: Callable[[Any, str], None], editor: Any, reviewer: Any, version: Any
) -> None:
    decide(reviewer, "reject")
    rejected = cli(
        editor, "request-stage", "churn-predictor", "v1.0.0", "production", "-m", "Release.", "--wait",
        "--poll-interval", "0.05", "-o", "json",
    )  # fmt: skip
    assert rejected.code == 2
    assert json.loads(rejected.out)["status"] == "rejected"
    assert rejected.err.endswith("was rejected by reviewer: “Decided in the test.”.\n")

    timed_out = cli(
        editor, "request-stage", "churn-predictor", "v1.0.0", "staging", "-m", "Soak.", "--wait",
        "--timeout", "0.3", "--poll-interval", "0.05",
    )  # fmt: skip
    assert timed_out.code == 3
    assert "is still pending after 0.3 s, with 0 of 1 approvals." in timed_out.err
    assert StageChangeRequest.objects.filter(status="pending").count() == 1


def test_bad_usage_exits_6_and_an_unreachable_server_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MODELCATALOG_HOST", raising=False)
    monkeypatch.setenv("MODELCATALOG_TOKEN", "mc_anything")
    assert main(["request-stage", "m", "v1", "production"]) == 6  # no -m
    assert "the following arguments are required: -m/--message" in capsys.readouterr().err
    assert main(["request-stage", "m", "v1", "prod", "-m", "?"]) == 6
    assert "invalid choice: 'prod'" in capsys.readouterr().err
    assert main(["requests"]) == 6
    assert (
        capsys.readouterr().err
        == "modelcatalog: pass host=… or set MODELCATALOG_HOST, e.g. https://catalog.example.com\n"
    )
    assert main(["--help"]) == 0
    assert "exit codes:" in capsys.readouterr().out
    assert main(["--host", "http://127.0.0.1:9", "requests"]) == 1
    assert "got no answer (tried 4 times)" in capsys.readouterr().err


def test_the_installed_console_script_runs(
    server: str, token_for: Any, reviewer: Any, editor: Any, version: Any
) -> None:
    script = Path(sys.executable).with_name("modelcatalog")
    assert script.exists(), "install the client: pip install ./client"
    env = {**os.environ, "MODELCATALOG_HOST": server, "MODELCATALOG_TOKEN": token_for(editor)}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *argv], env=env, capture_output=True, text=True, timeout=60, check=False)

    filed = run("request-stage", "churn-predictor", "v1.0.0", "staging", "-m", "From a job.", "-o", "json")
    assert filed.returncode == 0, filed.stderr
    assert json.loads(filed.stdout)["status"] == "pending"
    env["MODELCATALOG_TOKEN"] = token_for(reviewer)
    assert json.loads(run("requests", "--waiting-for-me", "-o", "json").stdout)[0]["version"] == "v1.0.0"
    missing = run("approve", "424242")
    assert (missing.returncode, missing.stderr) == (4, "modelcatalog: No such request.\n")
