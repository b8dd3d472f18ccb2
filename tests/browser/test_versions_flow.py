"""The Versions page in the browser: alice finds versions with a search and the quick filters (htmx updates the
results and the URL), walks back and forward, reads why a search cannot run, arrives from home and a catalog tile,
and uses the page on a phone and without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from playwright.sync_api import Locator, Page, expect

from catalog import selectors
from catalog.find import FindError, filter_versions
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.helpers import NewContext, assert_same_document, mark_document, screenshot, sign_in, wait_for_htmx

pytestmark = pytest.mark.browser

PAGE_SIZE = settings.PAGE_SIZE
PRODUCTION_GREEN = "rgb(22, 198, 12)"  # --st-production
SPACE = r"(?:\+|%20)"  # htmx writes a space as %20, a plain form as +
STAGING_URL = re.compile(rf"/versions/\?find=stage{SPACE}%3D%3D{SPACE}staging$")
BOTH_URL = re.compile(rf"/versions/\?find=stage{SPACE}%3D%3D{SPACE}staging&stage=production$")
PRODUCTION_URL = re.compile(r"/versions/\?stage=production$")


def visible(username: str) -> QuerySet[ModelVersion]:
    return selectors.visible_versions(user=User.objects.get(username=username))


def expected(versions: QuerySet[ModelVersion]) -> list[tuple[str, str]]:
    """The first page the Versions page should list: (model, version), newest registered first."""
    newest = versions.select_related("model").order_by("-created_at", "-pk")[:PAGE_SIZE]
    return [(v.model.name, v.name) for v in newest]


def results(page: Page) -> Locator:
    return page.get_by_role("region", name="Versions found")


def rows(page: Page) -> Locator:
    return results(page).get_by_role("table").locator("tbody").get_by_role("row")


def shown(page: Page) -> list[tuple[str, str]]:
    return [
        (row.get_by_role("cell").nth(0).inner_text(), row.get_by_role("cell").nth(1).inner_text())
        for row in rows(page).all()
    ]


def stages_shown(page: Page) -> set[str]:
    return {row.get_by_role("cell").nth(2).inner_text() for row in rows(page).all()}


def search_box(page: Page) -> Locator:
    return page.get_by_role("searchbox", name="Find versions")


def chip(page: Page, name: str) -> Locator:
    return results(page).get_by_role("group", name="Quick filters").get_by_role("link", name=name, exact=True)


def forward(page: Page) -> None:
    """The browser's Forward button. (Playwright's go_forward loses track of the page when htmx reloads it on
    arrival, as base.html asks it to: a history entry it pushed is fetched afresh rather than restored.)"""
    with page.expect_navigation():
        page.evaluate("history.forward()")


def find_message(text: str) -> str:
    with pytest.raises(FindError) as raised:
        filter_versions(ModelVersion.objects.all(), text)
    return raised.value.message.replace("`", "")


def search(page: Page, text: str) -> None:
    """Type a search and press Enter, as htmx sends it."""
    search_box(page).fill(text)
    with page.expect_request(re.compile(r"/versions/")) as request:
        search_box(page).press("Enter")
    assert request.value.headers.get("hx-request") == "true"
    wait_for_htmx(page)


def test_alice_finds_versions_with_a_search_and_the_quick_filters(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    everything = visible("alice")
    in_staging = everything.filter(stage=Stage.STAGING)
    in_production = everything.filter(stage=Stage.PRODUCTION)
    assert in_staging.exists()
    assert in_production.exists()
    sign_in(page, "alice")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Versions", exact=True).click()
    expect(page).to_have_url(re.compile(r"/versions/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Versions")
    expect(rows(page)).to_have_count(min(PAGE_SIZE, everything.count()))
    assert shown(page) == expected(everything)
    screenshot(page, "versions-01-everything")
    mark_document(page)

    search(page, "stage == staging")
    expect(page).to_have_url(STAGING_URL)
    expect(rows(page)).to_have_count(min(PAGE_SIZE, in_staging.count()))
    assert shown(page) == expected(in_staging)
    assert stages_shown(page) == {"Staging"}
    assert_same_document(page)
    screenshot(page, "versions-02-search-staging")

    # The quick filter narrows the search: nothing is in Staging and in Production at once.
    chip(page, "In Production").click()
    expect(page).to_have_url(BOTH_URL)
    expect(results(page).get_by_text("No versions match.")).to_be_visible()
    expect(chip(page, "In Production")).to_have_attribute("aria-current", "true")
    expect(search_box(page)).to_have_value("stage == staging")
    # Emptying the box keeps the quick filter: only the versions in Production.
    search(page, "")
    expect(page).to_have_url(PRODUCTION_URL)
    expect(rows(page)).to_have_count(min(PAGE_SIZE, in_production.count()))
    assert shown(page) == expected(in_production)
    assert stages_shown(page) == {"Production"}
    badge = rows(page).first.get_by_text("Production", exact=True)
    assert badge.evaluate("badge => getComputedStyle(badge).backgroundColor") == PRODUCTION_GREEN
    expect(chip(page, "In Production")).to_have_attribute("aria-current", "true")
    expect(chip(page, "In Staging")).not_to_have_attribute("aria-current", "true")
    assert_same_document(page)
    screenshot(page, "versions-03-in-production")

    page.go_back()
    expect(page).to_have_url(BOTH_URL)
    expect(search_box(page)).to_have_value("stage == staging")
    expect(results(page).get_by_text("No versions match.")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(STAGING_URL)
    expect(search_box(page)).to_have_value("stage == staging")
    expect(chip(page, "In Production")).not_to_have_attribute("aria-current", "true")
    expect(rows(page)).to_have_count(min(PAGE_SIZE, in_staging.count()))
    assert shown(page) == expected(in_staging)
    forward(page)
    expect(page).to_have_url(BOTH_URL)
    expect(results(page).get_by_text("No versions match.")).to_be_visible()
    forward(page)
    expect(page).to_have_url(PRODUCTION_URL)
    expect(search_box(page)).to_have_value("")
    expect(rows(page)).to_have_count(min(PAGE_SIZE, in_production.count()))
    assert shown(page) == expected(in_production)

    mark_document(page)
    search(page, "stage == prod")
    expect(page).to_have_url(re.compile(rf"/versions/\?find=stage{SPACE}%3D%3D{SPACE}prod&stage=production$"))
    message = find_message("stage == prod")
    expect(page.get_by_role("alert")).to_have_text(message)
    expect(search_box(page)).to_have_accessible_description(re.compile(rf"^{re.escape(message)}"))
    expect(results(page).get_by_role("table")).to_have_count(0)
    expect(results(page).get_by_text("Nothing is listed until the search can run")).to_be_visible()
    assert_same_document(page)
    screenshot(page, "versions-04-search-cannot-run")

    search(page, "stage == production")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert shown(page) == expected(in_production)


def test_an_example_fills_the_search(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    sign_in(page, "alice")
    page.goto("/versions/")
    page.get_by_role("link", name="model == 'Churn Predictor' and stage != archived").click()
    expect(search_box(page)).to_have_value("model == 'Churn Predictor' and stage != archived")
    churn = visible("alice").filter(model__name="Churn Predictor").exclude(stage=Stage.ARCHIVED)
    assert shown(page) == expected(churn)
    assert {name for name, _ in shown(page)} == {"Churn Predictor"}


def test_home_and_the_catalog_tiles_lead_to_the_versions(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    in_production = visible("alice").filter(stage=Stage.PRODUCTION)
    sign_in(page, "alice")
    page.locator("#production-count").click()
    expect(page).to_have_url(PRODUCTION_URL)
    assert shown(page) == expected(in_production)

    model = (
        selectors.visible_models(user=User.objects.get(username="alice"))
        .filter(staging_count__gt=0)
        .order_by("name")
        .first()
    )
    assert isinstance(model, RegisteredModel)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog", exact=True).click()
    count = model.staging_count
    name = f"{count} Staging version{'' if count == 1 else 's'} of {model.name}"
    page.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/versions/\?find=model\+%3D%3D\+%22.+%22&stage=staging$"))
    expect(search_box(page)).to_have_value(f'model == "{model.name}"')
    expect(chip(page, "In Staging")).to_have_attribute("aria-current", "true")
    expect(rows(page)).to_have_count(min(count, PAGE_SIZE))
    assert shown(page) == expected(model.versions.filter(stage=Stage.STAGING))


def test_on_a_phone_the_page_fits_and_the_table_scrolls_in_its_box(demo_catalog: None, new_context: NewContext) -> None:
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "alice")
    page.goto("/versions/")
    expect(rows(page).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    table_box = results(page).locator(".table-wrap")
    assert table_box.evaluate("box => box.scrollWidth > box.clientWidth")  # more columns than fit: it scrolls
    screenshot(page, "versions-05-phone")

    search(page, "stagee == production")
    expect(page.get_by_role("alert")).to_have_text(find_message("stagee == production"))
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "versions-06-phone-search-cannot-run")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/versions/?pending=1")
    expect(chip(page, "Pending request")).to_have_attribute("aria-current", "true")
    screenshot(page, "versions-07-desktop-pending")


def test_without_javascript_the_search_and_quick_filters_still_work(
    demo_catalog: None, new_context: NewContext
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, "alice")
    page.goto("/versions/")
    chip(page, "In Staging").click()
    expect(page).to_have_url(re.compile(r"/versions/\?stage=staging$"))
    search_box(page).fill("version ~= 2")
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(r"/versions/\?find=version\+%7E%3D\+2&stage=staging$"))
    expect(search_box(page)).to_have_value("version ~= 2")
    matching = visible("alice").filter(stage=Stage.STAGING, name__contains="2")
    assert shown(page) == expected(matching)
    assert stages_shown(page) <= {"Staging"}
