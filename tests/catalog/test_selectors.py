"""Reads of the catalog return only what the user may see."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from catalog import dashboard, selectors
from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.selectors import Collaborator, StageCount
from catalog.services import add_collaborator, register_version
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import set_stage


@pytest.fixture
def catalog_models(owner: Any, model: RegisteredModel, org_model: RegisteredModel) -> dict[str, Any]:
    """`model` (private: 3 versions, one in Production), `org_model` (1 version) and a stranger's private model."""
    stranger = UserFactory.create(username="stranger")
    secret = ModelFactory.create(owner=stranger, name="Stranger Secret", visibility="private")
    versions = {
        "churn-1": register_version(actor=owner, model=model, name="v1"),
        "churn-2": register_version(actor=owner, model=model, name="v2"),
        "churn-3": register_version(actor=owner, model=model, name="v3"),
        "open-1": register_version(actor=owner, model=org_model, name="v1"),
        "secret-1": register_version(actor=stranger, model=secret, name="v1"),
        "secret-2": register_version(actor=stranger, model=secret, name="v2"),
    }
    set_stage(versions["churn-2"], Stage.PRODUCTION)
    set_stage(versions["secret-1"], Stage.PRODUCTION)
    set_stage(versions["secret-2"], Stage.STAGING)
    return {"model": model, "org_model": org_model, "secret": secret, **versions}


def _names(queryset: Any) -> set[str]:
    return {str(obj) for obj in queryset}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", {"Churn Predictor", "Open Model"}),
        ("viewer", {"Churn Predictor", "Open Model"}),
        ("outsider", {"Open Model"}),
        ("anonymous", set()),
        ("superuser", {"Churn Predictor", "Open Model", "Stranger Secret"}),
    ],
)
def test_visible_models(
    request: pytest.FixtureRequest, catalog_models: dict[str, Any], persona: str, expected: set[str]
) -> None:
    user = request.getfixturevalue(persona)

    assert _names(selectors.visible_models(user=user)) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", {"Churn Predictor v1", "Churn Predictor v2", "Churn Predictor v3", "Open Model v1"}),
        ("viewer", {"Churn Predictor v1", "Churn Predictor v2", "Churn Predictor v3", "Open Model v1"}),
        ("outsider", {"Open Model v1"}),
        ("anonymous", set()),
        (
            "superuser",
            {
                "Churn Predictor v1",
                "Churn Predictor v2",
                "Churn Predictor v3",
                "Open Model v1",
                "Stranger Secret v1",
                "Stranger Secret v2",
            },
        ),
    ],
)
def test_visible_versions(
    request: pytest.FixtureRequest, catalog_models: dict[str, Any], persona: str, expected: set[str]
) -> None:
    user = request.getfixturevalue(persona)

    assert _names(selectors.visible_versions(user=user).select_related("model")) == expected


def test_visible_models_include_those_shared_with_a_group(catalog_models: dict[str, Any], outsider: Any) -> None:
    group = GroupFactory.create(name="partners")
    outsider.groups.add(group)
    secret = catalog_models["secret"]
    add_collaborator(actor=secret.owner, model=secret, group=group, role=Role.VIEWER)

    assert _names(selectors.visible_models(user=outsider)) == {"Open Model", "Stranger Secret"}
    assert _names(selectors.visible_versions(user=outsider).select_related("model")) == {
        "Open Model v1",
        "Stranger Secret v1",
        "Stranger Secret v2",
    }


def test_inactive_superuser_sees_nothing(catalog_models: dict[str, Any], superuser: Any) -> None:
    superuser.is_active = False

    assert not selectors.visible_models(user=superuser).exists()
    assert not selectors.visible_versions(user=superuser).exists()


# get_model / get_version


@pytest.mark.parametrize("persona", ["owner", "editor", "reviewer", "viewer"])
def test_get_model_returns_the_model_to_collaborators(
    request: pytest.FixtureRequest, model: RegisteredModel, persona: str
) -> None:
    assert selectors.get_model(who=request.getfixturevalue(persona), slug=model.slug) == model


def test_get_model_returns_an_organization_model_to_any_signed_in_user(
    org_model: RegisteredModel, outsider: Any
) -> None:
    assert selectors.get_model(who=outsider, slug=org_model.slug) == org_model


@pytest.mark.parametrize("slug", ["no-such-model", "", "CHURN-PREDICTOR", "churn-predictor/"])
def test_get_model_raises_404_for_an_unknown_slug(model: RegisteredModel, owner: Any, slug: str) -> None:
    with pytest.raises(Http404):
        selectors.get_model(who=owner, slug=slug)


@pytest.mark.parametrize("user_kind", ["outsider", "anonymous"])
def test_get_model_raises_404_for_a_model_the_user_may_not_view(
    request: pytest.FixtureRequest, model: RegisteredModel, user_kind: str
) -> None:
    user = request.getfixturevalue(user_kind)

    with pytest.raises(Http404):
        selectors.get_model(who=user, slug=model.slug)


def test_get_version_returns_the_version_with_its_model(version: ModelVersion, viewer: Any) -> None:
    found = selectors.get_version(who=viewer, slug=version.model.slug, name="v1.0.0")

    assert found == version
    assert found.model == version.model


def test_get_version_raises_404_for_an_unknown_version(version: ModelVersion, owner: Any) -> None:
    with pytest.raises(Http404):
        selectors.get_version(who=owner, slug=version.model.slug, name="v9")
    with pytest.raises(Http404):
        selectors.get_version(who=owner, slug="no-such-model", name="v1.0.0")


def test_get_version_raises_404_for_a_version_of_another_model(
    owner: Any, version: ModelVersion, org_model: RegisteredModel
) -> None:
    with pytest.raises(Http404):
        selectors.get_version(who=owner, slug=org_model.slug, name=version.name)


def test_get_version_raises_404_for_a_version_the_user_may_not_view(version: ModelVersion, outsider: Any) -> None:
    with pytest.raises(Http404):
        selectors.get_version(who=outsider, slug=version.model.slug, name=version.name)
    with pytest.raises(Http404):
        selectors.get_version(who=AnonymousUser(), slug=version.model.slug, name=version.name)


# Stage counts and dashboards


def test_stage_counts_lists_every_stage_in_order(catalog_models: dict[str, Any]) -> None:
    churn = RegisteredModel.objects.get(pk=catalog_models["model"].pk)

    assert selectors.stage_counts(churn) == [
        StageCount(stage=Stage.UNASSIGNED, count=2),
        StageCount(stage=Stage.DEVELOPMENT, count=0),
        StageCount(stage=Stage.STAGING, count=0),
        StageCount(stage=Stage.PRODUCTION, count=1),
        StageCount(stage=Stage.ARCHIVED, count=0),
    ]


def test_stage_counts_of_a_model_without_versions_are_zero(model: RegisteredModel) -> None:
    counts = selectors.stage_counts(RegisteredModel.objects.get(pk=model.pk))

    assert [c.stage for c in counts] == list(STAGE_ORDER)
    assert all(c.count == 0 for c in counts)


def test_stage_counts_follow_each_stage_change(model: RegisteredModel, version: ModelVersion) -> None:
    for stage in [Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED]:
        set_stage(version, stage)

        counts = {c.stage: c.count for c in selectors.stage_counts(RegisteredModel.objects.get(pk=model.pk))}
        assert counts == {s: int(s == stage) for s in STAGE_ORDER}


def test_production_versions_most_recently_promoted_first(catalog_models: dict[str, Any]) -> None:
    model = catalog_models["model"]
    set_stage(catalog_models["churn-3"], Stage.PRODUCTION)
    now = timezone.now()
    for key, days in [("churn-2", 2), ("churn-3", 1)]:
        promoted_at = now - datetime.timedelta(days=days)
        ModelVersion.objects.filter(pk=catalog_models[key].pk).update(stage_changed_at=promoted_at)

    assert [v.name for v in selectors.production_versions(model=model)] == ["v3", "v2"]
    assert [v.name for v in selectors.production_versions(model=model, limit=1)] == ["v3"]


@pytest.mark.parametrize(
    ("persona", "models", "versions", "per_stage"),
    [
        ("owner", 2, 4, {Stage.UNASSIGNED: 3, Stage.PRODUCTION: 1}),
        ("outsider", 1, 1, {Stage.UNASSIGNED: 1}),
        ("superuser", 3, 6, {Stage.UNASSIGNED: 3, Stage.STAGING: 1, Stage.PRODUCTION: 2}),
    ],
)
def test_home_stats_count_only_what_the_user_may_see(
    request: pytest.FixtureRequest,
    catalog_models: dict[str, Any],
    persona: str,
    models: int,
    versions: int,
    per_stage: dict[Stage, int],
) -> None:
    stats = dashboard.home_stats(user=request.getfixturevalue(persona))

    assert stats.total_models == models
    assert stats.total_versions == versions
    assert stats.stage_counts == [StageCount(stage=s, count=per_stage.get(s, 0)) for s in STAGE_ORDER]
    assert stats.production_count == per_stage.get(Stage.PRODUCTION, 0)
    assert len(stats.recently_registered) == versions


def test_home_stats_recent_lists_are_newest_first_and_visible_only(
    catalog_models: dict[str, Any], outsider: Any
) -> None:
    owner = catalog_models["model"].owner
    owner_stats = dashboard.home_stats(user=owner, recent=2)
    outsider_stats = dashboard.home_stats(user=outsider)

    assert [str(v) for v in owner_stats.recently_registered] == ["Open Model v1", "Churn Predictor v3"]
    assert [str(v) for v in owner_stats.recently_changed] == ["Churn Predictor v2"]
    assert [str(v) for v in outsider_stats.recently_registered] == ["Open Model v1"]
    assert outsider_stats.recently_changed == []


def test_home_stats_for_anonymous_are_empty(catalog_models: dict[str, Any]) -> None:
    stats = dashboard.home_stats(user=AnonymousUser())

    assert (stats.total_models, stats.total_versions, stats.production_count) == (0, 0, 0)
    assert stats.recently_registered == []


# Collaborators


def test_collaborators_lists_users_and_groups_with_roles_owner_first(
    model: RegisteredModel, owner: Any, editor: Any, reviewer: Any, viewer: Any
) -> None:
    add_collaborator(actor=owner, model=model, group=GroupFactory.create(name="Analysts"), role=Role.VIEWER)
    add_collaborator(actor=owner, model=model, group=GroupFactory.create(name="platform"), role=Role.EDITOR)
    add_collaborator(actor=owner, model=model, user=UserFactory.create(username="aaron"), role=Role.OWNER)

    assert selectors.collaborators(model=model) == [
        Collaborator(kind="user", name="owner", role=Role.OWNER, is_model_owner=True),
        Collaborator(kind="user", name="aaron", role=Role.OWNER, is_model_owner=False),
        Collaborator(kind="user", name="editor", role=Role.EDITOR, is_model_owner=False),
        Collaborator(kind="group", name="platform", role=Role.EDITOR, is_model_owner=False),
        Collaborator(kind="user", name="reviewer", role=Role.REVIEWER, is_model_owner=False),
        Collaborator(kind="user", name="viewer", role=Role.VIEWER, is_model_owner=False),
        Collaborator(kind="group", name="Analysts", role=Role.VIEWER, is_model_owner=False),
    ]


def test_collaborators_of_a_new_model_is_its_owner_alone(owner: Any) -> None:
    model = ModelFactory.create(owner=owner, name="Lonely")

    assert selectors.collaborators(model=model) == [
        Collaborator(kind="user", name="owner", role=Role.OWNER, is_model_owner=True)
    ]


def test_collaborators_query_count_does_not_grow(
    model: RegisteredModel, owner: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(10):
        add_collaborator(actor=owner, model=model, user=UserFactory.create(username=f"u{n}"), role=Role.VIEWER)
        add_collaborator(actor=owner, model=model, group=GroupFactory.create(name=f"g{n}"), role=Role.REVIEWER)

    with django_assert_max_num_queries(2):
        assert len(selectors.collaborators(model=model)) == 21
