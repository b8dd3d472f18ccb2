"""Filtering, sorting and paging the catalog and a model's versions tab, on the page and in its htmx fragment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import HTMX, assert_fragment, client_for, result_count, select, set_stage, tile_names, version_rows

# --- Catalog filters, sorting and pagination ---------------------------------------------------------------------


@pytest.fixture
def shelf(owner: Any) -> dict[str, RegisteredModel]:
    """Four models seen from owner: three visible, one private to alice."""
    alice = UserFactory.create(username="alice")
    alpha = ModelFactory.create(
        owner=owner,
        name="Alpha Speech",
        labels=["audio", "asr"],
        task_type="transcription",
        data_type="audio",
    )
    beta = ModelFactory.create(
        owner=alice, name="Beta Vision", labels=["vision"], task_type="detection", data_type="image"
    )
    gamma = ModelFactory.create(
        owner=owner,
        name="Gamma Retention",
        description="Predicts customer churn.",
        labels=["tabular"],
        task_type="classification",
        data_type="tabular",
    )
    delta = ModelFactory.create(owner=alice, name="Delta Secret", labels=["vision"], visibility="private")
    for model, stages in {
        alpha: [Stage.PRODUCTION, Stage.PRODUCTION, Stage.STAGING],
        beta: [Stage.PRODUCTION],
        gamma: [Stage.STAGING, Stage.ARCHIVED],
        delta: [Stage.PRODUCTION],
    }.items():
        for n, stage in enumerate(stages):
            set_stage(VersionFactory.create(model=model, name=f"v{n}", created_by=model.owner), stage)
    now = timezone.now()
    for model, age in ((gamma, 1), (alpha, 2), (beta, 3), (delta, 0)):
        RegisteredModel.objects.filter(pk=model.pk).update(updated_at=now - timedelta(hours=age))
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Alpha Speech", "Beta Vision", "Gamma Retention"]),
        ("stage=production", ["Alpha Speech", "Beta Vision"]),
        ("stage=staging", ["Alpha Speech", "Gamma Retention"]),
        ("stage=archived", ["Gamma Retention"]),
        ("stage=development", []),
        ("label=vision", ["Beta Vision"]),
        ("label=asr", ["Alpha Speech"]),
        ("owner=alice", ["Beta Vision"]),
        ("owner=owner", ["Alpha Speech", "Gamma Retention"]),
        ("task_type=transcription", ["Alpha Speech"]),
        ("data_type=tabular", ["Gamma Retention"]),
        ("q=churn", ["Gamma Retention"]),
        ("q=VISION", ["Beta Vision"]),
        ("q=+speech+", ["Alpha Speech"]),
        ("q=secret", []),
        ("stage=production&owner=owner", ["Alpha Speech"]),
        ("stage=production&label=vision&q=beta", ["Beta Vision"]),
        ("sort=name", ["Alpha Speech", "Beta Vision", "Gamma Retention"]),
        ("sort=updated", ["Gamma Retention", "Alpha Speech", "Beta Vision"]),
        ("sort=production", ["Alpha Speech", "Beta Vision", "Gamma Retention"]),
        ("stage=staging&sort=updated", ["Gamma Retention", "Alpha Speech"]),
    ],
)
def test_catalog_filters_and_sorts(shelf: Any, owner: Any, query: str, expected: list[str]) -> None:
    client = client_for(owner)
    page = client.get(f"/models/?{query}")
    assert page.status_code == 200
    assert tile_names(page) == expected
    fragment = client.get(f"/models/?{query}", headers=HTMX)
    assert_fragment(fragment, "catalog-results")
    assert tile_names(fragment) == expected
    if not expected:
        assert "No models match these filters." in page.text


def test_sort_by_production_counts_production_versions(shelf: Any, owner: Any) -> None:
    for n in range(3):
        set_stage(VersionFactory.create(model=shelf["gamma"], name=f"prod-{n}"), Stage.PRODUCTION)
    response = client_for(owner).get("/models/?sort=production")
    assert tile_names(response) == ["Gamma Retention", "Alpha Speech", "Beta Vision"]


def test_catalog_form_keeps_the_filters_in_the_url(shelf: Any, owner: Any) -> None:
    response = client_for(owner).get("/models/?stage=production&q=alpha&sort=updated")
    assert '<option value="production" selected>Production</option>' in response.text
    assert '<option value="updated" selected>Recently updated</option>' in response.text
    assert 'name="q" value="alpha"' in response.text
    assert select(response.text, "a", class_="chip on", href="?stage=production")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("stage=bogus", "Stage: Select a valid choice. bogus is not one of the available choices."),
        ("sort=random", "Sort: Select a valid choice. random is not one of the available choices."),
        ("task_type=magic", "Task_type: Select a valid choice."),
        ("data_type=smell", "Data_type: Select a valid choice."),
        ("q=" + "x" * 201, "Q: Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_catalog_invalid_filter_shows_an_error(shelf: Any, owner: Any, query: str, error: str) -> None:
    response = client_for(owner).get(f"/models/?{query}")
    assert response.status_code == 200
    assert '<div class="form-errors" role="alert">' in response.text
    assert error in response.text
    fragment = client_for(owner).get(f"/models/?{query}", headers=HTMX)
    assert_fragment(fragment, "catalog-results")
    assert error in fragment.text


@pytest.fixture
def many_models(owner: Any) -> list[RegisteredModel]:
    return [ModelFactory.create(owner=owner, name=f"Bulk {n:02d}", labels=["bulk"]) for n in range(25)]


def test_catalog_paginates(many_models: Any, owner: Any) -> None:
    client = client_for(owner)
    first = client.get("/models/?label=bulk")
    assert tile_names(first) == [f"Bulk {n:02d}" for n in range(24)]
    assert result_count(first.text) == 25
    assert "Page 1 of 2" in first.text
    assert 'href="?label=bulk&page=2"' in first.text
    second = client.get("/models/?label=bulk&page=2", headers=HTMX)
    assert_fragment(second, "catalog-results")
    assert tile_names(second) == ["Bulk 24"]
    assert 'href="?label=bulk&page=1"' in second.text


@pytest.mark.parametrize(
    ("page", "first_tile"), [("999", "Bulk 24"), ("abc", "Bulk 00"), ("-1", "Bulk 24"), ("", "Bulk 00")]
)
def test_catalog_page_out_of_range_is_clamped(many_models: Any, owner: Any, page: str, first_tile: str) -> None:
    response = client_for(owner).get(f"/models/?page={page}")
    assert response.status_code == 200
    assert tile_names(response)[0] == first_tile


# --- Versions tab filters, sorting and pagination ----------------------------------------------------------------


@pytest.fixture
def staged_versions(model: Any, owner: Any) -> dict[str, ModelVersion]:
    versions = {
        name: VersionFactory.create(model=model, name=name) for name in ("b-dev", "c-prod", "a-stage", "d-prod")
    }
    set_stage(versions["b-dev"], Stage.DEVELOPMENT)
    set_stage(versions["c-prod"], Stage.PRODUCTION)
    set_stage(versions["a-stage"], Stage.STAGING)
    set_stage(versions["d-prod"], Stage.PRODUCTION)
    return versions


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["d-prod", "a-stage", "c-prod", "b-dev"]),
        ("stage=production", ["d-prod", "c-prod"]),
        ("stage=development", ["b-dev"]),
        ("stage=archived", []),
        ("sort=oldest", ["b-dev", "c-prod", "a-stage", "d-prod"]),
        ("sort=name", ["a-stage", "b-dev", "c-prod", "d-prod"]),
        ("sort=changed", ["d-prod", "a-stage", "c-prod", "b-dev"]),
        ("stage=production&sort=name", ["c-prod", "d-prod"]),
        ("q=PROD", ["d-prod", "c-prod"]),
    ],
)
def test_versions_tab_filters_and_sorts(
    model: Any, staged_versions: Any, viewer: Any, query: str, expected: list[str]
) -> None:
    response = client_for(viewer).get(
        f"/models/churn-predictor/?{query}", headers=HTMX | {"HX-Target": "versions-results"}
    )
    assert_fragment(response, "versions-results")
    assert version_rows(response) == expected
    if not expected:
        assert "No versions match." in response.text


def test_versions_tab_invalid_stage_shows_an_error(model: Any, staged_versions: Any, viewer: Any) -> None:
    response = client_for(viewer).get("/models/churn-predictor/?stage=bogus&sort=sideways")
    assert response.status_code == 200
    assert "Stage: Select a valid choice. bogus is not one of the available choices." in response.text
    assert "Sort: Select a valid choice. sideways is not one of the available choices." in response.text


def test_versions_tab_paginates(model: Any, owner: Any, viewer: Any) -> None:
    for n in range(25):
        VersionFactory.create(model=model, name=f"r{n:02d}")
    client = client_for(viewer)
    first = client.get("/models/churn-predictor/?sort=name")
    assert version_rows(first) == [f"r{n:02d}" for n in range(24)]
    assert "25 versions" in first.text
    assert 'href="?sort=name&page=2"' in first.text
    headers = HTMX | {"HX-Target": "versions-results"}
    second = client.get("/models/churn-predictor/?sort=name&page=2", headers=headers)
    assert_fragment(second, "versions-results")
    assert version_rows(second) == ["r24"]
    assert version_rows(client.get("/models/churn-predictor/?sort=name&page=999")) == ["r24"]
    assert version_rows(client.get("/models/churn-predictor/?sort=name&page=abc"))[0] == "r00"
