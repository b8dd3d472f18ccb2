"""Who may open each page and action of the catalog: anonymous users go to the login page, outsiders get 404
(for a private model as for a missing one), roles without the right get a readable 403, other methods get 405."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse

from activity.models import ActivityEntry
from catalog import permissions
from catalog.permissions import Role
from tests.helpers import CATALOG_POSTS, CATALOG_URLS, HTMX, catalog_url, client_for, fresh

GET_PAGES = [
    "model-detail",
    "model-activity",
    "model-collaborators",
    "model-edit",
    "version-register",
    "version-detail",
    "version-edit",
]
FRAGMENT_PAGES = ["model-detail", "model-activity", "model-collaborators", "version-detail"]


def without_tokens(html: str) -> str:
    """The page without its CSRF tokens, which differ on every render."""
    return re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", html)


@pytest.mark.parametrize("name", ["catalog:home", "catalog:model-list", "catalog:model-register"])
def test_anonymous_is_sent_to_login_from_site_pages(db: None, name: str) -> None:
    url = reverse(name)
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"


@pytest.mark.parametrize("name", CATALOG_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login_from_model_urls(model: Any, version: Any, name: str, method: str) -> None:
    url = catalog_url(name, model, version)
    entries = ActivityEntry.objects.count()
    client = client_for(None)
    response = client.post(url, CATALOG_POSTS.get(name, {})) if method == "post" else client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    assert ActivityEntry.objects.count() == entries


def test_login_page_signs_in_and_returns_to_next(model: Any, owner: Any) -> None:
    client = client_for(None)
    url = catalog_url("model-detail", model)
    page = client.get(f"/accounts/login/?next={quote(url)}")
    assert page.status_code == 200
    response = client.post(f"/accounts/login/?next={quote(url)}", {"username": "owner", "password": "pw", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url


@pytest.mark.parametrize("name", GET_PAGES)
def test_outsider_gets_404_for_pages_of_a_private_model(model: Any, version: Any, outsider: Any, name: str) -> None:
    response = client_for(outsider).get(catalog_url(name, model, version))
    assert response.status_code == 404
    assert "Not found" in response.text
    assert "Churn Predictor" not in response.text


@pytest.mark.parametrize("name", FRAGMENT_PAGES)
def test_outsider_gets_404_for_fragments_of_a_private_model(model: Any, version: Any, outsider: Any, name: str) -> None:
    url = catalog_url(name, model, version)
    for headers in (HTMX, HTMX | {"HX-Target": "versions-results"}):
        response = client_for(outsider).get(url, headers=headers)
        assert response.status_code == 404
        assert "Churn Predictor" not in response.text
        assert "v1.0.0" not in response.text


@pytest.mark.parametrize("name", CATALOG_POSTS)
def test_outsider_gets_404_for_actions_on_a_private_model(
    model: Any, version: Any, viewer: Any, outsider: Any, name: str
) -> None:
    entries = ActivityEntry.objects.count()
    for headers in ({}, HTMX):
        response = client_for(outsider).post(catalog_url(name, model, version), CATALOG_POSTS[name], headers=headers)
        assert response.status_code == 404
        assert "Churn Predictor" not in response.text
    assert ActivityEntry.objects.count() == entries
    model.refresh_from_db()
    assert model.description == "A model for tests."


def test_unknown_model_is_404_like_a_private_one(owner: Any, outsider: Any, model: Any) -> None:
    client = client_for(outsider)
    missing = client.get("/models/no-such-model/")
    hidden = client.get(catalog_url("model-detail", model))
    assert missing.status_code == hidden.status_code == 404
    assert without_tokens(missing.text) == without_tokens(hidden.text)


@pytest.mark.parametrize(
    ("name", "method", "reason"),
    [
        ("model-edit", "get", "Only editors and owners of this model can edit it."),
        ("model-edit", "post", "Only editors and owners of this model can edit it."),
        ("version-register", "get", "Only editors and owners of this model can register versions."),
        ("version-register", "post", "Only editors and owners of this model can register versions."),
        ("version-edit", "get", "Only editors and owners of this model can edit its versions."),
        ("version-edit", "post", "Only editors and owners of this model can edit its versions."),
        ("collaborator-add", "post", "Only owners of this model can manage its collaborators."),
        ("collaborator-remove", "post", "Only owners of this model can manage its collaborators."),
    ],
)
@pytest.mark.parametrize("persona", ["viewer", "reviewer"])
def test_viewer_and_reviewer_get_a_readable_403_when_acting(
    request: pytest.FixtureRequest, model: Any, version: Any, name: str, method: str, reason: str, persona: str
) -> None:
    user = request.getfixturevalue(persona)
    entries = ActivityEntry.objects.count()
    client = client_for(user)
    url = catalog_url(name, model, version)
    response = client.post(url, CATALOG_POSTS.get(name, {})) if method == "post" else client.get(url)
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text
    assert reason in response.text
    assert "Back to the catalog" in response.text
    assert ActivityEntry.objects.count() == entries
    assert permissions.role_for_permissions(permissions.Access(user).permissions(fresh(model))) == Role(persona)
    assert not model.versions.filter(name="v9.9.9").exists()


@pytest.mark.parametrize("name", ["collaborator-add", "collaborator-remove"])
def test_editor_gets_403_when_managing_collaborators(model: Any, editor: Any, viewer: Any, name: str) -> None:
    response = client_for(editor).post(catalog_url(name, model), CATALOG_POSTS[name], headers=HTMX)
    assert response.status_code == 403
    assert "Only owners of this model can manage its collaborators." in response.text
    assert permissions.role_for_permissions(permissions.Access(viewer).permissions(fresh(model))) == Role.VIEWER


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/"),
        ("post", "/models/"),
        ("put", "/models/"),
        ("delete", "/models/new/"),
        ("post", "/models/churn-predictor/"),
        ("post", "/models/churn-predictor/activity/"),
        ("post", "/models/churn-predictor/collaborators/"),
        ("get", "/models/churn-predictor/collaborators/add/"),
        ("get", "/models/churn-predictor/collaborators/remove/"),
        ("put", "/models/churn-predictor/edit/"),
        ("delete", "/models/churn-predictor/versions/new/"),
        ("post", "/models/churn-predictor/versions/v1.0.0/"),
        ("patch", "/models/churn-predictor/versions/v1.0.0/edit/"),
    ],
)
def test_wrong_method_is_405(model: Any, version: Any, owner: Any, method: str, url: str) -> None:
    response = getattr(client_for(owner), method)(url)
    assert response.status_code == 405


def test_healthz_answers_without_login(db: None) -> None:
    response = client_for(None).get("/healthz/")
    assert response.status_code == 200
    assert response.text == "ok"
