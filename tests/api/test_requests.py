"""Stage-change requests over the API: file (idempotently), list, approve, reject, cancel; refusals as on the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest, Status
from approvals.services import request_stage_change, set_approval_policy, set_lock_level
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import ApiClient, race

Api = Callable[[Any], ApiClient]
REQUESTS = "/models/churn-predictor/versions/v1.0.0/requests"


def requests_made() -> list[tuple[str, str]]:
    return list(StageChangeRequest.objects.order_by("pk").values_list("to_stage", "status"))


def test_an_editor_requests_a_stage_change_and_a_reviewer_approves_it(
    version: ModelVersion, editor: Any, reviewer: Any, api_as: Api
) -> None:
    filed = api_as(editor).post(REQUESTS, {"to_stage": "staging", "comment": "Ready for the soak."})

    assert filed.status_code == 201
    body = filed.json()
    assert (body["status"], body["from_stage"], body["to_stage"], body["requester"]) == (
        "pending",
        "unassigned",
        "staging",
        "editor",
    )
    assert (body["approvals"], body["required_approvals"], body["skips_stages"]) == (0, 1, True)
    assert body["actions"] == ["cancel"]
    assert body["url"] == "http://testserver/models/churn-predictor/versions/v1.0.0/"

    reviewing = api_as(reviewer)
    assert reviewing.get(f"/requests/{body['id']}").json()["actions"] == ["approve", "reject"]
    approved = reviewing.post(f"/requests/{body['id']}/approve", {"comment": "Soak passed."})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approvals"], approved.json()["actions"]) == ("approved", 1, [])
    assert approved.json()["reviews"][0] | {"created_at": None} == {
        "reviewer": "reviewer",
        "decision": "approve",
        "comment": "Soak passed.",
        "created_at": None,
    }
    assert ModelVersion.objects.get(pk=version.pk).stage == Stage.STAGING
    verbs = list(ActivityEntry.objects.filter(version=version).order_by("pk").values_list("verb", flat=True))
    assert verbs[-3:] == [Verb.STAGE_CHANGE_REQUESTED, Verb.STAGE_CHANGE_APPROVED, Verb.STAGE_CHANGED]


def test_an_approval_that_is_not_the_last_leaves_the_stage(
    model: RegisteredModel, version: ModelVersion, owner: Any, editor: Any, reviewer: Any, api_as: Api
) -> None:
    set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)

    first = api_as(reviewer).post(f"/requests/{change_request.pk}/approve")
    assert (first.json()["status"], first.json()["approvals"]) == ("pending", 1)
    again = api_as(reviewer).post(f"/requests/{change_request.pk}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "You have already reviewed this request."
    second = api_as(owner).post(f"/requests/{change_request.pk}/approve")
    assert (second.json()["status"], second.json()["approvals"]) == ("approved", 2)


def test_reject_and_cancel(version: ModelVersion, editor: Any, reviewer: Any, api_as: Api) -> None:
    first = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    rejected = api_as(reviewer).post(f"/requests/{first.pk}/reject", {"comment": "Not yet."})
    assert (rejected.json()["status"], rejected.json()["resolved_by"]) == ("rejected", "reviewer")

    second = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    cancelled = api_as(editor).post(f"/requests/{second.pk}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    late = api_as(reviewer).post(f"/requests/{second.pk}/approve")
    assert late.status_code == 409
    assert late.json()["error"]["message"] == "This request was already cancelled by editor."
    assert ModelVersion.objects.get(pk=version.pk).stage == Stage.UNASSIGNED


@pytest.mark.parametrize(
    ("persona", "action", "message"),
    [
        ("viewer", "create", "Only editors and owners of this model can request stage changes."),
        ("reviewer", "create", "Only editors and owners of this model can request stage changes."),
        ("viewer", "approve", "Only reviewers and owners of this model can approve or reject stage changes."),
        ("editor2", "reject", "Only reviewers and owners of this model can approve or reject stage changes."),
        ("editor", "approve", "You made this request, so someone else has to review it."),
        ("reviewer", "cancel", "Only the requester or an owner of this model can cancel this request."),
    ],
)
def test_what_a_role_does_not_allow_is_a_403_with_the_pages_reason(
    version: ModelVersion,
    editor: Any,
    editor2: Any,
    api_as: Api,
    request: pytest.FixtureRequest,
    persona: str,
    action: str,
    message: str,
) -> None:
    pending = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    client = api_as(request.getfixturevalue(persona))
    before = (requests_made(), ActivityEntry.objects.count())
    response = (
        client.post(REQUESTS, {"to_stage": "staging"})
        if action == "create"
        else client.post(f"/requests/{pending.pk}/{action}")
    )

    assert response.status_code == 403
    assert response.json()["error"] == {"code": "permission_denied", "message": message, "field": None}
    assert (requests_made(), ActivityEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("prepare", "body", "message"),
    [
        ("lock", {"to_stage": "staging"}, "Version v1.0.0 is locked (Closed); its stage cannot change."),
        ("pending", {"to_stage": "staging"}, "Version v1.0.0 already has a pending request (Unassigned → Development"),
        ("none", {"to_stage": "unassigned"}, "Version v1.0.0 is already in Unassigned."),
    ],
)
def test_a_request_the_versions_state_blocks_is_a_409(
    version: ModelVersion, owner: Any, editor: Any, api_as: Api, prepare: str, body: Any, message: str
) -> None:
    if prepare == "lock":
        set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    elif prepare == "pending":
        request_stage_change(actor=owner, version=version, to_stage=Stage.DEVELOPMENT)
    client = api_as(editor)
    before = requests_made()
    response = client.post(REQUESTS, body)

    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith(message)
    assert requests_made() == before


def test_an_unknown_stage_is_a_400(version: ModelVersion, editor: Any, api_as: Api) -> None:
    response = api_as(editor).post(REQUESTS, {"to_stage": "prod"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "to_stage"
    assert not StageChangeRequest.objects.exists()


def test_a_retried_post_with_the_same_idempotency_key_files_one_request(
    version: ModelVersion, editor: Any, api_as: Api
) -> None:
    client = api_as(editor)
    first = client.post(REQUESTS, {"to_stage": "staging"}, **{"Idempotency-Key": "release-42"})
    again = client.post(REQUESTS, {"to_stage": "staging"}, **{"Idempotency-Key": "release-42"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert StageChangeRequest.objects.count() == 1
    assert ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGE_REQUESTED).count() == 1
    other = client.post(REQUESTS, {"to_stage": "production"}, **{"Idempotency-Key": "release-42"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_a_refused_post_keeps_no_key_so_a_retry_tries_again(
    version: ModelVersion, owner: Any, editor: Any, api_as: Api
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    client = api_as(editor)
    assert client.post(REQUESTS, {"to_stage": "staging"}, **{"Idempotency-Key": "k"}).status_code == 409
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.OPEN)
    assert client.post(REQUESTS, {"to_stage": "staging"}, **{"Idempotency-Key": "k"}).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_retries_with_one_key_file_one_request(model: RegisteredModel, editor: Any, api_as: Api) -> None:
    VersionFactory.create(model=model, name="v1.0.0")
    clients = [api_as(editor) for _ in range(6)]
    results = race(
        *(
            lambda client=client: client.post(REQUESTS, {"to_stage": "staging"}, **{"Idempotency-Key": "same"})
            for client in clients
        )
    )

    assert connection.vendor == "postgresql"
    assert all(not isinstance(result, Exception) for result in results), results
    assert {result.status_code for result in results} == {201}
    assert len({result.json()["id"] for result in results}) == 1
    assert StageChangeRequest.objects.count() == 1


@pytest.fixture
def requests_made_by_several(
    model: RegisteredModel, org_model: RegisteredModel, owner: Any, editor: Any, editor2: Any, reviewer: Any
) -> dict[str, StageChangeRequest]:
    a = VersionFactory.create(model=model, name="a")
    b = VersionFactory.create(model=model, name="b")
    c = VersionFactory.create(model=org_model, name="c")
    made = {
        "a": request_stage_change(actor=editor, version=a, to_stage=Stage.DEVELOPMENT),
        "b": request_stage_change(actor=editor2, version=b, to_stage=Stage.STAGING),
        "c": request_stage_change(actor=owner, version=c, to_stage=Stage.DEVELOPMENT),
    }
    StageChangeRequest.objects.filter(pk=made["b"].pk).update(status=Status.REJECTED)
    return made


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["version"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("persona", "params", "expected"),
    [
        ("owner", {}, ["c", "b", "a"]),
        ("owner", {"model": "churn-predictor"}, ["b", "a"]),
        ("owner", {"model": "churn-predictor", "version": "a"}, ["a"]),
        ("owner", {"status": "rejected"}, ["b"]),
        ("owner", {"requester": "editor2"}, ["b"]),
        ("owner", {"waiting_for_me": "true"}, ["a"]),  # not b (decided), not c (their own)
        ("reviewer", {"waiting_for_me": "true"}, ["a"]),
        ("outsider", {}, ["c"]),
        ("outsider", {"waiting_for_me": "true"}, []),
    ],
)
def test_listing_requests(
    requests_made_by_several: Any,
    api_as: Api,
    request: pytest.FixtureRequest,
    persona: str,
    params: dict[str, str],
    expected: list[str],
) -> None:
    assert ids(api_as(request.getfixturevalue(persona)).get("/requests", **params)) == expected


def test_requests_of_a_model_you_cannot_see_are_404(requests_made_by_several: Any, outsider: Any, api_as: Api) -> None:
    client = api_as(outsider)
    assert client.get("/requests", model="churn-predictor").status_code == 404
    assert client.get(f"/requests/{requests_made_by_several['a'].pk}").status_code == 404
    assert client.post(f"/requests/{requests_made_by_several['a'].pk}/approve").status_code == 404
    assert client.get("/requests/999999").status_code == 404


def test_a_retried_review_with_the_same_idempotency_key_reviews_once(
    model: RegisteredModel, version: ModelVersion, owner: Any, editor: Any, reviewer: Any, api_as: Api
) -> None:
    set_approval_policy(actor=owner, model=model, required_approvals=2)
    change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    client = api_as(reviewer)
    url = f"/requests/{change_request.pk}/approve"

    first = client.post(url, {"comment": "Fine."}, **{"Idempotency-Key": "approve-1"})
    again = client.post(url, {"comment": "Fine."}, **{"Idempotency-Key": "approve-1"})
    without_key = client.post(url, {"comment": "Fine."})

    assert (first.status_code, again.status_code, without_key.status_code) == (200, 200, 409)
    assert first.json() == again.json()
    assert change_request.reviews.count() == 1
