"""Every POST that creates answers 201 with what it made, without ninja's deprecated (status, body) tuples, whose
warning (an error under pytest, and with -W error) turned these answers into 500s."""

from __future__ import annotations

import json
import warnings
from typing import Any

from django.test import Client

from api.services import create_api_token
from approvals.models import StageChangeRequest


def _post(user: Any, path: str, body: dict[str, Any], **headers: str) -> Any:
    secret = create_api_token(actor=user, name="created status")[1]
    client = Client(headers={"Authorization": f"Bearer {secret}", **headers})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def test_registering_a_model_and_a_version_answers_201(owner: Any) -> None:
    response = _post(owner, "/models", {"name": "Fraud Scorer"})
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "fraud-scorer"
    response = _post(owner, "/models/fraud-scorer/versions", {"name": "v1"})
    assert response.status_code == 201, response.content
    assert (response.json()["name"], response.json()["stage"]) == ("v1", "unassigned")


def test_a_request_answers_201_and_again_201_when_replayed_for_its_idempotency_key(editor: Any, version: Any) -> None:
    path, body = "/models/churn-predictor/versions/v1.0.0/requests", {"to_stage": "staging"}
    first = _post(editor, path, body, **{"Idempotency-Key": "release-1"})
    again = _post(editor, path, body, **{"Idempotency-Key": "release-1"})
    assert (first.status_code, again.status_code) == (201, 201), first.content
    assert first.json()["id"] == again.json()["id"] == StageChangeRequest.objects.get().pk


def test_a_comment_answers_201(editor: Any, version: Any) -> None:
    response = _post(editor, "/models/churn-predictor/versions/v1.0.0/comments", {"comment": "Looks stable."})
    assert response.status_code == 201, response.content
    assert (response.json()["event"], response.json()["comment"]) == ("commented", "Looks stable.")
