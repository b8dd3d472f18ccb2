"""Nothing stale after an action, in the browser: bob approves on the version page and on the model's Pending
Approvals tab, and every part of the page that the approval changed shows it without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from approvals.models import StageChangeRequest
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.browser.test_approval_flow import model_url, request_panel, requested_by_alice
from tests.helpers import (
    NewContext,
    assert_same_document,
    mark_document,
    screenshot,
    signed_in_page,
    version_url,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser


def focused_inside(page: Page, selector: str) -> bool:
    return bool(page.evaluate("(s) => !!document.activeElement?.closest(s)", selector))


def test_bob_approves_on_the_version_page_and_the_header_badge_and_timeline_follow(
    demo_catalog: None, new_context: NewContext
) -> None:
    change_request = requested_by_alice(Stage.DEVELOPMENT, Stage.STAGING, "Ready for shadow traffic.")
    version = change_request.version
    bob = signed_in_page(new_context, "bob")
    bob.goto(version_url(version))
    header = bob.locator("#version-meta")
    timeline = bob.get_by_role("list", name=f"Stages of version {version.name}, oldest first").get_by_role("listitem")
    expect(bob.locator("#stage-badge")).to_have_text("Development")
    expect(header).not_to_contain_text("just now")
    expect(timeline.last).to_contain_text("Development")
    periods = timeline.count()
    mark_document(bob)

    panel = request_panel(bob)
    panel.get_by_label("Comment", exact=True).fill("Shadow metrics look right.")
    panel.get_by_role("button", name="Approve").click()

    expect(panel.get_by_role("status")).to_have_text("Approved.")
    expect(bob.locator("#stage-badge")).to_have_text("Staging")
    expect(header).to_contain_text(re.compile(r"stage changed .*just now"))
    expect(timeline).to_have_count(periods + 1)
    expect(timeline.last).to_contain_text(re.compile(r"Staging\s.*now", re.S))
    expect(timeline.last).to_contain_text("Approved by bob; requested by alice.")
    expect(timeline.nth(periods - 1)).not_to_contain_text("now")
    expect(bob.get_by_text("A stage change is waiting for approval.")).to_have_count(0)
    assert focused_inside(bob, "#request-panel"), "focus is not on the result"
    assert_same_document(bob)
    screenshot(bob, "updates-01-bob-approved-on-the-version-page")


def test_bob_approves_a_promotion_on_the_pending_tab_and_the_stage_summary_follows(
    demo_catalog: None, new_context: NewContext
) -> None:
    change_request = requested_by_alice(Stage.STAGING, Stage.PRODUCTION, "Beats the current model.")
    version: ModelVersion = change_request.version
    model: RegisteredModel = version.model
    in_production = model.production_count
    bob = signed_in_page(new_context, "bob")
    bob.goto(model_url(model))
    bob.get_by_role("navigation", name="Model sections").get_by_role("link", name=re.compile("^Pending")).click()
    card = bob.get_by_role("article", name=f"Request for {version.name}")
    expect(card).to_be_visible()
    wait_for_htmx(bob)
    summary = bob.locator("#stage-summary")
    expect(summary.locator("li.production .n")).to_have_text(str(in_production))
    pending = StageChangeRequest.objects.filter(version__model=model, status="pending").count()
    expect(bob.locator("#pending-count")).to_have_text(str(pending))
    mark_document(bob)

    card.get_by_role("button", name="Approve").click()

    expect(card).to_contain_text("Approved by bob")
    expect(card).not_to_contain_text("archives the versions")
    expect(summary.locator("li.production .n")).to_have_text(str(in_production + 1))
    expect(summary.get_by_role("list", name="Versions in Production")).to_contain_text(version.name)
    expect(bob.locator("#pending-count")).to_have_text(str(pending - 1))
    expect(bob.locator("#model-meta")).to_contain_text(re.compile(r"updated .*just now"))
    assert focused_inside(bob, f"#change-request-{change_request.pk}"), "focus is not on the result"
    assert_same_document(bob)
    screenshot(bob, "updates-02-bob-approved-on-the-pending-tab")
