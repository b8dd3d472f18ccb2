"""Who may open the activity log's pages and post a comment: anonymous users go to the login page, outsiders get
404 for a private model, a viewer gets 403 when commenting, other methods get 405, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from catalog.models import ModelVersion, RegisteredModel
from tests.helpers import (
    ACTIVITY_RESULTS,
    HTMX,
    activity_url,
    client_for,
    comment_url,
    comments_written,
    export_url,
    history_url,
    tab_url,
    version_url,
)

LOGIN = "/accounts/login/"
GET_PAGES = ["activity", "export-csv", "export-jsonl", "history", "model-activity", "version", "home"]


def url_of(name: str, model: RegisteredModel, version: ModelVersion) -> str:
    return {
        "activity": activity_url(),
        "export-csv": export_url("csv"),
        "export-jsonl": export_url("jsonl"),
        "history": history_url(model),
        "model-activity": tab_url(model),
        "version": version_url(version),
        "home": reverse("catalog:home"),
        "comment": comment_url(version),
    }[name]


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize("headers", [{}, HTMX, ACTIVITY_RESULTS])
def test_anonymous_is_sent_to_login(
    model: RegisteredModel, version: ModelVersion, name: str, headers: dict[str, str]
) -> None:
    url = url_of(name, model, version)

    response = client_for(None).get(url, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_anonymous_comment_is_sent_to_login_and_writes_nothing(version: ModelVersion, headers: dict[str, str]) -> None:
    response = client_for(None).post(comment_url(version), {"comment": "Hello"}, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")
    assert comments_written() == []


@pytest.mark.parametrize("name", ["history", "model-activity", "version"])
@pytest.mark.parametrize("headers", [{}, HTMX, ACTIVITY_RESULTS])
def test_outsider_gets_404_for_pages_of_a_private_model(
    model: RegisteredModel, version: ModelVersion, outsider: Any, name: str, headers: dict[str, str]
) -> None:
    response = client_for(outsider).get(url_of(name, model, version) + "?at=2024-01-01T10:00", headers=headers)

    assert response.status_code == 404


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_outsider_comment_on_a_private_model_is_404_and_writes_nothing(
    version: ModelVersion, outsider: Any, headers: dict[str, str]
) -> None:
    response = client_for(outsider).post(comment_url(version), {"comment": "Let me in"}, headers=headers)

    assert response.status_code == 404
    assert comments_written() == []


def test_unknown_model_or_version_is_404(version: ModelVersion, owner: Any) -> None:
    client = client_for(owner)
    slug = version.model.slug

    assert client.get(reverse("activity:model-history", kwargs={"slug": "nope"})).status_code == 404
    assert client.post(f"/models/{slug}/versions/nope/comments/", {"comment": "x"}).status_code == 404
    assert client.post(f"/models/{slug}/versions/v%00/comments/", {"comment": "x"}).status_code == 404
    assert comments_written() == []


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_viewer_cannot_comment_403_and_nothing_is_written(
    version: ModelVersion, viewer: Any, headers: dict[str, str]
) -> None:
    response = client_for(viewer).post(comment_url(version), {"comment": "Can I?"}, headers=headers)

    assert response.status_code == 403
    assert comments_written() == []


def test_viewer_sees_no_comment_box_and_collaborators_who_act_do(
    version: ModelVersion, viewer: Any, editor: Any, reviewer: Any, owner: Any
) -> None:
    assert 'class="comment-form"' not in client_for(viewer).get(version_url(version)).text
    for user in (editor, reviewer, owner):
        page = client_for(user).get(version_url(version)).text
        assert f'action="{comment_url(version)}"' in page, user.username


@pytest.mark.parametrize("name", GET_PAGES)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_answer_405_to_other_methods(
    model: RegisteredModel, version: ModelVersion, owner: Any, name: str, method: str
) -> None:
    response = getattr(client_for(owner), method)(url_of(name, model, version))

    assert response.status_code == 405


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_comment_answers_405_to_anything_but_post(version: ModelVersion, editor: Any, method: str) -> None:
    response = getattr(client_for(editor), method)(comment_url(version))

    assert response.status_code == 405
    assert comments_written() == []
