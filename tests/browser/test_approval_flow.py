"""The approval workflow in the browser: alice requests stage changes on the version page, bob approves from his
inbox or rejects from the model's Pending Approvals tab, alice cancels; a viewer and an outsider cannot act."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from approvals import selectors, services
from approvals.models import StageChangeRequest, Status
from catalog import permissions as catalog_permissions
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage, Visibility
from tests.helpers import (
    NewContext,
    assert_same_document,
    mark_document,
    screenshot,
    sign_in,
    signed_in_page,
    user_named,
    version_url,
    wait_for_htmx,
)

pytestmark = pytest.mark.browser

OPEN_FOR_ALICE = {
    "model__owner__username": "alice",
    "model__required_approvals": 1,
    "lock_level": LockLevel.OPEN,
}


def open_version(stage: Stage, **conditions: object) -> ModelVersion:
    """A version of a model alice owns, needing one approval, not locked, with no pending request."""
    version = (
        ModelVersion.objects.filter(stage=stage, **OPEN_FOR_ALICE, **conditions)
        .exclude(change_requests__status=Status.PENDING)
        .select_related("model")
        .order_by("model__name", "name")
        .first()
    )
    assert version is not None, f"the demo data has no open {stage} version of alice's"
    return version


def requested_by_alice(stage: Stage, to_stage: Stage, comment: str) -> StageChangeRequest:
    """A pending request alice made on one of her versions, as if she had used the version page."""
    version = open_version(stage)
    return services.request_stage_change(actor=user_named("alice"), version=version, to_stage=to_stage, comment=comment)


def model_url(model: RegisteredModel) -> str:
    return reverse("catalog:model-detail", args=[model.slug])


def request_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Stage change request")


def stage_select(page: Page) -> Locator:
    return page.get_by_label("Stage", exact=True)


def activity(page: Page) -> Locator:
    return page.get_by_role("list", name="Activity").get_by_role("listitem")


def choose_stage(page: Page, label: str) -> Locator:
    """Pick a target in the Stage select and wait for the request panel it opens."""
    stage_select(page).select_option(label=label)
    panel = request_panel(page)
    expect(panel.get_by_role("heading", name=re.compile(rf"^Request a move from \w+ to {label}$"))).to_be_visible()
    wait_for_htmx(page)
    return panel


def nav_inbox(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Pending Approvals"))


def test_alice_requests_staging_with_a_comment_and_sees_the_request_panel(
    demo_catalog: None, browser_page: Page
) -> None:
    page = browser_page
    version = open_version(Stage.DEVELOPMENT)
    comment = "Offline AUC beats the current Staging version by 1.4 points."
    sign_in(page, "alice")
    page.goto(version_url(version))
    expect(page.locator("#stage-badge")).to_have_text("Development")
    mark_document(page)

    panel = choose_stage(page, "Staging")
    expect(panel.get_by_role("alert")).to_have_count(0)  # one step forward skips nothing
    expect(panel.get_by_text("Needs 1 approval from reviewers other than you.")).to_be_visible()
    panel.get_by_label("Comment", exact=True).fill(comment)
    screenshot(page, "approvals-01-alice-composes-a-staging-request")
    panel.get_by_role("button", name="Request", exact=True).click()

    expect(panel.get_by_role("heading", name="Stage change waiting for approval")).to_be_visible()
    expect(panel.get_by_role("status")).to_have_text("Requested. Reviewers have been notified.")
    expect(panel).to_match_aria_snapshot("- paragraph: Development to Staging")
    expect(panel).to_contain_text("Requested by alice")
    expect(panel).to_contain_text("approvals 0 of 1")
    expect(panel.get_by_text(comment, exact=True)).to_be_visible()
    expect(panel.get_by_role("button", name="Cancel request")).to_be_visible()
    expect(panel.get_by_role("button", name="Approve")).to_have_count(0)  # the requester cannot approve
    expect(page.locator("#stage-badge")).to_have_text("Development")
    expect(stage_select(page)).to_have_count(0)
    expect(page.get_by_text("A stage change is waiting for approval.")).to_be_visible()
    expect(activity(page).first).to_contain_text(f"alice requested moving {version.name} from Development to Staging")
    expect(activity(page).first).to_contain_text(comment)
    assert_same_document(page)
    screenshot(page, "approvals-02-alice-sees-her-pending-request")

    pending = StageChangeRequest.objects.get(version=version, status=Status.PENDING)
    assert (pending.to_stage, pending.comment, pending.requester.username) == (Stage.STAGING, comment, "alice")


def test_bob_approves_from_his_inbox_and_the_version_moves_to_staging(
    demo_catalog: None, new_context: NewContext
) -> None:
    change_request = requested_by_alice(Stage.DEVELOPMENT, Stage.STAGING, "Ready for release checks.")
    version, model = change_request.version, change_request.version.model
    bob_user = user_named("bob")
    waiting = selectors.inbox_count(user=bob_user)
    to_staging = selectors.inbox(user=bob_user).filter(to_stage=Stage.STAGING).count()
    assert to_staging < selectors.inbox(user=bob_user).count()  # the filter has something to remove
    alice = signed_in_page(new_context, "alice")
    alice.goto(version_url(version))
    expect(request_panel(alice).get_by_role("heading", name="Stage change waiting for approval")).to_be_visible()

    bob = signed_in_page(new_context, "bob")
    expect(bob.locator("#inbox-count")).to_have_text(str(waiting))
    nav_inbox(bob).click()
    expect(bob.get_by_role("heading", level=1)).to_have_text("Pending Approvals")
    mark_document(bob)
    bob.get_by_label("Target stage").select_option(label="Staging")
    expect(bob).to_have_url(re.compile(r"[?&]to_stage=staging(&|$)"))
    results = bob.get_by_role("region", name="Waiting for your review")
    expect(results.get_by_role("article")).to_have_count(min(to_staging, 24))
    wait_for_htmx(bob)
    card = results.get_by_role("article", name=f"Request for {version.name}")
    expect(card.get_by_role("link", name=model.name)).to_be_visible()
    expect(card).to_match_aria_snapshot("- paragraph: Development to Staging")
    expect(card).to_contain_text("Ready for release checks.")
    expect(card).to_contain_text("approvals 0 of 1")
    card.get_by_label("Comment", exact=True).fill("Release checks look fine.")
    screenshot(bob, "approvals-03-bob-inbox-before-approving")
    card.get_by_role("button", name="Approve").click()

    expect(card).to_contain_text("Approved by bob")
    expect(card).to_contain_text("approvals 1 of 1")
    expect(card.get_by_text("Release checks look fine.")).to_be_visible()
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(card.get_by_role("link", name=model.name)).to_be_visible()
    expect(bob.locator("#inbox-count")).to_have_text(str(waiting - 1))
    assert_same_document(bob)
    screenshot(bob, "approvals-04-bob-inbox-after-approving")

    card.get_by_role("link", name=version.name, exact=True).click()
    expect(bob.get_by_role("heading", level=1)).to_have_text(f"{model.name} · {version.name}")
    expect(bob.locator("#stage-badge")).to_have_text("Staging")
    approval = activity(bob).filter(has_text=f"bob approved moving {version.name} from Development to Staging")
    expect(approval).to_contain_text("Release checks look fine.")
    expect(activity(bob).filter(has_text=f"moved {version.name} from Development to Staging")).to_have_count(1)
    screenshot(bob, "approvals-05-version-in-staging-after-approval")

    alice.reload()
    expect(alice.locator("#stage-badge")).to_have_text("Staging")
    expect(request_panel(alice).get_by_role("heading")).to_have_count(0)
    expect(stage_select(alice)).to_be_visible()
    version.refresh_from_db()
    change_request.refresh_from_db()
    assert (version.stage, change_request.status) == (Stage.STAGING, Status.APPROVED)


def test_alice_requests_production_then_cancels_and_the_activity_shows_it(
    demo_catalog: None, browser_page: Page
) -> None:
    page = browser_page
    version = open_version(Stage.STAGING, model__production_count__gt=0)
    in_production = list(
        version.model.versions.filter(stage=Stage.PRODUCTION).order_by("name").values_list("name", flat=True)
    )
    sign_in(page, "alice")
    page.goto(version_url(version))
    mark_document(page)

    panel = choose_stage(page, "Production")
    expect(panel.get_by_role("alert")).to_have_count(0)  # Staging to Production skips nothing
    archive = panel.get_by_role(
        "checkbox", name=re.compile(rf"^Archive the {len(in_production)} versions? now in Production \(")
    )
    expect(archive).to_be_visible()
    expect(archive).not_to_be_checked()
    expect(panel).to_contain_text(in_production[0])
    archive.check()
    panel.get_by_label("Comment", exact=True).fill("Canary is green.")
    panel.get_by_role("button", name="Request", exact=True).click()
    expect(panel.get_by_role("heading", name="Stage change waiting for approval")).to_be_visible()
    expect(panel).to_match_aria_snapshot("- paragraph: Staging to Production archives the versions in Production")
    wait_for_htmx(page)
    screenshot(page, "approvals-06-alice-pending-production-request")

    panel.get_by_role("button", name="Cancel request").click()
    expect(panel.get_by_role("status")).to_have_text("Request cancelled.")
    expect(panel.get_by_role("heading")).to_have_count(0)
    expect(page.locator("#stage-badge")).to_have_text("Staging")
    expect(stage_select(page)).to_be_visible()
    expect(stage_select(page)).to_have_value("")
    expect(activity(page).first).to_contain_text(
        f"alice cancelled the request to move {version.name} from Staging to Production"
    )
    expect(activity(page).nth(1)).to_contain_text(f"alice requested moving {version.name} from Staging to Production")
    assert_same_document(page)
    screenshot(page, "approvals-07-alice-cancelled-the-request")

    assert StageChangeRequest.objects.get(version=version, to_stage=Stage.PRODUCTION).status == Status.CANCELLED
    still = version.model.versions.filter(stage=Stage.PRODUCTION).order_by("name").values_list("name", flat=True)
    assert list(still) == in_production


def test_a_request_from_unassigned_to_production_shows_the_skip_warning(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    version = open_version(Stage.UNASSIGNED)
    sign_in(page, "alice")
    page.goto(version_url(version))
    mark_document(page)

    panel = choose_stage(page, "Development")
    expect(panel.get_by_role("alert")).to_have_count(0)
    panel = choose_stage(page, "Production")
    warning = panel.get_by_role("alert")
    expect(warning).to_contain_text("This skips Development and Staging.")
    screenshot(page, "approvals-08-skip-warning")

    panel.get_by_label("Comment", exact=True).fill("Hotfix: the current Production version leaks PII.")
    panel.get_by_role("button", name="Request", exact=True).click()
    expect(panel.get_by_role("heading", name="Stage change waiting for approval")).to_be_visible()
    expect(panel.get_by_text("Skips Development and Staging")).to_be_visible()
    expect(activity(page).first).to_contain_text(
        f"alice requested moving {version.name} from Unassigned to Production skips Development and Staging"
    )
    assert_same_document(page)
    screenshot(page, "approvals-09-pending-request-that-skips-stages")
    assert StageChangeRequest.objects.get(version=version, status=Status.PENDING).skips_stages


def test_bob_rejects_with_a_comment_and_alice_sees_why(demo_catalog: None, new_context: NewContext) -> None:
    change_request = requested_by_alice(Stage.DEVELOPMENT, Stage.STAGING, "Please promote.")
    version, model = change_request.version, change_request.version.model
    reason = "Calibration is off on the new segment; retrain with the fixed labels."
    bob_user = user_named("bob")
    waiting = selectors.inbox_count(user=bob_user)
    pending_here = selectors.pending_count_for_model(model=model)

    bob = signed_in_page(new_context, "bob")
    bob.goto(model_url(model))
    mark_document(bob)
    tabs = bob.get_by_role("navigation", name="Model sections")
    tabs.get_by_role("link", name=re.compile(r"^Pending Approvals")).click()
    expect(bob.locator("#pending-count")).to_have_text(str(pending_here))
    expect(bob).to_have_url(re.compile(rf"/models/{model.slug}/pending/$"))
    wait_for_htmx(bob)
    card = bob.get_by_role("region", name="Pending approvals").get_by_role(
        "article", name=f"Request for {version.name}"
    )
    expect(card).to_contain_text("Please promote.")
    card.get_by_label("Comment", exact=True).fill(reason)
    card.get_by_role("button", name="Reject").click()

    expect(card).to_contain_text("Rejected by bob")
    reviews = card.get_by_role("list", name="Reviews")
    expect(reviews).to_contain_text("bob rejected")
    expect(reviews.get_by_text(reason, exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Reject")).to_have_count(0)
    expect(bob.locator("#pending-count")).to_have_text(str(pending_here - 1))
    expect(bob.locator("#inbox-count")).to_have_text(str(waiting - 1))
    assert_same_document(bob)
    screenshot(bob, "approvals-10-bob-rejected-in-the-pending-tab")

    alice = signed_in_page(new_context, "alice")
    alice.goto(version_url(version))
    expect(alice.locator("#stage-badge")).to_have_text("Development")
    expect(request_panel(alice).get_by_role("heading")).to_have_count(0)
    expect(stage_select(alice)).to_be_visible()
    rejection = activity(alice).first
    expect(rejection).to_contain_text(f"bob rejected moving {version.name} from Development to Staging")
    expect(rejection.get_by_text(reason, exact=True)).to_be_visible()
    screenshot(alice, "approvals-11-alice-sees-the-rejection")
    change_request.refresh_from_db()
    assert (change_request.status, change_request.resolved_by) == (Status.REJECTED, bob_user)


def test_viewer_sees_a_pending_request_but_cannot_request_or_review(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    carol = user_named("carol")
    change_request = next(
        r
        for r in StageChangeRequest.objects.filter(status=Status.PENDING)
        .select_related("version__model", "requester")
        .order_by("version__model__name")
        if catalog_permissions.can_view_model(carol, r.version.model)
        and not catalog_permissions.Access(carol).holds(r.version.model, catalog_permissions.REQUEST)
        and not catalog_permissions.Access(carol).holds(r.version.model, catalog_permissions.REVIEW)
    )
    version, model = change_request.version, change_request.version.model
    sign_in(page, "carol")
    expect(page.locator("#inbox-count")).to_have_text("0")
    page.goto(version_url(version))

    panel = request_panel(page)
    expect(panel.get_by_role("heading", name="Stage change waiting for approval")).to_be_visible()
    expect(panel).to_contain_text(f"Requested by {change_request.requester.username}")
    expect(stage_select(page)).to_have_count(0)
    expect(page.get_by_label("Comment", exact=True)).to_have_count(0)
    for button in ("Approve", "Reject", "Cancel request", "Set lock level"):
        expect(page.get_by_role("button", name=button)).to_have_count(0)
    screenshot(page, "approvals-12-viewer-on-a-version-with-a-pending-request")

    page.goto(reverse("approvals:model-pending", args=[model.slug]))
    card = page.get_by_role("article", name=f"Request for {version.name}")
    expect(card).to_be_visible()
    expect(card.get_by_role("button")).to_have_count(0)

    quiet = model.versions.exclude(change_requests__status=Status.PENDING).filter(lock_level=LockLevel.OPEN).first()
    assert quiet is not None
    page.goto(version_url(quiet))
    expect(page.locator("#stage-badge")).to_be_visible()
    expect(stage_select(page)).to_have_count(0)


def test_outsider_gets_not_found_on_a_private_version_page(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    dave = user_named("dave")
    change_request = (
        StageChangeRequest.objects.filter(status=Status.PENDING, version__model__visibility=Visibility.PRIVATE)
        .select_related("version__model")
        .order_by("pk")
        .first()
    )
    assert change_request is not None
    version, model = change_request.version, change_request.version.model
    assert not catalog_permissions.can_view_model(dave, model)
    sign_in(page, "dave")

    for url in (version_url(version), reverse("approvals:model-pending", args=[model.slug])):
        response = page.goto(url)
        assert response is not None
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.get_by_text(model.name)).to_have_count(0)
        expect(page.get_by_text(version.name)).to_have_count(0)
    screenshot(page, "approvals-13-outsider-gets-not-found")

    nav_inbox(page).click()
    expect(page.get_by_text("Nothing is waiting for your review.")).to_be_visible()
    expect(page.get_by_role("link", name=model.name)).to_have_count(0)
