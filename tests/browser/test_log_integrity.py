"""What a person sees of the log's integrity: the Activity page says when the log was last verified and how far, or
that it failed and where; a renamed user keeps their old name in the history."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from playwright.sync_api import expect

from activity.db import TABLE, install_triggers, remove_triggers
from activity.models import ActivityEntry, ChainLink
from tests.helpers import NewContext, screenshot, sign_in


def test_the_activity_page_shows_the_last_verification_on_desktop_and_phone(
    demo_catalog: None, new_context: NewContext
) -> None:
    call_command("verify_activity_log", stdout=io.StringIO())
    head = ChainLink.objects.order_by("-seq").first()
    assert head is not None
    User.objects.filter(username="bob").update(username="robert")  # renamed in the admin after his reviews

    page = new_context().new_page()
    sign_in(page, "alice")
    page.goto("/activity/")

    status = page.get_by_role("status").filter(has_text="Log verified")
    expect(status).to_contain_text(f"up to entry {head.entry_id}")
    expect(status).to_contain_text("nothing was changed, removed or slipped in")
    feed = page.get_by_role("list", name="Activity")
    expect(feed.get_by_role("listitem").filter(has_text="bob").first).to_be_visible()
    expect(feed.get_by_role("listitem").filter(has_text="robert")).to_have_count(0)
    screenshot(page, "log-integrity-verified-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("status").filter(has_text="Log verified")).to_be_visible()
    screenshot(page, "log-integrity-verified-phone")


def test_the_activity_page_says_where_verification_failed(demo_catalog: None, new_context: NewContext) -> None:
    victim = ActivityEntry.objects.filter(comment__gt="").order_by("pk")[5]
    with transaction.atomic(), connection.cursor() as cursor:  # the database's owner, triggers off
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(f"UPDATE {TABLE} SET comment = 'Looks fine to me.' WHERE id = %s", [victim.pk])
        else:
            remove_triggers(connection)
            cursor.execute(f"UPDATE {TABLE} SET comment = 'Looks fine to me.' WHERE id = %s", [victim.pk])
            install_triggers(connection)
    with pytest.raises(CommandError, match="tampered with"):
        call_command("verify_activity_log", stdout=io.StringIO())

    page = new_context().new_page()
    sign_in(page, "carol")
    page.goto("/activity/")

    alert = page.get_by_role("alert").filter(has_text="The log failed verification")
    expect(alert).to_contain_text(f"Entry {victim.pk}")
    expect(alert).to_contain_text("does not match its hash")
    screenshot(page, "log-integrity-failed-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "log-integrity-failed-phone")
