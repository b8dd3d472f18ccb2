"""The requester hears of a decision: the notifications page, the count in the navigation, the banner on the version
page and its dismissal with htmx."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from approvals import services
from approvals.models import StageChangeRequest, Status
from tests.helpers import screenshot, sign_in, user_named

pytestmark = pytest.mark.browser


def test_alice_reads_a_decision_and_dismisses_its_banner(demo_catalog: None, browser_page: Page) -> None:
    pending = StageChangeRequest.objects.filter(status=Status.PENDING, requester__username="alice").first()
    assert pending is not None
    services.approve_change_request(actor=user_named("bob"), change_request=pending, comment="Looks right.")
    version = pending.version
    page = browser_page
    sign_in(page, "alice")
    page.get_by_role("link", name="Notifications").click()
    item = page.get_by_role("listitem").filter(has_text="bob approved your request")
    expect(item.first).to_be_visible()
    screenshot(page, "notifications-desktop")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#notification-count")).to_have_text("0")

    page.goto(version.get_absolute_url())
    banner = page.get_by_role("status").filter(has_text="Your request to move this version")
    expect(banner).to_contain_text("was approved by")
    screenshot(page, "decision-banner-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "decision-banner-phone")
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)
    page.reload()
    expect(page.get_by_text("Your request to move this version")).to_have_count(0)
