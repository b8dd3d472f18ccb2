"""Setting a version's lock level and a model's approval policy, with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import services
from catalog.models import LockLevel, ModelVersion, RegisteredModel
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, UserFactory
from tests.helpers import (
    HTMX,
    LOCK_URL,
    PANEL,
    POLICY_URL,
    VERSION_OOB,
    VERSION_URL,
    assert_fragment,
    client_for,
    database_state,
    element,
    messages_shown,
    select,
    select_options,
)


def test_editor_raises_the_lock_level(version: Any, editor: Any) -> None:
    response = client_for(editor).post(LOCK_URL, {"lock_level": "closed"}, headers=PANEL)
    assert_fragment(response, "request-panel", VERSION_OOB)
    assert element(response.text, "request-panel").text == "Lock level set to Closed."
    lock_box = element(response.text, "lock-box")
    assert lock_box.text.startswith("Lock: Closed — the stage and metadata cannot change")
    assert select_options(lock_box.html, "lock-select") == ["Redact"]
    assert "Locked: the stage cannot change." in element(response.text, "stage-box").text
    assert "editor changed the lock level of v1.0.0 from Open to Closed" in element(response.text, "activity-feed").text
    assert ModelVersion.objects.get(pk=version.pk).lock_level == LockLevel.CLOSED


def test_editor_cannot_lower_the_lock_level_but_the_owner_can(version: Any, owner: Any, editor: Any) -> None:
    services.set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    before = database_state()
    refused = client_for(editor).post(LOCK_URL, {"lock_level": "open"}, headers=PANEL)
    assert refused.status_code == 403
    assert "Only owners of this model can lower a lock level." in refused.text
    assert database_state() == before

    client = client_for(owner)
    response = client.post(LOCK_URL, {"lock_level": "open"})
    assert response.status_code == 302
    assert response["Location"] == VERSION_URL
    page = client.get(VERSION_URL)
    assert messages_shown(page.text) == ["Lock level set to Open."]
    assert element(page.text, "lock-box").text.startswith("Lock: Open")
    assert ModelVersion.objects.get(pk=version.pk).lock_level == LockLevel.OPEN


@pytest.mark.parametrize(("level", "message"), [("bogus", "Choose one of the lock levels."), ("open", "already Open")])
def test_bad_lock_level_is_a_message(version: Any, owner: Any, level: str, message: str) -> None:
    before = database_state()
    response = client_for(owner).post(LOCK_URL, {"lock_level": level}, headers=PANEL)
    assert response.status_code == 200
    assert message in element(response.text, "request-panel").text
    assert database_state() == before


def test_owner_sets_the_approval_policy(model: Any, owner: Any) -> None:
    response = client_for(owner).post(POLICY_URL, {"required_approvals": "3"}, headers=HTMX)
    assert_fragment(response, "policy-box", ["model-meta"])
    box = element(response.text, "policy-box")
    assert "Each stage change needs 3 approvals from someone other than the requester." in box.text
    assert "Stage changes now need 3 approval(s)." in box.text
    assert RegisteredModel.objects.get(pk=model.pk).required_approvals == 3


def test_owner_sets_the_approval_policy_without_javascript(model: Any, owner: Any, reviewer: Any) -> None:
    client = client_for(owner)
    response = client.post(POLICY_URL, {"required_approvals": "2"})
    assert response.status_code == 302
    assert response["Location"] == "/models/churn-predictor/"
    page = client.get(response["Location"])
    assert messages_shown(page.text) == ["Stage changes now need 2 approval(s)."]  # owner and reviewer: no warning
    assert element(page.text, "required-approvals").text == "2"


def test_policy_above_the_number_of_reviewers_warns(model: Any, owner: Any, reviewer: Any, editor: Any) -> None:
    response = client_for(owner).post(POLICY_URL, {"required_approvals": "3"}, headers=HTMX)
    [warning] = select(element(response.text, "policy-box").html, "div", **{"data-testid": "policy-warning"})
    assert "needs 3 approvals, but only owner and reviewer can review" in warning.text
    assert select(warning.html, "a")[0].attrs["href"] == "/models/churn-predictor/collaborators/"
    assert RegisteredModel.objects.get(pk=model.pk).required_approvals == 3  # saved: reviewers may be added next


def test_policy_warning_counts_group_members_and_without_javascript(model: Any, owner: Any) -> None:
    team = GroupFactory.create(name="risk")
    for name in ("ann", "ben"):
        UserFactory.create(username=name).groups.add(team)
    add_collaborator(actor=owner, model=model, group=team, role=Role.REVIEWER)
    client = client_for(owner)
    assert "policy-warning" not in client.post(POLICY_URL, {"required_approvals": "3"}, headers=HTMX).text
    page = client.post(POLICY_URL, {"required_approvals": "4"}, follow=True)
    assert messages_shown(page.text) == [
        "Stage changes now need 4 approval(s).",
        "A stage change needs 4 approvals, but only ann, ben and owner can review this model’s stage changes (and "
        "never their own requests), so requests will wait until you add reviewers on the Collaborators tab or a "
        "superuser approves.",
    ]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("6", "Ensure this value is less than or equal to 5."),
        ("abc", "Enter a whole number."),
        ("", "This field is required."),
        ("1", "Stage changes already need 1 approval(s)."),
    ],
)
def test_policy_out_of_range_is_an_error_and_changes_nothing(model: Any, owner: Any, value: str, error: str) -> None:
    before = database_state()
    client = client_for(owner)
    response = client.post(POLICY_URL, {"required_approvals": value}, headers=HTMX)
    assert response.status_code == 200
    box = element(response.text, "policy-box")
    assert error in box.text
    assert element(response.text, "required-approvals").text == "1"
    page = client.post(POLICY_URL, {"required_approvals": value}, follow=True)
    assert messages_shown(page.text) == [error]
    assert database_state() == before
