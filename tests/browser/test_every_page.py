"""Every page (tests/browser/pages.py) fits a phone without sideways scrolling and has no serious accessibility
violations by axe-core, at phone and desktop sizes; on a phone the navigation folds into a menu that works."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.pages import PageVisit, demo_pages, framework_pages
from tests.helpers import NewContext, screenshot, sign_in, watch_csp_violations

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core, MPL-2.0; see vendor/README.md
BLOCKING_IMPACTS = {"serious", "critical"}
# axe marks these "moderate", yet each is a barrier the issue names, so they block too.
BLOCKING_RULES = {"heading-order", "link-in-text-block"}
VIEWPORTS = {"phone-360": (360, 740), "phone-390": (390, 844), "desktop": (1280, 800)}

# Elements wider than the window, deepest first, to say what overflows rather than only that something does.
OVERFLOWING = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5) return false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== 'visible' && up.getBoundingClientRect().right <= width + 0.5) return false;
    }
    return true;
  });
  const leaves = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
  return leaves.slice(0, 5).map((el) => {
    const id = el.id ? '#' + el.id : '';
    const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
    const cls = classes.map((name) => '.' + name).join('');
    return `${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(el.getBoundingClientRect().right)} px)`;
  });
}"""

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(
      (node) => node.target.join(' ') + ': ' + node.failureSummary.split('\\n').slice(1, 2).join(''),
    ),
  }));
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Violations axe-core finds on the page as it is now that are serious, critical or named in BLOCKING_RULES."""
    # Evaluated through the browser's debugging protocol rather than added as an inline <script>, which the
    # Content-Security-Policy would (rightly) refuse.
    page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS or v["id"] in BLOCKING_RULES]


def check_pages(new_context: NewContext, viewport: str, *, fit: bool, axe: bool = True) -> list[str]:
    """Visit every page at the viewport; the problems found (status, sideways overflow, axe), one line each."""
    width, height = VIEWPORTS[viewport]
    visits: dict[str | None, list[PageVisit]] = defaultdict(list)
    for visit in demo_pages():
        visits[visit.user].append(visit)
    problems = []
    for user, user_visits in visits.items():
        page = new_context().new_page()
        if user is not None:
            sign_in(page, user)  # at the desktop size, where "Signed in as" shows without opening the menu
        page.set_viewport_size({"width": width, "height": height})
        for visit in user_visits:
            response = page.goto(visit.path)
            assert response is not None
            where = f"{visit.name} ({visit.user or 'signed out'}, {visit.path})"
            if response.status != visit.status:
                problems.append(f"{where}: answered {response.status}, expected {visit.status}")
            if fit:
                scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                if scroll_width > inner_width:
                    culprits = "; ".join(page.evaluate(OVERFLOWING))
                    problems.append(f"{where}: {scroll_width} px wide in a {inner_width} px window: {culprits}")
            for violation in axe_violations(page) if axe else []:
                targets = "; ".join(violation["targets"])
                rule = f"{violation['impact']} {violation['id']} ({violation['help']})"
                problems.append(f"{where}: axe {rule}: {targets}")
            screenshot(page, f"pages/{viewport}-{visit.name}")
    return problems


def test_every_page_fits_a_small_phone_and_passes_axe(demo_catalog: None, new_context: NewContext) -> None:
    problems = check_pages(new_context, "phone-360", fit=True)
    assert not problems, f"{len(problems)} problems at 360 px:\n" + "\n".join(problems)


def test_every_page_fits_a_common_phone(demo_catalog: None, new_context: NewContext) -> None:
    problems = check_pages(new_context, "phone-390", fit=True, axe=False)  # what axe finds at 360 px holds here
    assert not problems, f"{len(problems)} problems at 390 px:\n" + "\n".join(problems)


def test_every_page_passes_axe_on_a_desktop(demo_catalog: None, new_context: NewContext) -> None:
    problems = check_pages(new_context, "desktop", fit=False)
    assert not problems, f"{len(problems)} problems on a desktop:\n" + "\n".join(problems)


def test_page_list_covers_every_persona_and_error_page(demo_catalog: None) -> None:
    visits = demo_pages()
    assert len({visit.name for visit in visits}) == len(visits), "page names must be unique (they name screenshots)"
    assert {visit.user for visit in visits} >= {None, "alice", "bob", "carol", "dave"}
    assert {visit.status for visit in visits} == {200, 403, 404}


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "no-js"])
def test_on_a_phone_the_navigation_folds_into_a_menu(
    demo_catalog: None, new_context: NewContext, java_script_enabled: bool
) -> None:
    page = new_context(java_script_enabled=java_script_enabled).new_page()
    sign_in(page, "bob")
    navigation = page.get_by_role("navigation", name="Main")
    menu = navigation.get_by_text("Menu", exact=True)
    expect(menu).to_be_hidden()  # a desktop shows every link in the bar
    expect(navigation.get_by_role("button", name="Sign out")).to_be_visible()

    page.set_viewport_size({"width": 360, "height": 740})
    expect(menu).to_be_visible()
    expect(navigation.get_by_role("link", name="Catalog", exact=True)).to_be_hidden()
    expect(navigation.get_by_role("button", name="Sign out")).to_be_hidden()
    menu.click()
    screenshot(page, f"phone-menu-open-{'js' if java_script_enabled else 'no-js'}")
    if java_script_enabled:  # axe-core is a script: it needs JavaScript to run
        assert not axe_violations(page)
    for name in ("Home", "Catalog", "Versions", "Activity", "API tokens"):
        expect(navigation.get_by_role("link", name=name, exact=True)).to_be_in_viewport()
    expect(navigation.get_by_text("Signed in as bob")).to_be_in_viewport()
    navigation.get_by_role("link", name=re.compile(r"^Pending Approvals \d+$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pending Approvals")
    expect(navigation.get_by_role("link", name="Catalog", exact=True)).to_be_hidden()  # a new page starts folded

    menu.click()
    sign_out = navigation.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_in_viewport()
    sign_out.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_every_page_keeps_to_the_content_security_policy(demo_catalog: None, new_context: NewContext) -> None:
    # The new_context fixture fails the test on any CSP violation; this walk adds the admin and the API docs, and
    # that the policy is enforced, not only reported.
    visits: dict[str | None, list[PageVisit]] = defaultdict(list)
    for visit in [*demo_pages(), *framework_pages()]:
        visits[visit.user].append(visit)
    for user, user_visits in visits.items():
        page = new_context().new_page()
        if user is not None:
            sign_in(page, user)
        for visit in user_visits:
            response = page.goto(visit.path)
            assert response is not None
            assert response.status == visit.status, visit
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy, f"{visit.name}: {policy!r}"
            assert "unsafe-inline" not in policy
            assert "content-security-policy-report-only" not in response.headers
            if visit.name == "api-docs":  # Swagger UI draws the operations with its own script
                expect(page.get_by_role("heading", name=re.compile("Model Catalog"))).to_be_visible()
                expect(page.get_by_text("/api/v1/versions", exact=True).first).to_be_visible()
                screenshot(page, "csp-api-docs")
            if visit.name == "admin-models":
                screenshot(page, "csp-admin-models")


def test_an_inline_style_or_script_is_refused_and_reported(
    demo_catalog: None, browser: Browser, live_server: LiveServer
) -> None:
    violations: list[str] = []
    context = browser.new_context(base_url=live_server.url)
    watch_csp_violations(context, violations)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate(
        """() => document.body.insertAdjacentHTML('beforeend',
          '<p id="injected" style="color: rgb(255, 0, 0)">injected</p>')"""
    )
    page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.injectedScriptRan = true';
                   document.body.append(s); }"""
    )
    page.wait_for_timeout(200)  # the violation events arrive through the exposed function
    assert page.evaluate("getComputedStyle(document.getElementById('injected')).color") != "rgb(255, 0, 0)"
    assert page.evaluate("window.injectedScriptRan") is None
    assert any("style-src-attr" in line for line in violations), violations
    assert any("script-src-elem" in line for line in violations), violations
    context.close()
