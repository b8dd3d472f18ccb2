"""The log shows the names of its time: a user renamed later keeps their old name in every past entry, on every page,
feed, timeline and export; entries written after the rename carry the new one. Models and versions are never
renamed, so their names in the log are also the names of their links."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import RequestFactory

from accounts.services import rename_user
from activity.models import ActivityEntry, Verb
from activity.services import comment_on_version, record_activity
from approvals import services as workflow
from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator, edit_version
from tests.factories import UserFactory
from tests.helpers import activity_url, client_for, export_url, feed_items, tab_url, timeline_items, version_url


def _body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def rev6(model: RegisteredModel, owner: Any) -> Any:
    user = UserFactory.create(username="rev6")
    add_collaborator(actor=owner, model=model, user=user, role=Role.REVIEWER)
    return user


@pytest.fixture
def history(version: ModelVersion, editor: Any, rev6: Any) -> None:
    """rev6 approves editor's request for Staging (the version moves) and comments, then is renamed mallory."""
    change_request = workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    workflow.approve_change_request(actor=rev6, change_request=change_request, comment="Soak passed.")
    comment_on_version(actor=rev6, version=version, comment="Watching the error rate.")
    admin_user = UserFactory.create(username="admin", is_superuser=True, is_staff=True)
    rename_user(actor=admin_user, user=rev6, username="mallory")  # as the admin's user form does


def test_past_entries_keep_the_old_username_on_the_activity_page_and_tab(
    history: None, owner: Any, model: RegisteredModel
) -> None:
    for url in (activity_url(), tab_url(model)):
        items = feed_items(client_for(owner).get(url).text)

        assert any(item.startswith("rev6 ") and "approved moving" in item for item in items), items
        assert any(item.startswith("rev6 ") and "commented on" in item for item in items), items
        assert any(item.startswith("rev6 ") and "moved" in item for item in items), items
        assert not any("mallory" in item for item in items)


def test_the_timeline_names_the_approver_as_they_were_called(history: None, owner: Any, version: ModelVersion) -> None:
    periods = timeline_items(client_for(owner).get(version_url(version)).text)

    assert "Approved by rev6; requested by editor." in periods[-1]
    assert "mallory" not in " ".join(periods)


def test_exports_and_the_api_keep_the_old_username(history: None, owner: Any) -> None:
    client = client_for(owner)
    header, *rows = list(csv.reader(io.StringIO(_body(client.get(export_url("csv"))))))
    by_rev6 = [row for row in rows if row[header.index("event")] in {"stage_change_approved", "commented"}]
    lines = [json.loads(line) for line in _body(client.get(export_url("jsonl"))).splitlines()]
    api = client.get("/api/v1/activity").json()["items"]

    assert {row[header.index("actor")] for row in by_rev6} == {"rev6"}
    assert {line["actor"] for line in lines if line["event"] == "commented"} == {"rev6"}
    assert {item["actor"] for item in api if item["event"] == "stage_change_approved"} == {"rev6"}
    assert "mallory" not in json.dumps([rows, lines, api])


def test_entries_after_the_rename_carry_the_new_name(history: None, owner: Any, version: ModelVersion) -> None:
    mallory = User.objects.get(username="mallory")
    comment_on_version(actor=mallory, version=version, comment="Renamed, still watching.")

    items = feed_items(client_for(owner).get(activity_url() + "?kind=commented").text)

    assert items[0].startswith("mallory on Churn Predictor: commented on")
    assert items[1].startswith("rev6 on Churn Predictor: commented on")
    # Filtering by a person finds them by who they are: their whole history under the name they have now.
    by_actor = feed_items(client_for(owner).get(activity_url() + "?actor=mallory&kind=commented").text)
    assert [item.split(" ", 1)[0] for item in by_actor] == ["mallory", "rev6"]


def test_record_activity_keeps_the_names_as_they_are_when_it_writes(
    owner: Any, model: RegisteredModel, version: ModelVersion
) -> None:
    entry = record_activity(actor=owner, verb=Verb.COMMENTED, model=model, version=version, comment="x")
    stored = ActivityEntry.objects.values("actor_username", "model_name", "version_name").get(pk=entry.pk)

    assert stored == {"actor_username": owner.username, "model_name": model.name, "version_name": version.name}


def test_an_entry_written_without_record_activity_still_names_its_subjects(
    owner: Any, model: RegisteredModel, version: ModelVersion
) -> None:
    entry = ActivityEntry.objects.create(actor=owner, verb=Verb.COMMENTED, model=model, version=version)

    assert (entry.actor_username, entry.model_name, entry.version_name) == (owner.username, model.name, version.name)


def test_a_version_cannot_be_renamed_so_its_kept_name_is_its_name(
    superuser: Any, owner: Any, version: ModelVersion
) -> None:
    """No service renames a version, and the admin shows its name read-only: the name in the log stays a link."""
    version_admin = admin.site._registry[ModelVersion]
    request = RequestFactory().get("/")
    request.user = superuser

    assert "name" in version_admin.get_readonly_fields(request, version)
    with pytest.raises(TypeError):
        edit_version(actor=owner, version=version, name="v9.9.9")  # type: ignore[call-arg]
