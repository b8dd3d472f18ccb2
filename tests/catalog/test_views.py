"""Views of the catalog: each page and action for every persona, the htmx fragments, the forms and the filters."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import has_vary_header

from activity.models import ActivityEntry, Verb
from catalog import permissions
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import (
    CATALOG_POSTS,
    CATALOG_URLS,
    HTMX,
    assert_fragment,
    assert_full_page,
    catalog_url,
    client_for,
    fresh,
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


# --- Who may open what -------------------------------------------------------------------------------------------


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


# --- Pages --------------------------------------------------------------------------------------------------------


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


# --- Register a model ---------------------------------------------------------------------------------------------


def test_register_model_form_has_labelled_controls(owner: Any) -> None:
    response = client_for(owner).get("/models/new/")
    assert_full_page(response)
    for control in ("name", "description", "labels", "task_type", "data_type"):
        assert f'for="id_{control}"' in response.text
    assert "<legend" in response.text
    assert "Visibility" in response.text


def test_register_model_redirects_to_the_new_model_card(outsider: Any) -> None:
    client = client_for(outsider)
    data = {
        "name": "  Fraud Detector ",
        "description": "Flags fraudulent payments.",
        "labels": "Payments, fraud",
        "task_type": "classification",
        "data_type": "tabular",
        "visibility": "private",
    }
    response = client.post("/models/new/", data)
    assert response.status_code == 302
    assert response["Location"] == "/models/fraud-detector/"
    model = RegisteredModel.objects.get(slug="fraud-detector")
    assert model.name == "Fraud Detector"
    assert model.owner == outsider
    assert model.visibility == "private"
    assert sorted(label.name for label in model.labels.all()) == ["fraud", "payments"]
    assert permissions.may_manage_collaborators(outsider, model)
    assert ActivityEntry.objects.filter(model=model, verb=Verb.MODEL_REGISTERED, actor=outsider).exists()

    card = client.get(response["Location"])
    assert "Registered Fraud Detector. Register its first version next." in card.text
    assert "<h1>Fraud Detector</h1>" in card.text


def test_register_model_with_errors_rerenders_the_form(owner: Any, model: Any) -> None:
    response = client_for(owner).post("/models/new/", {"name": "CHURN predictor", "task_type": "x", "data_type": "x"})
    assert response.status_code == 200
    assert "A model with this name already exists (names ignore case)." in response.text
    assert "Select a valid choice." in response.text
    assert 'value="CHURN predictor"' in response.text
    assert RegisteredModel.objects.count() == 1


# --- Register and edit versions -----------------------------------------------------------------------------------


def test_editor_registers_a_version(model: Any, editor: Any) -> None:
    client = client_for(editor)
    assert "Register a version of Churn Predictor" in client.get(catalog_url("version-register", model)).text
    data = {
        "name": "v2.0.0",
        "description": "Bigger.",
        "labels": "big",
        "attributes": "framework = sklearn\nauc = 0.91",
        "artifact_uri": "s3://m/v2",
        "source_run_url": "https://runs.example.com/7",
    }
    response = client.post(catalog_url("version-register", model), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v2.0.0/"
    version = model.versions.get(name="v2.0.0")
    assert version.created_by == editor
    assert version.stage == Stage.UNASSIGNED
    assert version.attributes == {"framework": "sklearn", "auc": "0.91"}
    assert version.source_run_url == "https://runs.example.com/7"
    page = client.get(response["Location"])
    assert "Registered version v2.0.0." in page.text
    assert stage_badge(page.text) == "stage stage-unassigned large: Unassigned"


def test_register_version_with_errors_rerenders_the_form(model: Any, version: Any, owner: Any) -> None:
    response = client_for(owner).post(catalog_url("version-register", model), {"name": "v1.0.0", "attributes": "oops"})
    assert response.status_code == 200
    assert "Version “v1.0.0” already exists for this model." in response.text
    assert "Line 1: write each attribute as “key = value”." in response.text
    assert model.versions.count() == 1


@pytest.mark.parametrize("name", ["new", "edit", "NEW"])
def test_reserved_version_names_are_refused(model: Any, owner: Any, name: str) -> None:
    response = client_for(owner).post(catalog_url("version-register", model), {"name": name})
    assert response.status_code == 200
    assert "is reserved; choose another version name." in response.text
    assert not model.versions.exists()


def test_edit_version_form_is_prefilled(model: Any, owner: Any) -> None:
    version = VersionFactory.create(model=model, name="v3", labels=["a", "b"], attributes={"k": "v", "x": "y"})
    response = client_for(owner).get(catalog_url("version-edit", model, version))
    assert response.status_code == 200
    assert "Edit Churn Predictor · v3" in response.text
    assert 'value="a, b"' in response.text
    assert ">\nk = v\nx = y</textarea>" in response.text


def test_editor_edits_a_version(model: Any, version: Any, editor: Any) -> None:
    data = {"description": "Now documented.", "labels": "docs", "attributes": "owner = ml", "artifact_uri": "s3://b"}
    client = client_for(editor)
    response = client.post(catalog_url("version-edit", model, version), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v1.0.0/"
    version.refresh_from_db()
    assert version.description == "Now documented."
    assert version.attributes == {"owner": "ml"}
    assert [label.name for label in version.labels.all()] == ["docs"]
    entry = ActivityEntry.objects.filter(version=version, verb=Verb.VERSION_EDITED).get()
    assert entry.actor == editor
    page = client.get(response["Location"])
    assert "Saved version v1.0.0." in page.text
    assert "Now documented." in page.text
    assert "Now documented." in page.text


def test_edit_version_with_errors_rerenders_the_form(model: Any, version: Any, editor: Any) -> None:
    data = {"description": "x", "source_run_url": "not a url", "labels": "Bad!"}
    response = client_for(editor).post(catalog_url("version-edit", model, version), data)
    assert response.status_code == 200
    assert "Enter a valid URL." in response.text
    assert "Not valid: bad!" in response.text
    version.refresh_from_db()
    assert version.description == "A version for tests."


@pytest.mark.parametrize("lock", [LockLevel.CLOSED, LockLevel.REDACT])
@pytest.mark.parametrize("method", ["get", "post"])
def test_locked_version_cannot_be_edited(model: Any, version: Any, editor: Any, lock: str, method: str) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(lock_level=lock)
    client = client_for(editor)
    url = catalog_url("version-edit", model, version)
    response = client.post(url, CATALOG_POSTS["version-edit"]) if method == "post" else client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/versions/v1.0.0/"
    version.refresh_from_db()
    assert version.description == "A version for tests."
    assert not ActivityEntry.objects.filter(verb=Verb.VERSION_EDITED).exists()
    page = client.get(response["Location"])
    assert f"Version v1.0.0 is locked ({LockLevel(lock).label}); its metadata cannot change." in page.text
    assert "Edit version" not in page.text
    assert "the stage and metadata cannot change" in page.text


# --- Edit a model -------------------------------------------------------------------------------------------------


def test_edit_model_form_is_prefilled(model: Any, owner: Any) -> None:
    client_for(owner).post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"] | {"labels": "x, y"})
    response = client_for(owner).get(catalog_url("model-edit", model))
    assert response.status_code == 200
    assert "<h1>Edit Churn Predictor</h1>" in response.text
    assert 'value="x, y"' in response.text
    assert ">\nRewritten</textarea>" in response.text


def test_editor_edits_a_model_but_not_its_visibility(model: Any, editor: Any, outsider: Any) -> None:
    client = client_for(editor)
    assert 'name="visibility"' not in client.get(catalog_url("model-edit", model)).text
    response = client.post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"])
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/"
    model.refresh_from_db()
    assert model.description == "Rewritten"
    assert model.task_type == "other"
    assert model.visibility == "private"
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 404
    assert "Saved Churn Predictor." in client.get(response["Location"]).text


def test_owner_makes_a_model_visible_to_the_organization(model: Any, owner: Any, outsider: Any) -> None:
    response = client_for(owner).post(catalog_url("model-edit", model), CATALOG_POSTS["model-edit"])
    assert response.status_code == 302
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 200


def test_edit_model_with_errors_rerenders_the_form(model: Any, owner: Any) -> None:
    data = CATALOG_POSTS["model-edit"] | {"labels": "ok, NOTOK!", "task_type": "astrology"}
    response = client_for(owner).post(catalog_url("model-edit", model), data)
    assert response.status_code == 200
    assert "Not valid: notok!" in response.text
    assert "Select a valid choice. astrology is not one of the available choices." in response.text
    model.refresh_from_db()
    assert model.description == "A model for tests."


# --- Collaborators ------------------------------------------------------------------------------------------------


def test_add_collaborator_with_htmx_returns_the_panel(model: Any, owner: Any, outsider: Any) -> None:
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "outsider", "role": "editor"}, headers=HTMX
    )
    assert_fragment(response, "collaborators-panel")
    assert "User outsider now has the Editor role." in response.text
    assert "outsider Editor Remove" in [row.text for row in table_rows(response.text)]
    assert permissions.may_edit_model(outsider, fresh(model))
    entry = ActivityEntry.objects.filter(verb=Verb.COLLABORATOR_ADDED, model=model).latest("id")
    assert entry.extra == {"principal": "user outsider", "role": "Editor"}


def test_add_collaborator_without_javascript_redirects(model: Any, owner: Any, outsider: Any) -> None:
    client = client_for(owner)
    data = {"kind": "user", "name": "outsider", "role": "viewer"}
    response = client.post(catalog_url("collaborator-add", model), data)
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/collaborators/"
    page = client.get(response["Location"])
    assert "User outsider now has the Viewer role." in page.text
    assert client_for(outsider).get("/models/churn-predictor/").status_code == 200


def test_add_group_collaborator(model: Any, owner: Any, outsider: Any) -> None:
    team = GroupFactory.create(name="data-science")
    outsider.groups.add(team)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model),
        {"kind": "group", "name": "data-science", "role": "reviewer"},
        headers=HTMX,
    )
    assert "Group data-science now has the Reviewer role." in response.text
    assert "Group data-science Reviewer Remove" in [row.text for row in table_rows(response.text)]
    assert permissions.Access(outsider).holds(fresh(model), permissions.REVIEW)


def test_adding_an_existing_collaborator_replaces_the_role(model: Any, owner: Any, viewer: Any) -> None:
    client_for(owner).post(catalog_url("collaborator-add", model), {"kind": "user", "name": "viewer", "role": "editor"})
    assert permissions.role_for_permissions(permissions.Access(viewer).permissions(fresh(model))) == Role.EDITOR


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "user", "name": "ghost", "role": "viewer"}, "No active user is called “ghost”."),
        ({"kind": "group", "name": "ghosts", "role": "viewer"}, "No group is called “ghosts”."),
        ({"kind": "user", "name": "owner", "role": "viewer"}, "owner owns this model and keeps the Owner role."),
        ({"kind": "user", "name": "outsider", "role": "emperor"}, "Select a valid choice."),
        ({"kind": "robot", "name": "outsider", "role": "viewer"}, "Select a valid choice."),
        ({"kind": "user", "name": "", "role": "viewer"}, "This field is required."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_add_collaborator_errors_change_nothing(
    model: Any, owner: Any, outsider: Any, data: dict[str, str], error: str, headers: dict[str, str]
) -> None:
    entries = ActivityEntry.objects.count()
    response = client_for(owner).post(catalog_url("collaborator-add", model), data, headers=headers)
    assert response.status_code == 200
    assert error in response.text
    assert ("<html" in response.text) is not bool(headers)
    assert ActivityEntry.objects.count() == entries
    assert permissions.role_for_permissions(permissions.Access(owner).permissions(fresh(model))) == Role.OWNER
    assert not permissions.can_view_model(outsider, fresh(model))


def test_inactive_user_cannot_be_added(model: Any, owner: Any) -> None:
    UserFactory.create(username="gone", is_active=False)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "gone", "role": "viewer"}
    )
    assert "No active user is called “gone”." in response.text


def test_remove_collaborator_with_htmx(model: Any, owner: Any, viewer: Any) -> None:
    response = client_for(owner).post(
        catalog_url("collaborator-remove", model), {"kind": "user", "name": "viewer"}, headers=HTMX
    )
    assert_fragment(response, "collaborators-panel")
    assert "Removed user viewer from the collaborators." in response.text
    assert [row.text for row in table_rows(response.text) if row.text.startswith("viewer")] == []
    assert client_for(viewer).get("/models/churn-predictor/").status_code == 404
    assert ActivityEntry.objects.filter(verb=Verb.COLLABORATOR_REMOVED, extra__principal="user viewer").exists()


def test_remove_group_without_javascript_redirects(model: Any, owner: Any) -> None:
    team = GroupFactory.create(name="ops")
    add_collaborator(actor=owner, model=model, group=team, role=Role.VIEWER)
    client = client_for(owner)
    response = client.post(catalog_url("collaborator-remove", model), {"kind": "group", "name": "ops"})
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/collaborators/"
    page = client.get(response["Location"])
    assert "Removed group ops from the collaborators." in page.text
    assert [row.text for row in table_rows(page.text) if "ops" in row.text] == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"kind": "user", "name": "owner"}, "owner owns this model and cannot be removed."),
        ({"kind": "user", "name": "outsider"}, "The user outsider is not a collaborator on this model."),
        ({"kind": "user", "name": "ghost"}, "No active user is called “ghost”."),
        ({"kind": "planet", "name": "viewer"}, "Select a valid choice."),
    ],
)
def test_remove_collaborator_errors_change_nothing(
    model: Any, owner: Any, viewer: Any, outsider: Any, data: dict[str, str], error: str
) -> None:
    entries = ActivityEntry.objects.count()
    response = client_for(owner).post(catalog_url("collaborator-remove", model), data, headers=HTMX)
    assert response.status_code == 200
    assert error in response.text
    assert ActivityEntry.objects.count() == entries
    assert permissions.can_view_model(viewer, fresh(model))
    assert permissions.may_manage_collaborators(owner, fresh(model))


def test_owner_who_demotes_themselves_gets_a_read_only_panel(owner: Any) -> None:
    boss = UserFactory.create(username="boss")
    model = ModelFactory.create(owner=boss, name="Shared")
    add_collaborator(actor=boss, model=model, user=owner, role=Role.OWNER)
    response = client_for(owner).post(
        catalog_url("collaborator-add", model), {"kind": "user", "name": "owner", "role": "viewer"}, headers=HTMX
    )
    assert "User owner now has the Viewer role." in response.text
    assert "Add a collaborator" not in response.text
    assert "Only owners of this model can change who collaborates on it." in response.text


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
