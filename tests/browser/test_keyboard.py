"""Keyboard and focus: a skip link first, focus on the result after each htmx action (never the page body), and a
Stage selector that asks for one request panel per stage chosen however the options are arrowed through."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, expect

from catalog.models import Stage
from tests.browser.test_approval_flow import open_version, request_panel, stage_select
from tests.helpers import NewContext, screenshot, sign_in, signed_in_page, version_url, wait_for_htmx

pytestmark = pytest.mark.browser

PAUSE_MS = 700  # longer than the selector's wait for a pause (300 ms) plus a request


def active(page: Page, expression: str) -> object:
    return page.evaluate(f"(() => {{ const el = document.activeElement; return {expression}; }})()")


def test_tab_reaches_the_skip_link_first_and_enter_moves_into_the_content(
    demo_catalog: None, browser_page: Page
) -> None:
    page = browser_page
    sign_in(page, "alice")
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto("/models/")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        box = skip.bounding_box()
        assert box is not None
        assert box["y"] >= 0
        assert box["x"] >= 0  # shown on the screen while focused
        screenshot(page, f"keyboard-01-skip-link-{width}")
        page.keyboard.press("Enter")
        assert active(page, "!!el.closest('main')"), "focus did not move into the content"
        page.keyboard.press("Tab")
        assert active(page, "!!el.closest('main')"), "the next Tab left the content"
    page.goto("/models/")
    box = page.get_by_role("link", name="Skip to content").bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 0  # out of sight until focused


def test_focus_moves_to_the_result_of_each_action_on_the_version_page(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    version = open_version(Stage.DEVELOPMENT)
    sign_in(page, "alice")
    page.goto(version_url(version))
    panel = request_panel(page)

    stage_select(page).focus()
    stage_select(page).select_option(label="Staging")
    expect(panel.get_by_role("heading", name=re.compile("^Request a move"))).to_be_visible()
    wait_for_htmx(page)
    expect(stage_select(page)).to_be_focused()  # choosing a stage leaves the focus in the selector

    panel.get_by_role("link", name="Close").focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("heading")).to_have_count(0)
    wait_for_htmx(page)
    expect(stage_select(page)).to_be_focused()  # back where the panel was opened from
    expect(stage_select(page)).to_have_value("")

    stage_select(page).select_option(label="Staging")
    expect(panel.get_by_role("heading", name=re.compile("^Request a move"))).to_be_visible()
    wait_for_htmx(page)
    panel.get_by_role("button", name="Request", exact=True).focus()
    page.keyboard.press("Enter")
    status = panel.get_by_role("status")
    expect(status).to_have_text("Requested. Reviewers have been notified.")
    wait_for_htmx(page)
    expect(status).to_be_focused()
    screenshot(page, "keyboard-02-focus-on-the-request-result")

    panel.get_by_role("button", name="Cancel request").focus()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Request cancelled.")
    wait_for_htmx(page)
    expect(status).to_be_focused()

    comment = page.get_by_role("textbox", name="Comment")
    comment.fill("Keyboard only.")
    page.get_by_role("button", name="Comment", exact=True).focus()
    page.keyboard.press("Enter")
    added = page.locator("#version-activity").get_by_role("status")
    expect(added).to_have_text("Comment added.")
    wait_for_htmx(page)
    expect(added).to_be_focused()
    assert active(page, "el !== document.body")


def test_focus_moves_to_the_decided_card_in_the_inbox(demo_catalog: None, new_context: NewContext) -> None:
    bob = signed_in_page(new_context, "bob")
    bob.goto("/approvals/")
    card = bob.get_by_role("region", name="Waiting for your review").get_by_role("article").first
    card.get_by_role("button", name="Approve").focus()
    bob.keyboard.press("Enter")
    expect(card.get_by_role("status")).to_contain_text("Approved by bob")
    wait_for_htmx(bob)
    expect(card.get_by_role("status")).to_be_focused()


def test_arrowing_through_the_stage_selector_asks_once_per_chosen_stage(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    version = open_version(Stage.DEVELOPMENT)  # options: Unassigned, Staging, Production, Archived
    sign_in(page, "alice")
    page.goto(version_url(version))
    asked: list[str] = []

    def on_request(request: Request) -> None:
        found = re.search(r"/request/\?to_stage=(\w*)", request.url)
        if found:
            asked.append(found.group(1))

    page.on("request", on_request)
    panel = request_panel(page)
    heading = panel.get_by_role("heading", name=re.compile("^Request a move"))
    stage_select(page).focus()

    for _ in range(3):  # quickly past Unassigned and Staging to Production
        page.keyboard.press("ArrowDown")
    page.wait_for_timeout(PAUSE_MS)
    wait_for_htmx(page)
    assert asked == ["production"]
    expect(heading).to_have_text("Request a move from Development to Production")

    page.keyboard.press("ArrowDown")  # Archived, with a pause
    page.wait_for_timeout(PAUSE_MS)
    wait_for_htmx(page)
    assert asked == ["production", "archived"]
    expect(heading).to_have_text("Request a move from Development to Archived")

    page.keyboard.press("ArrowUp")  # away and back: Archived's panel is already open
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(PAUSE_MS)
    wait_for_htmx(page)
    assert asked == ["production", "archived"]
    expect(heading).to_have_text("Request a move from Development to Archived")
    expect(stage_select(page)).to_be_focused()
    expect(stage_select(page)).to_have_value("archived")
