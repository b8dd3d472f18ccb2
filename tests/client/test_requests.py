"""Stage-change requests from the client: a pipeline blocks on a human decision made through another client."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from modelcatalog_client import (
    ChangeRequest,
    ChangeRequestEnded,
    Client,
    RegisteredModelVersion,
    RequestCancelled,
    RequestRejected,
    WaitTimeout,
    WorkflowError,
)
from modelcatalog_client.stage_change import Production, Staging

from approvals.models import StageChangeRequest
from approvals.services import set_approval_policy
from catalog.models import ModelVersion
from tests.client.conftest import Connect

POLL = 0.05  # seconds between the waiter's first looks


def _version(client: Client) -> RegisteredModelVersion:
    return client.get_registered_model("Churn Predictor").get_version("v1.0.0")


def _waiting(change_request: ChangeRequest, pool: ThreadPoolExecutor, **options: Any) -> Future[ChangeRequest]:
    """wait() running in another thread, checked to be blocked (it has looked at least once and not returned)."""
    future = pool.submit(change_request.wait, poll_interval=POLL, **options)
    time.sleep(0.3)
    assert not future.done(), future.exception() if future.done() else None
    return future


def test_a_pipeline_waits_until_enough_reviewers_approved_its_production_request(
    connect: Connect, owner: Any, model: Any, editor: Any, reviewer: Any, reviewer2: Any, version: Any
) -> None:
    set_approval_policy(actor=owner, model=model, required_approvals=2)
    pipeline = _version(connect(editor))
    change_request = pipeline.change_stage(Production("Passed the release checks."))
    assert (change_request.required_approvals, change_request.skips_stages) == (2, True)

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = _waiting(change_request, pool, timeout=30)

        first = connect(reviewer).change_requests(waiting_for_me=True)[0]
        assert first.id == change_request.id
        first.approve("Metrics hold up.")
        assert (first.status, first.approvals) == ("pending", 1)
        time.sleep(0.2)
        assert not future.done()  # one approval of two: still waiting

        connect(reviewer2).get_change_request(change_request.id).approve("Agreed.")
        approved = future.result(timeout=30)

    assert approved is change_request
    assert (approved.status, approved.approvals, approved.resolved_by) == ("approved", 2, "reviewer2")
    assert [(r.reviewer, r.decision) for r in approved.reviews] == [("reviewer", "approve"), ("reviewer2", "approve")]
    assert pipeline.stage == "unassigned"  # a snapshot until it is read again
    assert pipeline.refresh().stage == "production"
    assert change_request.get_version().stage == "production"
    assert ModelVersion.objects.get(pk=version.pk).stage == "production"


@pytest.mark.parametrize(
    ("decide", "raised", "message"),
    [
        ("reject", RequestRejected, "was rejected by reviewer: “Latency regressed.”."),
        ("cancel", RequestCancelled, "was cancelled by editor."),
    ],
)
def test_wait_raises_when_the_request_ends_without_approval(
    connect: Connect,
    editor: Any,
    reviewer: Any,
    version: Any,
    decide: str,
    raised: type[ChangeRequestEnded],
    message: str,
) -> None:
    change_request = _version(connect(editor)).change_stage(Staging("Ready?"))
    decider = connect(reviewer) if decide == "reject" else connect(editor)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = _waiting(change_request, pool, timeout=30)
        getattr(decider.get_change_request(change_request.id), decide)("Latency regressed.")
        with pytest.raises(raised) as ended:
            future.result(timeout=30)
    assert str(ended.value) == f"Request {change_request.id} (churn-predictor v1.0.0: Unassigned → Staging) {message}"
    assert isinstance(ended.value, WorkflowError)
    assert ended.value.change_request.status == ("rejected" if decide == "reject" else "cancelled")
    assert _version(connect(editor)).stage == "unassigned"


def test_wait_gives_up_after_its_timeout_and_leaves_the_request_pending(
    connect: Connect, editor: Any, reviewer: Any, version: Any
) -> None:
    change_request = _version(connect(editor)).change_stage(Staging("Ready?"))
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as timed_out:
        change_request.wait(timeout=0.4, poll_interval=POLL)
    assert 0.4 <= time.monotonic() - started < 5
    assert isinstance(timed_out.value, TimeoutError)
    assert str(timed_out.value) == (
        f"Request {change_request.id} (churn-predictor v1.0.0: Unassigned → Staging) is still pending after 0.4 s, "
        "with 0 of 1 approvals."
    )
    assert StageChangeRequest.objects.get(pk=change_request.id).status == "pending"


def test_a_reviewer_sees_what_waits_for_them_and_rejects_it(
    connect: Connect, editor: Any, reviewer: Any, viewer: Any, version: Any
) -> None:
    change_request = _version(connect(editor)).change_stage(Staging("Ready?"))
    assert change_request.actions == ["cancel"]
    inbox = connect(reviewer).change_requests(waiting_for_me=True)
    [waiting] = list(inbox)
    assert (waiting.id, waiting.requester, waiting.change, waiting.actions) == (
        change_request.id,
        "editor",
        "Unassigned → Staging",
        ["approve", "reject"],
    )
    assert list(connect(editor).change_requests(waiting_for_me=True)) == []  # not their own
    assert list(connect(viewer).change_requests(waiting_for_me=True)) == []

    waiting.reject("Not yet.")
    assert (waiting.status, waiting.resolved_by, waiting.reviews[0].comment) == ("rejected", "reviewer", "Not yet.")
    assert list(inbox) == []
    assert [r.id for r in connect(viewer).change_requests(status="rejected", model="churn-predictor")] == [
        change_request.id
    ]
    assert change_request.refresh().status == "rejected"
    assert "status: rejected (0 of 1 approvals)" in repr(change_request)


def test_cancel_withdraws_a_pending_request(connect: Connect, editor: Any, version: Any) -> None:
    model_ver = _version(connect(editor))
    with pytest.raises(TypeError, match="`stage_change` must be an object from `stage_change`"):
        model_ver.change_stage("production")  # type: ignore[arg-type]
    assert not StageChangeRequest.objects.exists()
    change_request = model_ver.change_stage(Staging())
    assert change_request.comment == ""
    change_request.cancel("Wrong version.")
    assert (change_request.status, change_request.actions) == ("cancelled", [])
    assert model_ver.refresh().pending_request is None
    assert model_ver.activity[0].event == "stage_change_cancelled"
