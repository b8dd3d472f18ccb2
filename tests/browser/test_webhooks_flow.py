"""alice, an Owner, adds a webhook on the Webhooks tab, copies its secret, sends a test event, and sees it delivered
(signed, to a real receiver on this machine) in the webhook's delivery log."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks.webhooks import Webhook as Verifier

from tests.browser.pages import ORGANIZATION_MODEL
from tests.helpers import screenshot, sign_in
from tests.tasks import run_tasks
from tests.webhooks.receiver import receiving

pytestmark = pytest.mark.browser


def test_an_owner_creates_a_webhook_sends_a_test_event_and_sees_the_delivery(
    demo_catalog: None, browser_page: Page, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_HTTP = settings.WEBHOOK_ALLOW_PRIVATE = True  # as in the demo: a receiver on this machine
    page = browser_page
    sign_in(page, "alice")
    page.goto(f"/models/{ORGANIZATION_MODEL}/")
    page.get_by_role("navigation", name="Model sections").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Add a webhook")).to_be_visible()

    with receiving() as receiver:
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("Release pipeline")
        page.get_by_label("Stage changed").check()
        page.get_by_role("button", name="Create webhook").click()

        expect(page.get_by_text("Webhook created. Copy its secret now")).to_be_visible()
        secret = page.locator("#webhook-secret").inner_text()
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{44}", secret)
        screenshot(page, "webhooks-01-created")

        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("Test event queued")).to_be_visible()
        run_tasks()  # the worker
        page.reload()

        log = page.get_by_role("region", name="Deliveries")
        row = log.get_by_role("row").filter(has_text="Test event")
        expect(row).to_contain_text("Delivered")
        expect(row).to_contain_text("HTTP 200")
        expect(row.get_by_role("button", name=re.compile("^Redeliver"))).to_be_visible()
        # The secret was shown once: the page reloaded does not show it again.
        expect(page.locator("#webhook-secret")).to_have_count(0)
        screenshot(page, "webhooks-02-delivered")

    [received] = receiver.received
    payload = Verifier(secret).verify(received.body, received.headers)
    assert payload["type"] == "webhook.test"
    assert json.loads(received.body)["data"]["model"]["slug"] == ORGANIZATION_MODEL
