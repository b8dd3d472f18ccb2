"""Who sees and does what on a model card, in the browser: viewer, outsider, owner managing collaborators."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from catalog import permissions
from catalog.models import RegisteredModel, Visibility
from catalog.permissions import Role
from tests.helpers import NewContext, screenshot, signed_in_page, user_named

pytestmark = pytest.mark.browser

PRIVATE_MODEL = "Credit Risk Scorecard"  # private in the demo data; carol is its viewer, dave has no role


def collaborator_row(page: Page, name: str) -> Locator:
    table = page.get_by_role("region", name="Collaborators").get_by_role("table")
    return table.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def test_viewer_sees_the_model_but_no_edit_actions(demo_catalog: None, new_context: NewContext) -> None:
    carol = signed_in_page(new_context, "carol")
    carol.goto("/models/")
    carol.get_by_role("link", name=PRIVATE_MODEL, exact=True).click()
    expect(carol.get_by_role("heading", level=1)).to_have_text(PRIVATE_MODEL)
    expect(carol.get_by_role("table")).to_be_visible()  # the versions
    expect(carol.get_by_role("link", name="Edit model")).to_have_count(0)
    expect(carol.get_by_role("link", name="Register version")).to_have_count(0)
    screenshot(carol, "07-model-card-as-viewer")

    carol.get_by_role("link", name="Collaborators", exact=True).click()
    expect(carol.get_by_text("Only owners of this model can change who collaborates on it.")).to_be_visible()
    expect(carol.get_by_role("button", name="Add collaborator")).to_have_count(0)
    expect(carol.get_by_role("button", name=re.compile(r"^Remove "))).to_have_count(0)

    response = carol.goto(f"{carol.url.removesuffix('collaborators/')}edit/")
    assert response is not None
    assert response.status == 403
    expect(carol.get_by_role("heading", name="Not allowed")).to_be_visible()

    alice = signed_in_page(new_context, "alice")  # the owner, on the same card, does get the actions
    alice.goto(carol.url.removesuffix("edit/"))
    expect(alice.get_by_role("link", name="Edit model")).to_be_visible()


def test_outsider_neither_lists_nor_opens_a_private_model(demo_catalog: None, new_context: NewContext) -> None:
    model = RegisteredModel.objects.get(name=PRIVATE_MODEL)
    version = model.versions.order_by("pk").first()
    assert model.visibility == Visibility.PRIVATE
    assert version is not None
    organization_models = RegisteredModel.objects.filter(visibility=Visibility.ORGANIZATION).count()

    dave = signed_in_page(new_context, "dave")
    dave.goto("/models/")
    results = dave.get_by_role("region", name="Models")
    expect(results.get_by_text(re.compile(r"^\d+ models?$"))).to_have_text(f"{organization_models} models")
    expect(results.get_by_role("link", name=PRIVATE_MODEL)).to_have_count(0)
    expect(results.get_by_text("Private", exact=True)).to_have_count(0)

    dave.get_by_role("searchbox", name="Search").fill("credit")
    expect(results.get_by_text("No models match these filters.")).to_be_visible()

    for url in (f"/models/{model.slug}/", f"/models/{model.slug}/versions/{version.name}/"):
        response = dave.goto(url)
        assert response is not None
        assert response.status == 404, url
        expect(dave.get_by_role("heading", name="Not found")).to_be_visible()
        expect(dave.get_by_text(PRIVATE_MODEL)).to_have_count(0)
    screenshot(dave, "08-private-model-as-outsider")


def test_owner_adds_and_removes_a_collaborator_in_place(demo_catalog: None, new_context: NewContext) -> None:
    model = RegisteredModel.objects.get(name="Churn Predictor")  # alice owns it; bob reviews it only via a group
    assert model.owner.username == "alice"
    alice = signed_in_page(new_context, "alice")
    alice.goto(f"/models/{model.slug}/")
    alice.evaluate("window.sameDocument = true")  # a full page load would drop it

    alice.get_by_role("link", name="Collaborators", exact=True).click()
    expect(alice).to_have_url(re.compile(rf"/models/{model.slug}/collaborators/$"))
    expect(collaborator_row(alice, "bob")).to_have_count(0)

    alice.get_by_label("User", exact=True).check()
    alice.get_by_label("Username or group name").fill("bob")
    alice.get_by_label("Role").select_option(label=Role.EDITOR.label)
    alice.get_by_role("button", name="Add collaborator").click()
    expect(alice.get_by_text("User bob now has the Editor role.")).to_be_visible()
    expect(collaborator_row(alice, "bob").get_by_role("cell").nth(1)).to_have_text("Editor")
    expect(alice.get_by_label("Username or group name")).to_have_value("")
    assert alice.evaluate("window.sameDocument === true")
    screenshot(alice, "09-collaborators-after-adding-bob")

    bob = signed_in_page(new_context, "bob")
    bob.goto(f"/models/{model.slug}/")
    expect(bob.get_by_role("link", name="Edit model")).to_be_visible()

    alice.get_by_role("button", name="Remove user bob").click()
    expect(alice.get_by_text("Removed user bob from the collaborators.")).to_be_visible()
    expect(collaborator_row(alice, "bob")).to_have_count(0)
    assert alice.evaluate("window.sameDocument === true")
    bob.reload()
    expect(bob.get_by_role("heading", level=1)).to_have_text(model.name)
    expect(bob.get_by_role("link", name="Edit model")).to_have_count(0)
    assert not permissions.may_edit_model(user_named("bob"), model)
