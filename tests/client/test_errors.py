"""Typed errors carrying the server's message, and retries only where a retry cannot do the work twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from modelcatalog_client import (
    AuthenticationError,
    BadRequest,
    Client,
    NetworkError,
    NotFound,
    PermissionDenied,
    RegisteredModelVersion,
    ServerError,
    WorkflowError,
    lock,
)
from modelcatalog_client.stage_change import Production, Staging

from api.models import ApiToken
from api.services import create_api_token, revoke_api_token
from approvals.models import StageChangeRequest
from catalog.models import ModelVersion
from tests.client.conftest import Connect


def _version(client: Client) -> RegisteredModelVersion:
    return client.get_registered_model("Churn Predictor").get_version("v1.0.0")


# Each test against the live server empties the database after it (a second or so on PostgreSQL), so each of these
# tests goes through every case of one status.


def test_401_says_why_the_token_was_refused(
    server: str, owner: Any, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked, revoked_secret = create_api_token(actor=owner, name="laptop")
    revoke_api_token(actor=owner, token=revoked)
    expired, expired_secret = create_api_token(actor=owner, name="ci", expires_in_days=1)
    ended = timezone.now() - timedelta(days=2)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=ended)
    monkeypatch.delenv("MODELCATALOG_TOKEN", raising=False)
    cases = {
        None: "No API token was sent: use “Authorization: Bearer <token>”, or sign in.",
        "mc_not-a-token": "This API token is not valid: check that it was copied whole.",
        revoked_secret: f"This API token (“laptop”) was revoked on {timezone.now():%Y-%m-%d}.",
        expired_secret: f"This API token (“ci”) expired on {ended:%Y-%m-%d}.",
    }
    for token, message in cases.items():
        with Client(server, token) as client, pytest.raises(AuthenticationError) as refused:
            client.get_registered_model("Churn Predictor")
        assert (refused.value.message, refused.value.status, refused.value.code) == (message, 401, "unauthenticated")


def test_403_says_which_role_is_needed(connect: Connect, owner: Any, viewer: Any, editor: Any, version: Any) -> None:
    with pytest.raises(PermissionDenied) as refused:
        _version(connect(viewer)).change_stage(Staging("Please?"))
    assert str(refused.value) == "Only editors and owners of this model can request stage changes."
    assert (refused.value.status, refused.value.code) == (403, "permission_denied")
    assert not StageChangeRequest.objects.exists()

    change_request = _version(connect(owner)).change_stage(Staging("Mine."))
    with pytest.raises(PermissionDenied, match=r"^You made this request, so someone else has to review it\.$"):
        change_request.approve()
    assert change_request.refresh().status == "pending"
    change_request.cancel()

    model_ver = _version(connect(editor))
    model_ver.set_lock_level(lock.closed)
    with pytest.raises(PermissionDenied, match=r"^Only owners of this model can lower a lock level\.$"):
        model_ver.set_lock_level(lock.open)
    assert model_ver.refresh().lock_level == "closed"


def test_404_for_another_user_s_private_model_and_what_is_in_it(
    connect: Connect, outsider: Any, editor: Any, version: Any
) -> None:
    change_request = _version(connect(editor)).change_stage(Staging("Ready?"))
    client = connect(outsider)
    with pytest.raises(NotFound) as missing:
        client.get_registered_model("Churn Predictor")
    assert (str(missing.value), missing.value.status, missing.value.code) == ("No such model.", 404, "not_found")
    with pytest.raises(NotFound, match=r"^No such request\.$"):
        client.get_change_request(change_request.id)
    with pytest.raises(NotFound, match=r"^No such model\.$"):
        list(client.change_requests(model="churn-predictor"))
    assert list(client.registered_model_versions) == []
    with pytest.raises(NotFound, match=r"^No such version\.$"):
        connect(editor).get_registered_model("Churn Predictor").get_version("v404")


def test_400_says_what_is_wrong_with_the_input(connect: Connect, owner: Any, version: Any) -> None:
    client = connect(owner)
    with pytest.raises(BadRequest) as refused:
        client.registered_model_versions.find("stage == prod")[0]
    assert (
        str(refused.value) == "unknown stage `prod`; stages are: unassigned, development, staging, production, archived"
    )
    assert (refused.value.status, refused.value.code, refused.value.field) == (400, "invalid_find", "find")
    with pytest.raises(BadRequest, match=r"^Version “v1\.0\.0” already exists for Churn Predictor\."):
        client.get_registered_model("Churn Predictor").create_version("v1.0.0")


def test_409_when_the_version_or_request_is_in_a_state_that_refuses(
    connect: Connect, owner: Any, editor: Any, reviewer: Any, reviewer2: Any, version: Any
) -> None:
    model_ver = _version(connect(editor))
    change_request = model_ver.change_stage(Staging("Ready?"))
    with pytest.raises(WorkflowError) as refused:
        model_ver.change_stage(Production("Straight to prod?"))
    assert str(refused.value) == (
        "Version v1.0.0 already has a pending request (Unassigned → Staging, by editor). "
        "It must be approved, rejected or cancelled first."
    )
    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert StageChangeRequest.objects.count() == 1

    connect(reviewer).get_change_request(change_request.id).approve()
    with pytest.raises(WorkflowError, match=r"^This request was already approved by reviewer\.$"):
        connect(reviewer2).get_change_request(change_request.id).reject()

    model_ver.set_lock_level(lock.closed)
    with pytest.raises(WorkflowError, match=r"^Version v1\.0\.0 is locked \(Closed\); its stage cannot change\.$"):
        model_ver.change_stage(Production("Ready?"))


# Retries -----------------------------------------------------------------------------------------------------------


def test_a_lost_answer_to_change_stage_is_retried_with_the_same_key_and_files_one_request(
    connect: Connect, editor: Any, version: Any, proxy: Any
) -> None:
    flaky = proxy()
    model_ver = _version(connect(editor, host=flaky.url))
    flaky.lose = 1
    change_request = model_ver.change_stage(Production("Release 42."))
    posts = flaky.requests("POST")
    assert len(posts) == 2
    assert posts[0][2] is not None
    assert posts[0][2] == posts[1][2]  # one Idempotency-Key, sent twice
    filed = StageChangeRequest.objects.get()  # the first POST filed it; the retry got the same answer
    assert (change_request.id, change_request.status, change_request.comment) == (filed.pk, "pending", "Release 42.")

    # A new call is a new key: the server refuses a second request.
    with pytest.raises(WorkflowError, match="already has a pending request"):
        model_ver.change_stage(Production("Release 42."))
    assert len({key for _, _, key in flaky.requests("POST")}) == 2


def test_a_get_is_retried_after_lost_answers_and_bad_gateways_until_its_retries_run_out(
    connect: Connect, owner: Any, version: Any, proxy: Any
) -> None:
    flaky = proxy(lose=2)
    assert connect(owner, host=flaky.url).get_registered_model("churn-predictor").name == "Churn Predictor"
    assert len(flaky.requests("GET")) == 3
    gateway = proxy(lose=1, answer_with=503)
    assert connect(owner, host=gateway.url).get_registered_model("churn-predictor").name == "Churn Predictor"
    assert len(gateway.requests("GET")) == 2

    hopeless = proxy(lose=5)
    with pytest.raises(NetworkError, match=r"^GET http://127\.0\.0\.1:\d+/api/v1/models/churn-predictor got no "):
        connect(owner, host=hopeless.url, retries=1).get_registered_model("churn-predictor")
    assert len(hopeless.seen) == 2
    with pytest.raises(NetworkError, match=r"tried 2 times"):
        connect(owner, host="http://127.0.0.1:9", retries=1).get_registered_model("anything")


def test_a_lost_answer_to_a_review_is_retried_with_the_same_key_and_reviews_once(
    connect: Connect, editor: Any, reviewer: Any, version: Any, proxy: Any
) -> None:
    change_request = _version(connect(editor)).change_stage(Staging("Ready?"))
    flaky = proxy()
    review = connect(reviewer, host=flaky.url).get_change_request(change_request.id)
    flaky.lose = 1
    assert review.approve("Fine.").status == "approved"  # the retry got the first answer, not a refusal
    posts = flaky.requests("POST")
    assert len(posts) == 2
    assert posts[0][2] is not None
    assert posts[0][2] == posts[1][2]
    assert StageChangeRequest.objects.get().reviews.count() == 1


def test_a_lock_change_and_a_bad_gateway_on_a_post_are_not_retried(
    connect: Connect, owner: Any, version: Any, proxy: Any
) -> None:
    flaky = proxy()
    model_ver = _version(connect(owner, host=flaky.url))
    flaky.lose = 1
    with pytest.raises(NetworkError):
        model_ver.set_lock_level(lock.closed)
    assert len(flaky.requests("PUT")) == 1
    assert ModelVersion.objects.get().lock_level == "closed"

    gateway = proxy()
    model = connect(owner, host=gateway.url).get_registered_model("churn-predictor")
    gateway.lose, gateway.answer_with = 1, 502
    with pytest.raises(ServerError, match=r"^The server answered 502 Bad Gateway\.$"):
        model.create_version("v2")
    assert len(gateway.requests("POST")) == 1
    assert ModelVersion.objects.filter(name="v2").exists()  # the server did it; the gateway lost the answer
