"""Browsing the catalog as alice: filter to Production (htmx, or a plain form without JavaScript), open a model, a
version, and come back with the browser's back button."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db.models import Q
from playwright.sync_api import Locator, Page, expect

from catalog import selectors
from catalog.models import Stage, TaskType
from tests.helpers import PASSWORD, NewContext, screenshot, sign_in, user_named

pytestmark = pytest.mark.browser

IN_PRODUCTION_URL = re.compile(r"/models/\?(.*&)?stage=production(&|$)")


def visible_names(username: str, *, stage: str | None = None, search: str | None = None) -> list[str]:
    """What the catalog should list for this user, straight from the database, sorted by name."""
    models = selectors.visible_models(user=user_named(username))
    if stage:
        models = models.filter(versions__stage=stage)
    if search:
        models = models.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return sorted(set(models.values_list("name", flat=True)))


def results(page: Page) -> Locator:
    return page.get_by_role("region", name="Models")


def result_count(page: Page) -> Locator:
    return results(page).get_by_text(re.compile(r"^\d+ models?$"))


def tile_names(page: Page) -> list[str]:
    return sorted(tile.get_by_role("heading").get_by_role("link").inner_text() for tile in tiles(page).all())


def tiles(page: Page) -> Locator:
    return results(page).get_by_role("article")


def models_text(n: int) -> str:
    return f"{n} model{'' if n == 1 else 's'}"


def test_alice_filters_to_production_then_opens_a_model_and_a_version(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    everything = visible_names("alice")
    in_production = visible_names("alice", stage=Stage.PRODUCTION)
    assert 0 < len(in_production) < len(everything)  # the filter has something to remove

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    screenshot(page, "00-sign-in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Alice")).to_be_visible()
    screenshot(page, "01-home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog", exact=True).click()
    expect(page.get_by_role("heading", name="Model catalog")).to_be_visible()
    expect(result_count(page)).to_have_text(models_text(len(everything)))
    screenshot(page, "02-catalog")

    page.get_by_role("link", name="In Production", exact=True).click()
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(result_count(page)).to_have_text(models_text(len(in_production)))
    assert tile_names(page) == in_production
    for tile in tiles(page).all():
        production = tile.get_by_text(re.compile(r"^\d+ Production$")).text_content() or ""
        assert int(production.split()[0]) > 0, tile.inner_text()
    screenshot(page, "03-catalog-in-production")

    model_name = in_production[0]
    results(page).get_by_role("link", name=model_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(model_name)
    versions = page.get_by_role("table")
    production_row = versions.get_by_role("row").filter(has=page.get_by_role("cell", name="Production", exact=True))
    expect(production_row.first).to_be_visible()
    screenshot(page, "04-model-card")

    version_link = production_row.first.get_by_role("link")
    version_name = version_link.inner_text()
    version_link.click()
    expect(page).to_have_url(re.compile(rf"/versions/{re.escape(version_name)}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{model_name} · {version_name}")
    expect(page.locator("#stage-badge")).to_have_text("Production")
    screenshot(page, "05-version-page")

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(model_name)
    page.go_back()
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(result_count(page)).to_have_text(models_text(len(in_production)))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/models/$"))
    expect(result_count(page)).to_have_text(models_text(len(everything)))
    first_page = tile_names(page)
    assert len(first_page) == min(settings.PAGE_SIZE, len(everything))
    assert set(first_page) <= set(everything)


def test_stage_select_swaps_the_results_in_place(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    everything = visible_names("alice")
    in_production = visible_names("alice", stage=Stage.PRODUCTION)
    assert 0 < len(in_production) < len(everything)
    sign_in(page, "alice")
    page.goto("/models/")
    page.evaluate("window.sameDocument = true")  # a full page load would drop it

    stage = page.get_by_label("Has a version in")
    with page.expect_request(re.compile(r"stage=production")) as request:
        stage.select_option(label="Production")
    assert request.value.headers.get("hx-request") == "true"
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(result_count(page)).to_have_text(models_text(len(in_production)))
    assert tile_names(page) == in_production
    expect(stage).to_have_value(Stage.PRODUCTION)

    stage.select_option(label="Any stage")
    expect(result_count(page)).to_have_text(models_text(len(everything)))
    assert page.evaluate("window.sameDocument === true")


def test_search_narrows_the_results_as_you_type(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    expected = visible_names("alice", search="fraud")
    assert expected
    sign_in(page, "alice")
    page.goto("/models/")
    page.get_by_role("searchbox", name="Search").press_sequentially("fraud")
    expect(result_count(page)).to_have_text(models_text(len(expected)))
    assert tile_names(page) == expected
    expect(page).to_have_url(re.compile(r"[?&]q=fraud(&|$)"))

    page.get_by_role("searchbox", name="Search").fill("no model is called this")
    expect(results(page).get_by_text("No models match these filters.")).to_be_visible()


def test_filters_work_without_javascript(demo_catalog: None, new_context: NewContext) -> None:
    page = new_context(java_script_enabled=False).new_page()
    in_production = visible_names("alice", stage=Stage.PRODUCTION)
    sign_in(page, "alice")
    page.goto("/models/")

    page.get_by_label("Has a version in").select_option(label="Production")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(result_count(page)).to_have_text(models_text(len(in_production)))
    assert tile_names(page) == in_production
    expect(page.get_by_label("Has a version in")).to_have_value(Stage.PRODUCTION)
    screenshot(page, "06-catalog-in-production-without-javascript")


def test_quick_filter_combines_with_the_form(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    expected = sorted(
        set(
            selectors.visible_models(user=user_named("alice"))
            .filter(versions__stage=Stage.PRODUCTION, task_type=TaskType.CLASSIFICATION)
            .values_list("name", flat=True)
        )
    )
    sign_in(page, "alice")
    page.goto("/models/")
    page.get_by_role("link", name="In Production", exact=True).click()
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(page.get_by_label("Has a version in")).to_have_value(Stage.PRODUCTION)
    # The chip swaps in a new filter form; htmx wires it up when the swap settles.
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")

    with page.expect_response(re.compile(r"task_type=classification")):
        page.get_by_label("Task").select_option(label="Classification")
    expect(result_count(page)).to_have_text(models_text(len(expected)), timeout=2_000)
    assert tile_names(page) == expected
    expect(page.get_by_label("Has a version in")).to_have_value(Stage.PRODUCTION)
    assert "q=" not in page.url, "empty filter fields stay out of the shared URL"

    page.go_back()
    expect(page).to_have_url(IN_PRODUCTION_URL)
    expect(page.get_by_label("Task")).to_have_value("")
    page.go_forward()
    expect(page.get_by_label("Task")).to_have_value(TaskType.CLASSIFICATION)
    expect(page.get_by_label("Has a version in")).to_have_value(Stage.PRODUCTION)
