"""The version page's tools in the browser: alice copies the artifact URI and the version's link, and compares two
versions side by side (desktop and phone); without JavaScript the copy buttons stay hidden and the text selectable."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from catalog.models import ModelVersion
from tests.helpers import NewContext, screenshot, sign_in

pytestmark = pytest.mark.browser

VERSION_PATH = "/models/churn-predictor/versions/v2.0.2/"


def test_copy_buttons_copy_and_say_so(demo_catalog: None, new_context: NewContext, live_server: LiveServer) -> None:
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    sign_in(page, "alice")
    page.goto(VERSION_PATH)
    uri = ModelVersion.objects.get(model__slug="churn-predictor", name="v2.0.2").artifact_uri

    button = page.get_by_role("button", name="Copy the artifact URI")
    button.click()
    expect(button).to_have_text("Copied")
    expect(page.get_by_role("status").filter(has_text="Copied")).to_have_count(1)
    assert page.evaluate("navigator.clipboard.readText()") == uri
    expect(button).to_have_text("Copy", timeout=5000)  # back to its label

    page.get_by_role("button", name="Copy the link to this version").click()
    assert page.evaluate("navigator.clipboard.readText()") == live_server.url + VERSION_PATH
    screenshot(page, "version-copy-desktop")


def test_without_javascript_the_text_is_there_and_no_dead_button(demo_catalog: None, new_context: NewContext) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "alice")
    page.goto(VERSION_PATH)
    expect(page.locator("#artifact-uri")).to_have_text(re.compile(r"^s3://"))
    expect(page.get_by_role("button", name="Copy the artifact URI")).to_be_hidden()


@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_compare_two_versions_from_the_version_page(
    demo_catalog: None, new_context: NewContext, device: str, viewport: tuple[int, int]
) -> None:
    page = new_context().new_page()
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    sign_in(page, "carol")  # a viewer: compares what she may see
    page.goto(VERSION_PATH)
    page.get_by_role("link", name="Compare with another version…").click()
    page.get_by_label("with").select_option("v2.1.2")
    page.get_by_role("button", name="Compare").click()

    expect(page).to_have_url(re.compile(r"/models/churn-predictor/compare/\?a=v2\.0\.2&b=v2\.1\.2$"))
    expect(page.get_by_role("heading", name="v2.0.2 and v2.1.2 side by side")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="v2.1.2")).to_be_visible()
    expect(table.get_by_role("rowheader", name=re.compile(r"^Stage( differs)?$"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
    screenshot(page, f"version-compare-{device}")
