"""Text no database column can hold (NUL, unpaired surrogates) is a clear 400 at every entry point, never a 500,
and changes nothing; PostgreSQL is where a NUL would otherwise fail the query."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from activity.models import ActivityEntry
from api.services import create_api_token
from catalog.models import RegisteredModel
from tests.helpers import ApiClient

Api = Callable[[Any], ApiClient]


@pytest.mark.parametrize(
    "url",
    ["/models/churn%00predictor/", "/models/?q=%00", "/activity/?actor=a%00b", "/versions/?find=name%20%3D%3D%20%00"],
)
def test_pages_answer_a_nul_in_the_address_as_any_bad_address(client: Client, owner: Any, model: Any, url: str) -> None:
    """No page URL matches a NUL (404), and the forms that read queries refuse it (the list, with the error)."""
    client.force_login(owner)
    response = client.get(url)

    assert response.status_code == (404 if "%00predictor" in url else 200)
    assert response["Content-Type"].startswith("text/html")


def test_the_api_answers_nul_in_a_body_field_in_its_error_shape(api_as: Api, owner: Any, model: Any) -> None:
    api = api_as(owner)
    before = ActivityEntry.objects.count()

    response = api.patch("/models/churn-predictor", {"description": ":\x00\x1a"})

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "description"
    assert "NUL" in response.json()["error"]["message"]
    model.refresh_from_db()
    assert "\x00" not in model.description
    assert ActivityEntry.objects.count() == before


def test_the_api_answers_nul_in_a_username_and_a_url(api_as: Api, owner: Any, model: Any) -> None:
    put = api_as(owner).put("/models/churn-predictor/collaborators", {"name": "r\x00t", "role": "reviewer"})
    get = api_as(owner).get("/models/churn%00predictor")

    assert (put.status_code, put.json()["error"]["field"]) == (400, "name")
    assert (get.status_code, get.json()["error"]["code"]) == (400, "invalid")


def test_the_api_answers_an_unpaired_surrogate_in_json(owner: Any, model: Any) -> None:
    _, secret = create_api_token(actor=owner, name="raw")
    body = '{"description": "\\ud94b half"}'  # valid JSON, but no UTF-8 encoding exists for it

    response = Client().patch(
        "/api/v1/models/churn-predictor",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert response.status_code == 400
    assert "surrogate" in response.json()["error"]["message"]


def test_the_mlflow_api_answers_nul_with_invalid_parameter_value(owner: Any, model: Any) -> None:
    _, secret = create_api_token(actor=owner, name="mlflow")
    headers = {"Authorization": f"Bearer {secret}"}
    client = Client()

    create = client.post(
        "/api/2.0/mlflow/registered-models/create",
        json.dumps({"name": "evil\x00name"}),
        content_type="application/json",
        headers=headers,
    )
    get = client.get("/api/2.0/mlflow/registered-models/get", {"name": "churn\x00"}, headers=headers)

    for response in (create, get):
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "NUL" in response.json()["message"]
    assert not RegisteredModel.objects.filter(name__startswith="evil").exists()
