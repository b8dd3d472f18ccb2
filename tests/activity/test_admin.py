"""The admin of the activity log is read-only, and shows staff only entries of models they may view."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from activity.models import ActivityEntry, Verb
from activity.services import record_activity
from catalog.models import RegisteredModel
from tests.factories import UserFactory
from tests.helpers import admin_url, client_for


@pytest.fixture
def admin_client_(superuser: Any) -> Client:
    return client_for(superuser)


def _entry_post_data(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "created_at_0": "2020-01-01",
        "created_at_1": "00:00:00",
        "actor": entry.actor_id,
        "verb": Verb.STAGE_CHANGED,
        "model": entry.model_id,
        "comment": "rewritten",
        "extra": "{}",
        "_save": "Save",
    }


def test_changelist_lists_entries(admin_client_: Client, entry: ActivityEntry) -> None:
    response = admin_client_.get(admin_url(ActivityEntry, "changelist"))

    assert response.status_code == 200
    assert "edited the model" in response.content.decode()
    assert admin_url(ActivityEntry, "add") not in response.content.decode()


def test_change_page_is_read_only(admin_client_: Client, entry: ActivityEntry) -> None:
    response = admin_client_.get(admin_url(ActivityEntry, "change", entry.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert "original comment" in content
    assert 'name="_save"' not in content
    assert 'name="_continue"' not in content
    assert 'name="comment"' not in content
    assert admin_url(ActivityEntry, "delete", entry.pk) not in content


def test_posting_a_change_is_refused(admin_client_: Client, entry: ActivityEntry) -> None:
    response = admin_client_.post(admin_url(ActivityEntry, "change", entry.pk), _entry_post_data(entry))

    assert response.status_code == 403
    assert ActivityEntry.objects.values_list("verb", "comment").get(pk=entry.pk) == (
        Verb.MODEL_EDITED,
        "original comment",
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_delete_page_is_refused(admin_client_: Client, entry: ActivityEntry, method: str) -> None:
    response = getattr(admin_client_, method)(
        admin_url(ActivityEntry, "delete", entry.pk), {"post": "yes"} if method == "post" else {}
    )

    assert response.status_code == 403
    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_add_page_is_refused(admin_client_: Client, entry: ActivityEntry, method: str) -> None:
    before = ActivityEntry.objects.count()

    response = getattr(admin_client_, method)(
        admin_url(ActivityEntry, "add"), _entry_post_data(entry) if method == "post" else {}
    )

    assert response.status_code == 403
    assert ActivityEntry.objects.count() == before


def test_bulk_delete_action_is_not_offered(admin_client_: Client, entry: ActivityEntry) -> None:
    changelist = admin_client_.get(admin_url(ActivityEntry, "changelist"))
    response = admin_client_.post(
        admin_url(ActivityEntry, "changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert 'value="delete_selected"' not in changelist.content.decode()
    assert response.status_code in {200, 302}
    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


@pytest.fixture
def staff(db: None) -> Any:
    """A staff member allowed to read the activity admin, with no role on any model."""
    user = UserFactory.create(username="staff", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_activityentry"))
    return user


def test_staff_see_only_entries_of_models_they_may_view(
    staff: Any, entry: ActivityEntry, org_model: RegisteredModel, owner: Any
) -> None:
    visible = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=org_model, comment="visible comment")
    client = client_for(staff)

    changelist = client.get(admin_url(ActivityEntry, "changelist"))
    hidden_page = client.get(admin_url(ActivityEntry, "change", entry.pk))
    visible_page = client.get(admin_url(ActivityEntry, "change", visible.pk))

    assert changelist.status_code == 200
    listed = list(changelist.context["cl"].result_list)
    assert visible in listed
    assert entry not in listed
    assert {e.model for e in listed} == {org_model}
    assert hidden_page.status_code == 404
    assert visible_page.status_code == 200
    assert "visible comment" in visible_page.content.decode()
    assert 'name="_save"' not in visible_page.content.decode()


@pytest.mark.parametrize("object_id", ["999999", "not-a-number"])
def test_unknown_entry_is_a_404(staff: Any, entry: ActivityEntry, object_id: str) -> None:
    assert client_for(staff).get(admin_url(ActivityEntry, "change", object_id)).status_code == 404


def test_staff_without_the_view_permission_are_refused(org_model: RegisteredModel, owner: Any) -> None:
    visible = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=org_model)
    client = client_for(UserFactory.create(username="clerk", is_staff=True))

    assert client.get(admin_url(ActivityEntry, "changelist")).status_code == 403
    assert client.get(admin_url(ActivityEntry, "change", visible.pk)).status_code == 403
