"""The catalog's pages for each persona: home, the catalog, the model card and its tabs, the version page, and
their htmx fragments."""

from __future__ import annotations

import re
from typing import Any

from django.utils.cache import has_vary_header

from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, VersionFactory
from tests.helpers import (
    CATALOG_POSTS,
    HTMX,
    assert_fragment,
    assert_full_page,
    catalog_url,
    client_for,
    link_texts,
    result_count,
    select,
    set_stage,
    stage_badge,
    table_rows,
    tile_names,
    tile_stage_counts,
    version_rows,
    visible_text,
)


def test_home_shows_totals_and_recent_versions(model: Any, owner: Any) -> None:
    first = VersionFactory.create(model=model, name="v1")
    VersionFactory.create(model=model, name="v2")
    set_stage(first, Stage.PRODUCTION)
    response = client_for(owner).get("/")
    assert_full_page(response)
    assert "Welcome, owner" in response.text
    text = visible_text(response.text)
    assert "1 models" in text
    assert "2 versions in total" in text
    assert "1 versions in Production" in text
    assert 'aria-label="Unassigned: 1, Development: 0, Staging: 0, Production: 1, Archived: 0"' in response.text
    assert link_texts(response.text, "/models/churn-predictor/versions/v2/") == ["v2"]
    assert "Register model" in response.text


def test_home_stage_bar_draws_each_stage_as_its_share_side_by_side(model: Any, owner: Any) -> None:
    for name in ("v1", "v2", "v3", "v4"):
        VersionFactory.create(model=model, name=name)
    set_stage(ModelVersion.objects.get(name="v1"), Stage.PRODUCTION)
    html = client_for(owner).get("/").text
    bar = re.search(r'<svg class="stagebar".*?</svg>', html, re.S)
    assert bar is not None
    segments = re.findall(r'<rect class="st-(\w+)" x="([\d.]+)" y="0" width="([\d.]+)"', bar.group())
    assert segments == [("unassigned", "0.00", "75.00"), ("production", "75.00", "25.00")]
    assert "style=" not in html


def test_home_counts_only_models_the_user_may_see(model: Any, owner: Any, outsider: Any) -> None:
    secret = VersionFactory.create(model=model, name="secret-v1")
    set_stage(secret, Stage.PRODUCTION)
    public = ModelFactory.create(owner=owner, name="Open Model")
    VersionFactory.create(model=public, name="open-v1")

    outsiders_home = visible_text(client_for(outsider).get("/").text)
    assert "1 models" in outsiders_home
    assert "1 versions in total" in outsiders_home
    assert "0 versions in Production" in outsiders_home
    assert "open-v1" in outsiders_home
    assert "secret-v1" not in outsiders_home
    assert "Churn Predictor" not in outsiders_home

    owners_home = visible_text(client_for(owner).get("/").text)
    assert "2 models" in owners_home
    assert "1 versions in Production" in owners_home
    assert "secret-v1" in owners_home


def test_home_counts_models_shared_with_a_group(model: Any, owner: Any, outsider: Any) -> None:
    team = GroupFactory.create(name="team")
    outsider.groups.add(team)
    add_collaborator(actor=owner, model=model, group=team, role=Role.VIEWER)
    response = client_for(outsider).get("/")
    assert "1 models" in visible_text(response.text)


def test_catalog_shows_tiles_with_owner_labels_and_stage_counts(owner: Any) -> None:
    model = ModelFactory.create(
        owner=owner, name="Speech Recognizer", description="Turns speech into text.", labels=["asr"]
    )
    production = VersionFactory.create(model=model, name="v1")
    VersionFactory.create(model=model, name="v2")
    set_stage(production, Stage.PRODUCTION)
    response = client_for(owner).get("/models/")
    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")
    assert tile_names(response) == ["Speech Recognizer"]
    assert "Turns speech into text." in response.text
    assert link_texts(response.text, "?label=asr") == ["asr"]
    assert link_texts(response.text, "?owner=owner") == ["owner"]
    assert tile_stage_counts(response.text) == {
        "unassigned": 1,
        "development": 0,
        "staging": 0,
        "production": 1,
        "archived": 0,
    }
    assert result_count(response.text) == 1
    assert link_texts(response.text, "/models/new/") == ["Register model"]


def test_catalog_hides_private_models_from_outsiders(model: Any, org_model: Any, outsider: Any, viewer: Any) -> None:
    assert tile_names(client_for(outsider).get("/models/")) == ["Open Model"]
    assert tile_names(client_for(viewer).get("/models/")) == ["Churn Predictor", "Open Model"]


def test_catalog_fragment_for_htmx(org_model: Any, owner: Any) -> None:
    response = client_for(owner).get("/models/?stage=production", headers=HTMX)
    assert_fragment(response, "catalog-results")
    assert 'role="search"' not in response.text
    assert select(response.text, "a", class_="chip on", href="?stage=production")


def test_catalog_fragment_with_its_filter_form(org_model: Any, owner: Any) -> None:
    response = client_for(owner).get("/models/?stage=production", headers=HTMX | {"HX-Target": "catalog"})
    assert_fragment(response, "catalog")
    assert 'role="search"' in response.text
    assert '<option value="production" selected>Production</option>' in response.text
    assert 'id="catalog-results"' in response.text
    assert tile_names(response) == []


def test_history_restore_gets_the_whole_page(org_model: Any, owner: Any) -> None:
    response = client_for(owner).get("/models/", headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert_full_page(response)
    assert has_vary_header(response, "HX-Request")


def test_model_card_shows_metadata_stage_summary_and_production_links(model: Any, owner: Any) -> None:
    RegisteredModel.objects.filter(pk=model.pk).update(task_type="classification", data_type="tabular")
    add_labels = {"description": "Predicts who leaves.", "labels": "churn, tabular"}
    client_for(owner).post(
        catalog_url("model-edit", model), CATALOG_POSTS["model-edit"] | add_labels | {"visibility": "private"}
    )
    live = VersionFactory.create(model=model, name="v2.0.0")
    VersionFactory.create(model=model, name="v3.0.0")
    set_stage(live, Stage.PRODUCTION)
    response = client_for(owner).get(catalog_url("model-detail", model))
    assert_full_page(response)
    text = response.text
    assert "<h1>Churn Predictor</h1>" in text
    assert "Predicts who leaves." in text
    assert "Owner owner · Other · Text · Private" in visible_text(text)
    assert link_texts(text, "/models/?label=churn") == ["churn"]
    assert link_texts(text, "/models/churn-predictor/?stage=production") == ["1 Production"]
    assert link_texts(text, "/models/churn-predictor/?stage=unassigned") == ["1 Unassigned"]
    assert link_texts(text, "/models/churn-predictor/?stage=staging") == ["0 Staging"]
    [in_production] = select(text, "ul", aria_label="Versions in Production")
    assert link_texts(in_production.html, "/models/churn-predictor/versions/v2.0.0/")[0] == "v2.0.0"
    assert link_texts(text, "/models/churn-predictor/versions/v3.0.0/") == ["v3.0.0"]  # only in the table
    assert version_rows(response) == ["v3.0.0", "v2.0.0"]
    assert "Edit model" in text
    assert "Register version" in text
    assert 'class="active" aria-current="page">Versions</a>' in text


def test_model_card_without_production_says_so(model: Any, viewer: Any) -> None:
    response = client_for(viewer).get(catalog_url("model-detail", model))
    assert "No version is in Production." in response.text
    assert "No versions yet." in response.text
    assert "Edit model" not in response.text
    assert "Register version" not in response.text


def test_outsider_may_view_an_organization_model(org_model: Any, outsider: Any) -> None:
    response = client_for(outsider).get(catalog_url("model-detail", org_model))
    assert response.status_code == 200
    assert "<h1>Open Model</h1>" in response.text
    assert "Visible to the organization" in response.text
    assert "Edit model" not in response.text


def test_model_card_fragments(model: Any, version: Any, viewer: Any) -> None:
    client = client_for(viewer)
    tabs = client.get(catalog_url("model-detail", model), headers=HTMX)
    assert_fragment(tabs, "model-tabs")
    assert 'id="versions-results"' in tabs.text
    assert "Stage summary" not in tabs.text

    results = client.get(catalog_url("model-detail", model), headers=HTMX | {"HX-Target": "versions-results"})
    assert_fragment(results, "versions-results")
    assert version_rows(results) == ["v1.0.0"]
    assert "Model sections" not in results.text

    full = client.get(catalog_url("model-detail", model))
    assert has_vary_header(full, "HX-Request")
    assert "Stage summary" in full.text


def test_activity_tab_lists_entries_newest_first(model: Any, owner: Any, viewer: Any) -> None:
    VersionFactory.create(model=model, name="v7")
    response = client_for(viewer).get(catalog_url("model-activity", model))
    assert_full_page(response)
    assert 'class="active" aria-current="page">Activity</a>' in response.text
    assert link_texts(response.text, "/models/churn-predictor/versions/v7/") == ["v7"]
    feed = select(response.text, "ol", class_="feed")[0].text
    registered_version = feed.index("owner registered version v7")
    gave_role = feed.index("owner gave user viewer the Viewer role")
    registered_model = feed.index("owner registered the model")
    assert registered_version < gave_role < registered_model


def test_activity_tab_fragment_and_pagination(model: Any, owner: Any, viewer: Any) -> None:
    for n in range(30):
        VersionFactory.create(model=model, name=f"bulk-{n}")
    client = client_for(viewer)
    fragment = client.get(catalog_url("model-activity", model), headers=HTMX)
    assert_fragment(fragment, "model-tabs")
    assert 'aria-label="Model activity"' in fragment.text
    assert "bulk-29" in fragment.text
    assert "registered the model" not in fragment.text
    older = [link for link in select(fragment.text, "a", rel="next") if link.text.startswith("Older")]
    assert older, "the first page links to older entries"
    last = client.get(catalog_url("model-activity", model) + str(older[0].attrs["href"]))
    assert "registered the model" in last.text
    assert "bulk-29" not in last.text
    assert "Older →" not in last.text
    assert "← Newer" in last.text


def test_collaborators_tab_lists_roles_and_lets_owners_manage(model: Any, owner: Any, editor: Any, viewer: Any) -> None:
    team = GroupFactory.create(name="ml-team")
    add_collaborator(actor=owner, model=model, group=team, role=Role.REVIEWER)
    response = client_for(owner).get(catalog_url("model-collaborators", model))
    assert_full_page(response)
    text = response.text
    assert [row.text for row in table_rows(text)] == [
        "owner (model owner) Owner",
        "editor Editor Remove",
        "Group ml-team Reviewer Remove",
        "viewer Viewer Remove",
    ]
    assert 'aria-label="Remove user editor"' in text
    assert 'aria-label="Remove user owner"' not in text
    assert "Add a collaborator" in text
    assert "Private model: only the people and groups below can see it." in text


def test_collaborators_tab_is_read_only_for_non_owners(model: Any, editor: Any) -> None:
    response = client_for(editor).get(catalog_url("model-collaborators", model))
    assert response.status_code == 200
    assert "Only owners of this model can change who collaborates on it." in response.text
    assert "Add a collaborator" not in response.text
    assert "Remove user" not in response.text


def test_collaborators_tab_fragment(model: Any, viewer: Any) -> None:
    response = client_for(viewer).get(catalog_url("model-collaborators", model), headers=HTMX)
    assert_fragment(response, "model-tabs")
    assert 'id="collaborators-panel"' in response.text


def test_version_page_shows_everything_about_the_version(model: Any, owner: Any, viewer: Any) -> None:
    version = VersionFactory.create(
        model=model,
        name="v2.1.0",
        description="Retrained on March data.",
        labels=["retrained"],
        attributes={"framework": "pytorch", "accuracy": "0.94"},
        artifact_uri="s3://models/churn/v2.1.0/model.pt",
        source_run_url="https://runs.example.com/42",
    )
    set_stage(version, Stage.PRODUCTION)
    response = client_for(viewer).get(catalog_url("version-detail", model, version))
    assert_full_page(response)
    text = response.text
    seen = visible_text(text)
    assert "Churn Predictor · v2.1.0" in seen
    assert stage_badge(text) == "stage stage-production large: Production"
    assert "Retrained on March data." in seen
    assert "retrained" in seen
    assert "framework pytorch" in seen
    assert "accuracy 0.94" in seen
    assert "s3://models/churn/v2.1.0/model.pt" in seen
    assert select(text, "a", href="https://runs.example.com/42", rel=re.compile(r".*\bnoopener\b.*"))
    assert "Lock: Open" in seen
    assert "registered version" in text
    assert "Edit version" not in text
    assert "Edit version" in client_for(owner).get(catalog_url("version-detail", model, version)).text


def test_version_page_fragment_is_its_activity_feed(model: Any, version: Any, viewer: Any) -> None:
    response = client_for(viewer).get(catalog_url("version-detail", model, version), headers=HTMX)
    assert_fragment(response, "activity-feed")
    assert "registered version" in response.text
    assert "stage-badge" not in response.text
    assert has_vary_header(client_for(viewer).get(catalog_url("version-detail", model, version)), "HX-Request")


def test_version_page_feed_shows_only_this_version(model: Any, version: Any, owner: Any) -> None:
    VersionFactory.create(model=model, name="other")
    response = client_for(owner).get(catalog_url("version-detail", model, version), headers=HTMX)
    assert "v1.0.0" in response.text
    assert "other" not in response.text


def test_redacted_version_hides_artifact_from_non_owners(model: Any, owner: Any, editor: Any) -> None:
    version = VersionFactory.create(
        model=model, name="v5", artifact_uri="s3://secret/bucket", source_run_url="https://x.io/1"
    )
    ModelVersion.objects.filter(pk=version.pk).update(lock_level=LockLevel.REDACT)
    for_editor = client_for(editor).get(catalog_url("version-detail", model, version)).text
    assert "s3://secret/bucket" not in for_editor
    assert "https://x.io/1" not in for_editor
    assert "Redacted (lock level Redact)" in for_editor
    assert "Edit version" not in for_editor
    assert "s3://secret/bucket" in client_for(owner).get(catalog_url("version-detail", model, version)).text
