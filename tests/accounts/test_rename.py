"""A rename of a user is an entry of its own, made by the admin's user form through accounts.services.rename_user;
the entries before it keep the old name."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied

from accounts.services import AccountError, rename_user
from activity.models import ActivityEntry, Verb
from activity.services import comment_on_version
from catalog.models import ModelVersion
from tests.factories import UserFactory
from tests.helpers import activity_url, admin_url, client_for, entry_mark, feed_items


@pytest.fixture
def admin_user(db: None) -> Any:
    return UserFactory.create(username="admin", is_superuser=True, is_staff=True)


def _change_form(user: User, **changes: Any) -> dict[str, Any]:
    """The admin's user change form as it is shown for user, with changes."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": f"{user.date_joined:%Y-%m-%d}",
        "date_joined_1": f"{user.date_joined:%H:%M:%S}",
    }
    return {key: value for key, value in (data | changes).items() if value != ""}


def test_the_admin_form_renames_through_the_service_and_logs_it(
    admin_user: Any, editor: Any, version: ModelVersion
) -> None:
    comment_on_version(actor=editor, version=version, comment="Before the rename.")
    mark = entry_mark()

    response = client_for(admin_user).post(admin_url(User, "change", editor.pk), _change_form(editor, username="ed"))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=editor.pk).username == "ed"
    entry = ActivityEntry.objects.get(pk__gt=mark)
    assert (entry.verb, entry.actor_username, entry.model_id, entry.extra) == (
        Verb.USER_RENAMED,
        "admin",
        None,
        {"from": "editor", "to": "ed"},
    )
    items = feed_items(client_for(admin_user).get(activity_url()).text)
    assert items[0].startswith("admin renamed the user “editor” to “ed”"), items
    assert any(item.startswith("editor on Churn Predictor: commented on") for item in items), items


def test_saving_the_admin_form_without_a_new_name_logs_nothing(admin_user: Any, editor: Any) -> None:
    mark = entry_mark()

    response = client_for(admin_user).post(
        admin_url(User, "change", editor.pk), _change_form(editor, first_name="Eddie")
    )

    assert response.status_code == 302
    assert User.objects.get(pk=editor.pk).first_name == "Eddie"
    assert not ActivityEntry.objects.filter(pk__gt=mark).exists()


def test_a_taken_name_is_a_form_error_and_changes_nothing(admin_user: Any, editor: Any, viewer: Any) -> None:
    mark = entry_mark()

    response = client_for(admin_user).post(
        admin_url(User, "change", editor.pk), _change_form(editor, username="viewer", first_name="Eddie")
    )

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.filter(username="editor", first_name="").exists()
    assert not ActivityEntry.objects.filter(pk__gt=mark).exists()


def test_staff_with_the_change_user_permission_may_rename(editor: Any, viewer: Any) -> None:
    clerk = UserFactory.create(username="clerk", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(codename__in=["view_user", "change_user"]))

    rename_user(actor=User.objects.get(pk=clerk.pk), user=editor, username="ed")

    assert ActivityEntry.objects.filter(verb=Verb.USER_RENAMED, actor=clerk).count() == 1


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_anyone_else_is_refused_and_nothing_changes(who: str, editor: Any, viewer: Any) -> None:
    actor = {"editor": editor, "viewer": viewer}[who]
    mark = entry_mark()

    with pytest.raises(PermissionDenied, match=r"Only an administrator can rename a user\."):
        rename_user(actor=actor, user=viewer, username="mallory")

    assert User.objects.filter(username="viewer").exists()
    assert not ActivityEntry.objects.filter(pk__gt=mark).exists()


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("viewer", r"A user with that username already exists\."),
        ("no spaces", r"Enter a valid username\."),
        ("", r"This field cannot be blank\."),
        ("x" * 151, "Ensure this value has at most 150 characters"),
    ],
)
def test_a_bad_name_is_refused_with_djangos_message(
    admin_user: Any, editor: Any, viewer: Any, username: str, message: str
) -> None:
    mark = entry_mark()

    with pytest.raises(AccountError, match=message):
        rename_user(actor=admin_user, user=editor, username=username)

    assert User.objects.filter(username="editor").exists()
    assert not ActivityEntry.objects.filter(pk__gt=mark).exists()


def test_the_same_name_again_changes_and_logs_nothing(admin_user: Any, editor: Any) -> None:
    mark = entry_mark()

    rename_user(actor=admin_user, user=editor, username="editor")

    assert not ActivityEntry.objects.filter(pk__gt=mark).exists()
