"""Compare two versions of a model: permissions and redaction as on the version page, bad parameters, queries."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.services import register_version
from tests.factories import ModelFactory, VersionFactory
from tests.helpers import client_for, select, set_stage, visible_text

COMPARE_URL = "/models/churn-predictor/compare/"


@pytest.fixture
def pair(model: RegisteredModel, owner: Any) -> tuple[Any, Any]:
    a = VersionFactory(
        model=model,
        created_by=owner,
        name="v1",
        attributes={"auc": 0.91, "rows": 1000},
        artifact_uri="s3://m/v1",
        description="First **cut**",
    )
    b = VersionFactory(
        model=model,
        created_by=owner,
        name="v2",
        attributes={"auc": 0.93, "rows": 1000, "f1": 0.7},
        artifact_uri="s3://m/v2",
        description="First **cut**",
    )
    set_stage(b, Stage.STAGING)
    return a, b


def compare(user: Any, query: str) -> Any:
    return client_for(user).get(f"{COMPARE_URL}?{query}")


def test_differences_are_marked_and_sameness_is_not(pair: Any, viewer: Any) -> None:
    response = compare(viewer, "a=v1&b=v2")
    assert response.status_code == 200
    differing = [row.select("th")[0].text for row in select(response.text, "tr", class_="diff")]
    assert "Stage differs" in differing
    assert "auc differs" in differing
    assert "f1 differs" in differing
    assert "rows" not in " ".join(differing)
    assert "Description differs" not in differing
    assert "<strong>cut</strong>" in response.text  # descriptions in Markdown


def test_anonymous_is_sent_to_sign_in(pair: Any) -> None:
    assert compare(None, "a=v1&b=v2").status_code == 302


def test_outsider_gets_404_on_a_private_model(pair: Any, outsider: Any) -> None:
    assert compare(outsider, "a=v1&b=v2").status_code == 404


def test_a_version_of_another_model_is_404(pair: Any, owner: Any) -> None:
    other = ModelFactory(owner=owner, name="Other")
    VersionFactory(model=other, created_by=owner, name="v9")
    assert compare(owner, "a=v1&b=v9").status_code == 404


@pytest.mark.parametrize(("query", "status"), [("", 400), ("b=v2", 400), ("a=&b=v2", 400), ("a=v1&b=nope", 404),
                                               ("a=v1%00&b=v2", 400), ("a=nope", 404)])  # fmt: skip
def test_bad_parameters_are_a_clear_4xx(pair: Any, owner: Any, query: str, status: int) -> None:
    response = compare(owner, query)
    assert response.status_code == status


def test_only_a_offers_the_choice_of_the_other(pair: Any, viewer: Any) -> None:
    response = compare(viewer, "a=v1")
    assert response.status_code == 200
    options = [option.text for option in select(response.text, "select", id="compare-b")[0].select("option")]
    assert options == ["Choose a version…", "v2", "v1"]


def test_redact_hides_artifacts_from_all_but_owners_as_the_version_page_does(
    pair: Any, owner: Any, viewer: Any
) -> None:
    ModelVersion.objects.filter(name="v2").update(lock_level=LockLevel.REDACT)
    as_viewer = compare(viewer, "a=v1&b=v2").text
    assert "s3://m/v1" in as_viewer
    assert "s3://m/v2" not in as_viewer
    assert "Redacted (lock level Redact)" in visible_text(as_viewer)
    assert "s3://m/v2" in compare(owner, "a=v1&b=v2").text


@pytest.mark.parametrize("size", [3, 30])
def test_compare_runs_a_bounded_number_of_queries(
    model: RegisteredModel, owner: Any, viewer: Any, django_assert_max_num_queries: Any, size: int
) -> None:
    for n in range(size):
        register_version(actor=owner, model=model, name=f"v{n}", labels=[f"l{n}", "shared"],
                         attributes={f"k{i}": i for i in range(size)})  # fmt: skip
    for n in range(size):
        set_stage(ModelVersion.objects.get(model=model, name="v0"), [Stage.DEVELOPMENT, Stage.STAGING][n % 2])
    client = client_for(viewer)
    with django_assert_max_num_queries(12):
        response = client.get(f"{COMPARE_URL}?a=v0&b=v1")
    assert response.status_code == 200
