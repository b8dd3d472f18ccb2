"""Debian's Chromium driven by Playwright against the live server, with the demo catalog loaded."""

from __future__ import annotations

import io
import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.helpers import NewContext, screenshot, watch_csp_violations

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = (
    f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` to run browser tests"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def _allow_orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API marks an asyncio loop as running in the main thread from start to stop, so Django
    # refuses ORM calls made there (the demo data, the assertions against the database, the flush after each
    # test) with SynchronousOnlyOperation. Nothing here is async: the requests run in the live server's thread.
    # Scoped to this package, and Playwright is stopped before it is undone, so other tests keep the check.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser(_allow_orm_beside_playwright: None) -> Iterator[Browser]:
    """One Chromium for all browser tests; missing, it skips them, or fails them when CI sets REQUIRE_BROWSER=1."""
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(CHROMIUM_MISSING)
        pytest.skip(CHROMIUM_MISSING)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# The demo catalog's rows as seed_demo first wrote them, per test database (one per pytest worker): a table name and
# its rows in COPY's binary format, for every table of the project's models.
_DEMO_ROWS: dict[str, list[tuple[str, bytes]]] = {}


@pytest.fixture
def demo_catalog(transactional_db: None) -> None:
    """The demo users (password "demo"), groups, models, versions and history, as `make demo` shows them.

    seed_demo walks hundreds of requests and reviews through the services (about 12 s). On PostgreSQL it runs once per
    test database; later tests get the same rows copied back, byte for byte (the log's times and chain included)."""
    if connection.vendor != "postgresql":
        call_command("seed_demo", stdout=io.StringIO())
        return
    name = connection.settings_dict["NAME"]
    if name in _DEMO_ROWS:
        _copy_back(_DEMO_ROWS[name])
        return
    call_command("seed_demo", stdout=io.StringIO())
    _DEMO_ROWS[name] = _copy_out()


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def _copy_out() -> list[tuple[str, bytes]]:
    rows = []
    with connection.cursor() as cursor:
        for table in _tables():
            with cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT (FORMAT binary)") as copy:
                rows.append((table, b"".join(bytes(block) for block in copy)))
    return rows


def _copy_back(rows: list[tuple[str, bytes]]) -> None:
    """Empty every table and copy the rows back, with triggers off (as a restore does): the log's append-only and
    chain triggers would refuse the TRUNCATE and link the entries again; foreign keys hold, as they held when copied."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(f"TRUNCATE {', '.join(quote(table) for table in _tables())}")
            for table, data in rows:
                with cursor.copy(f"COPY {quote(table)} FROM STDIN (FORMAT binary)") as copy:
                    copy.write(data)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
    ContentType.objects.clear_cache()  # the flush before made content types anew, under other keys


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[NewContext]:
    """Open fresh browser contexts (one per user) on the live server; fail the test on any JavaScript error or
    Content-Security-Policy violation."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A page answered with 4xx shows "Failed to load resource"; tests assert those statuses themselves.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    def open_context(*, java_script_enabled: bool = True) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 800}, java_script_enabled=java_script_enabled
        )
        context.set_default_timeout(TIMEOUT_MS)
        watch_csp_violations(context, errors)
        context.on("console", on_console)
        context.on("weberror", lambda error: errors.append(f"uncaught: {error.error}"))
        contexts.append(context)
        return context

    yield open_context
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                screenshot(page, f"FAILED-{request.node.name}-{n}-{m}")
    for context in contexts:
        context.close()
    assert not errors, "JavaScript errors or CSP violations in the browser:\n" + "\n".join(errors)


@pytest.fixture
def browser_page(new_context: NewContext) -> Page:
    """A page in a fresh browser context with JavaScript on."""
    return new_context().new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep the call's report on the test so `new_context` can screenshot the pages of a failed test.
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
