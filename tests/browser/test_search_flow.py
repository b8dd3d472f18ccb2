"""Searching the catalog by a label in another case, and the label and owner filters suggesting as you type."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_alice_searches_by_label_and_types_into_the_filters(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, "alice")
    page.goto("/models/")
    results = page.get_by_role("region", name="Models")

    page.get_by_role("searchbox", name="Search").fill("XGBoost")  # a label, in another case
    expect(page).to_have_url(re.compile(r"q=XGBoost"))
    expect(results.get_by_role("link", name="Churn Predictor", exact=True)).to_be_visible()

    label = page.get_by_role("combobox", name="Label")
    label.press_sequentially("xgb", delay=50)
    expect(page.locator("#label-options option")).to_have_count(1)
    expect(page.locator("#label-options option")).to_have_attribute("value", "xgboost")

    label.fill("")
    page.get_by_role("searchbox", name="Search").fill("")
    owner = page.get_by_role("combobox", name="Owner")
    owner.press_sequentially("ALI", delay=50)
    expect(page.locator("#owner-options option[value=alice]")).to_have_count(1)
    owner.fill("ALI")
    owner.press("Enter")  # the form submits, as a change would
    expect(page).to_have_url(re.compile(r"owner=ALI"))
    expect(results.get_by_role("link", name="Ad Click-Through Rate")).to_have_count(0)  # admin's
    expect(results.get_by_role("link", name="Churn Predictor", exact=True)).to_be_visible()  # alice's
    screenshot(page, "search-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "search-phone")
