"""Every list page and tab runs the same bounded number of SQL queries with 3 and with 30 rows."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator, edit_version
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import HTMX, QUERY_SIZES, assert_get_within, client_for, feed_items, set_stage, table_rows

MOVED_STAGES = [Stage.PRODUCTION, Stage.STAGING, Stage.DEVELOPMENT, Stage.ARCHIVED]


def build_catalog(size: int, reader: Any) -> None:
    """size models visible to reader, each with its own owner, labels and versions in several stages."""
    team = GroupFactory.create(name="readers")
    reader.groups.add(team)
    for n in range(size):
        owner = UserFactory.create(username=f"owner{n}")
        kind = n % 3
        model = ModelFactory.create(
            owner=owner,
            name=f"Model {n:02d}",
            labels=[f"label{n}", "shared"],
            visibility="organization" if kind == 0 else "private",
        )
        if kind == 1:
            add_collaborator(actor=owner, model=model, user=reader, role=Role.VIEWER)
        if kind == 2:
            add_collaborator(actor=owner, model=model, group=team, role=Role.REVIEWER)
        set_stage(VersionFactory.create(model=model, name="v1", labels=["first"]), Stage.PRODUCTION)
        set_stage(VersionFactory.create(model=model, name="v2"), MOVED_STAGES[n % len(MOVED_STAGES)])
        VersionFactory.create(model=model, name="v3")
    # Models reader cannot see must not change the count either.
    for n in range(size):
        ModelFactory.create(name=f"Hidden {n:02d}", visibility="private")


def build_busy_model(size: int, reader: Any) -> RegisteredModel:
    """One model with size editors (each registering a version and editing v0), size groups and reader as viewer."""
    owner = UserFactory.create(username="busy-owner")
    model = ModelFactory.create(owner=owner, name="Busy", labels=["busy"], visibility="private")
    add_collaborator(actor=owner, model=model, user=reader, role=Role.VIEWER)
    editors = []
    for n in range(size):
        editor = UserFactory.create(username=f"editor{n}")
        add_collaborator(actor=owner, model=model, user=editor, role=Role.EDITOR)
        add_collaborator(actor=owner, model=model, group=GroupFactory.create(name=f"group{n}"), role=Role.VIEWER)
        editors.append(editor)
    for n, editor in enumerate(editors):
        version = VersionFactory.create(model=model, name=f"v{n}", created_by=editor, labels=[f"l{n}", "common"])
        if n % 5 != 4:  # every fifth version stays Unassigned
            set_stage(version, MOVED_STAGES[n % len(MOVED_STAGES)])
    first = model.versions.get(name="v0")
    for n, editor in enumerate(editors):
        first = edit_version(
            actor=editor,
            version=first,
            description=f"Edit {n}",
            labels=[f"e{n}"],
            attributes={f"k{n}": "v"},
            artifact_uri="",
            source_run_url="",
        )
    return model


# Bounds measured at size 3; the same bound must hold at size 30.
CATALOG_PAGES = [
    ("/", {}, 11),  # 6, plus the Production chart (1) and the two median lead times (2 each)
    ("/models/", {}, 6),
    ("/models/", HTMX, 5),
    ("/models/?stage=production", {}, 6),
    ("/models/?stage=production", HTMX, 5),
    ("/models/?stage=staging", HTMX | {"HX-Target": "catalog"}, 5),
    ("/models/?sort=production", {}, 6),
    ("/models/?sort=updated&label=shared", {}, 6),
    ("/models/?page=2", {}, 6),
]


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(("url", "headers", "bound"), CATALOG_PAGES)
def test_catalog_pages_run_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, url: str, headers: dict[str, str], bound: int
) -> None:
    build_catalog(size, reader)
    assert_get_within(client_for(reader), url, headers, django_assert_max_num_queries, bound)


MODEL_PAGES = [
    ("/models/busy/", {}, 12),
    ("/models/busy/", HTMX, 11),
    ("/models/busy/?stage=production&sort=name", HTMX | {"HX-Target": "versions-results"}, 11),
    ("/models/busy/?page=2", HTMX | {"HX-Target": "versions-results"}, 11),
    ("/models/busy/activity/", {}, 11),
    ("/models/busy/activity/", HTMX, 10),
    ("/models/busy/activity/?page=2", HTMX, 10),
    ("/models/busy/collaborators/", {}, 11),
    ("/models/busy/collaborators/", HTMX, 10),
    ("/models/busy/versions/v0/", {}, 10),  # with its model in one query; the decision banner with the pending request
    ("/models/busy/versions/v0/", HTMX, 8),
]


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(("url", "headers", "bound"), MODEL_PAGES)
def test_model_pages_run_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, url: str, headers: dict[str, str], bound: int
) -> None:
    build_busy_model(size, reader)
    assert_get_within(client_for(reader), url, headers, django_assert_max_num_queries, bound)


@pytest.mark.parametrize("size", QUERY_SIZES)
def test_the_pages_measured_show_size_rows(reader: Any, size: int) -> None:
    build_catalog(size, reader)
    build_busy_model(size, reader)
    client = client_for(reader)
    assert f'<span id="result-count">{size + 1} models</span>' in client.get("/models/").text
    assert f'<span id="result-count">{size} models</span>' in client.get("/models/?label=shared").text
    assert f"<span>{size} versions</span>" in client.get("/models/busy/").text
    collaborators = client.get("/models/busy/collaborators/").text
    assert len(table_rows(collaborators)) == 2 * size + 2  # owner, reader, size editors, size groups
    feed = client.get("/models/busy/versions/v0/", headers=HTMX).text
    assert len(feed_items(feed)) == min(size + 1, 20)  # registration and size edits, 20 per page
