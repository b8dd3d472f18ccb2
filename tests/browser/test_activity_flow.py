"""The activity log in the browser: filtering the Activity page in place, walking its pages, a version's stage
timeline, comments on a version, the model card's "Stages as of…" tab and the home page's Production chart."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from activity import permissions as activity_permissions
from activity import selectors
from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest, Status
from catalog import permissions as catalog_permissions
from catalog import selectors as catalog_selectors
from catalog.dashboard import LEAD_TIME_SAMPLE, home_stats
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

PAGE_SIZE = selectors.ACTIVITY_PAGE_SIZE
FILTERED_URL = re.compile(r"/activity/\?(?=.*\bactor=bob(&|$))(?=.*\bstage=production(&|$))")
UNFILTERED_URL = re.compile(r"/activity/$")


def entries(page: Page) -> Locator:
    return page.get_by_role("list", name="Activity").get_by_role("listitem")


def entry_times(page: Page) -> list[datetime]:
    """When each listed entry happened, from its machine-readable time."""
    times = entries(page).locator("time").all()
    return [datetime.fromisoformat(time.get_attribute("datetime") or "") for time in times]


def newest_first(username: str) -> list[ActivityEntry]:
    return list(selectors.visible_entries(user=user_named(username)).order_by("-created_at", "-pk"))


def test_activity_filters_in_place_and_an_entry_leads_to_the_version_timeline(
    demo_catalog: None, browser_page: Page
) -> None:
    page = browser_page
    matching = list(
        selectors.visible_entries(user=user_named("alice"))
        .filter(actor__username="bob", to_stage=Stage.PRODUCTION)
        .select_related("model", "version")
        .order_by("-created_at", "-pk")
    )
    everything = newest_first("alice")
    assert 0 < len(matching) < len(everything)  # the filters have something to remove
    sign_in(page, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity", exact=True).click()
    expect(page).to_have_url(UNFILTERED_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    expect(entries(page)).to_have_count(PAGE_SIZE)
    assert entry_times(page) == [entry.created_at for entry in everything[:PAGE_SIZE]]
    screenshot(page, "activity-01-unfiltered")
    mark_document(page)

    actor = page.get_by_label("Actor (username)")
    with page.expect_request(re.compile(r"[?&]actor=bob(&|$)")) as request:
        actor.fill("bob")
    assert request.value.headers.get("hx-request") == "true"
    wait_for_htmx(page)
    with page.expect_request(re.compile(r"[?&]stage=production(&|$)")) as request:
        page.get_by_label("Target stage").select_option(label="Production")
    assert request.value.headers.get("hx-request") == "true"
    expect(page).to_have_url(FILTERED_URL)
    shown = min(len(matching), PAGE_SIZE)
    expect(entries(page)).to_have_count(shown)
    wait_for_htmx(page)
    assert_same_document(page)
    assert entry_times(page) == [entry.created_at for entry in matching[:shown]]
    for entry in entries(page).all():
        expect(entry.get_by_role("strong")).to_have_text("bob")  # who acted
        expect(entry).to_contain_text(re.compile(r"\bfrom\s+\w+\s+to\s+Production\b"))
        expect(entry.get_by_text("Production", exact=True)).to_be_visible()  # the target stage's badge
    screenshot(page, "activity-02-filtered-to-bob-and-production")

    page.reload()
    expect(page).to_have_url(FILTERED_URL)
    expect(page.get_by_label("Actor (username)")).to_have_value("bob")
    expect(page.get_by_label("Target stage")).to_have_value(Stage.PRODUCTION)
    expect(entries(page)).to_have_count(shown)
    assert entry_times(page) == [entry.created_at for entry in matching[:shown]]

    approval = next(e for e in matching if e.verb in (Verb.STAGE_CHANGE_APPROVED, Verb.STAGE_CHANGED))
    version, model = approval.version, approval.model
    assert version is not None
    assert model is not None
    listed = entries(page).nth(matching.index(approval))
    listed.get_by_role("link", name=version.name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(version_url(version))}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{model.name} · {version.name}")
    timeline = page.get_by_role("region", name="Stage timeline")
    chart = timeline.get_by_role("img", name=re.compile(rf"^Stage timeline of version {re.escape(version.name)}: "))
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 500
    assert box["height"] > 10
    stage_list = timeline.get_by_role("list", name=f"Stages of version {version.name}, oldest first")
    stages = stage_list.get_by_role("listitem")
    moves = ActivityEntry.objects.filter(version=version, verb=Verb.STAGE_CHANGED).count()
    expect(stages).to_have_count(moves + 1)
    expect(chart.locator("rect")).to_have_count(moves + 1)
    expect(stages.first).to_contain_text("Registered without a stage.")
    in_production = stages.filter(has=page.get_by_text("Production", exact=True))
    expect(in_production).to_contain_text(re.compile(r"Approved by (\w+, )*bob\b.*; requested by alice\."))
    screenshot(page, "activity-03-version-stage-timeline")

    page.go_back()
    expect(page).to_have_url(FILTERED_URL)
    expect(page.get_by_label("Actor (username)")).to_have_value("bob")
    expect(entries(page)).to_have_count(shown)
    page.go_back()  # the actor and the stage each pushed an entry onto the history
    expect(page).to_have_url(re.compile(r"/activity/\?actor=bob$"))
    expect(page.get_by_label("Target stage")).to_have_value("")
    page.go_back()
    expect(page).to_have_url(UNFILTERED_URL)
    expect(entries(page)).to_have_count(PAGE_SIZE)
    assert entry_times(page) == [entry.created_at for entry in everything[:PAGE_SIZE]]
    expect(page.get_by_label("Actor (username)")).to_have_value("")
    expect(page.get_by_label("Target stage")).to_have_value("")
    screenshot(page, "activity-04-back-to-unfiltered")


def test_older_and_newer_walk_the_activity_pages_without_repeating_an_entry(
    demo_catalog: None, browser_page: Page
) -> None:
    page = browser_page
    everything = newest_first("alice")
    assert len(everything) > 2 * PAGE_SIZE
    sign_in(page, "alice")
    page.goto(reverse("activity:activity-list"))
    mark_document(page)
    pagination = page.get_by_role("navigation", name="Pagination")
    expect(pagination.get_by_role("link", name="← Newer")).to_have_count(0)
    first_texts = [text.strip() for text in entries(page).all_inner_texts()]
    first_times = entry_times(page)
    assert first_times == [entry.created_at for entry in everything[:PAGE_SIZE]]

    pagination.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"/activity/\?before=\d+_\d+$"))
    expect(pagination.get_by_role("link", name="← Newer")).to_be_visible()
    wait_for_htmx(page)
    second_texts = [text.strip() for text in entries(page).all_inner_texts()]
    second_times = entry_times(page)
    assert second_times == [entry.created_at for entry in everything[PAGE_SIZE : 2 * PAGE_SIZE]]
    assert not set(zip(first_times, first_texts, strict=True)) & set(zip(second_times, second_texts, strict=True))
    assert max(second_times) <= min(first_times)
    assert_same_document(page)
    screenshot(page, "activity-05-second-page")

    pagination.get_by_role("link", name="Older →").click()
    wait_for_htmx(page)
    third_times = entry_times(page)
    assert third_times == [entry.created_at for entry in everything[2 * PAGE_SIZE : 3 * PAGE_SIZE]]

    pagination.get_by_role("link", name="← Newer").click()
    wait_for_htmx(page)
    assert entry_times(page) == second_times
    pagination.get_by_role("link", name="← Newer").click()
    wait_for_htmx(page)
    assert entry_times(page) == first_times
    assert [text.strip() for text in entries(page).all_inner_texts()] == first_texts
    expect(pagination.get_by_role("link", name="← Newer")).to_have_count(0)
    assert_same_document(page)


def commentable_version(commenter: str) -> ModelVersion:
    """A Staging version commenter reviews but does not edit, with no pending request: one Comment box on its page."""
    for version in (
        ModelVersion.objects.filter(stage=Stage.STAGING, lock_level=LockLevel.OPEN)
        .exclude(change_requests__status=Status.PENDING)
        .select_related("model")
        .order_by("model__name", "name")
    ):
        if activity_permissions.may_comment(user_named(commenter), version.model) and not (
            catalog_permissions.may_edit_model(user_named(commenter), version.model)
        ):
            return version
    raise AssertionError(f"the demo data has no version {commenter} reviews without editing")


def activity_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Activity")


def test_a_reviewer_comments_on_a_version_and_a_viewer_cannot(demo_catalog: None, new_context: NewContext) -> None:
    version = commentable_version("bob")
    comment = "Shadow traffic matched the current Production version within 0.2% for a week."
    bob = signed_in_page(new_context, "bob")
    bob.goto(version_url(version))
    panel = activity_panel(bob)
    box = panel.get_by_role("textbox", name="Comment")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("placeholder", "Add a note to this version's history")
    before = entries(bob).count()
    comments = ActivityEntry.objects.filter(version=version, verb=Verb.COMMENTED)
    earlier = comments.count()
    mark_document(bob)

    box.fill(comment)
    panel.get_by_role("button", name="Comment", exact=True).click()
    newest = entries(bob).first
    expect(newest).to_contain_text(f"bob commented on {version.name}")
    expect(newest.get_by_text(comment, exact=True)).to_be_visible()
    expect(newest).to_contain_text("just now")
    expect(activity_panel(bob).get_by_role("textbox", name="Comment")).to_have_value("")
    expect(entries(bob)).to_have_count(min(before + 1, selectors.FEED_PAGE_SIZE))
    assert_same_document(bob)
    screenshot(bob, "activity-06-bob-commented")
    assert comments.count() == earlier + 1
    saved = comments.latest("created_at", "pk")
    assert (saved.actor.username, saved.comment) == ("bob", comment)

    panel = activity_panel(bob)
    box = panel.get_by_role("textbox", name="Comment")
    panel.get_by_role("button", name="Comment", exact=True).click()  # empty: the browser holds it back
    assert box.evaluate("box => box.validity.valueMissing")
    box.fill("   ")
    panel.get_by_role("button", name="Comment", exact=True).click()
    panel = activity_panel(bob)
    expect(panel.get_by_role("alert")).to_have_text("Write a comment first.")
    expect(entries(bob).first.get_by_text(comment, exact=True)).to_be_visible()
    assert comments.count() == earlier + 1
    assert_same_document(bob)
    screenshot(bob, "activity-07-empty-comment-refused")

    carol_user = user_named("carol")  # a Viewer of every private model
    watched = next(
        m
        for m in RegisteredModel.objects.filter(visibility=Visibility.PRIVATE).order_by("name")
        if catalog_permissions.can_view_model(carol_user, m)
    )
    assert not activity_permissions.may_comment(carol_user, watched)
    shown = watched.versions.order_by("name").first()
    assert shown is not None
    carol = signed_in_page(new_context, "carol")
    carol.goto(version_url(shown))
    expect(activity_panel(carol).get_by_role("heading", name="Activity")).to_be_visible()
    expect(entries(carol).first).to_be_visible()
    expect(carol.get_by_role("textbox", name="Comment")).to_have_count(0)
    expect(carol.get_by_role("button", name="Comment", exact=True)).to_have_count(0)
    screenshot(carol, "activity-08-viewer-sees-no-comment-box")


def stages_at(versions: Iterable[ModelVersion], moments: list[datetime]) -> list[dict[str, list[str]]]:
    """The names of the versions in each stage at each moment, replaying their stage changes in the log."""
    versions = list(versions)
    moves: dict[int, list[ActivityEntry]] = {}
    log = ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, version__in=versions).order_by("created_at", "pk")
    for move in log:
        assert move.version_id is not None
        moves.setdefault(move.version_id, []).append(move)
    answers = []
    for moment in moments:
        answer: dict[str, list[str]] = {stage: [] for stage in Stage.values}
        for version in versions:
            if version.created_at > moment:
                continue
            own = moves.get(version.pk, [])
            earlier = [move for move in own if move.created_at <= moment]
            stage = earlier[-1].to_stage if earlier else own[0].from_stage if own else version.stage
            answer[stage].append(version.name)
        answers.append({stage: sorted(names) for stage, names in answer.items()})
    return answers


def end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) - timedelta(microseconds=1)


def shown_stages(as_of: Locator) -> dict[str, list[str]]:
    """The names of the versions each stage card lists, checking that its heading counts them."""
    expect(as_of.get_by_role("heading", level=3)).to_have_count(len(Stage))
    shown = {}
    for stage in Stage:
        heading = as_of.get_by_role("heading", name=re.compile(rf"^{stage.label} \d+ versions?$"))
        names = sorted(as_of.get_by_role("list", name=f"In {stage.label}").get_by_role("link").all_inner_texts())
        expect(heading).to_have_text(f"{stage.label} {len(names)} version{'' if len(names) == 1 else 's'}")
        shown[stage.value] = names
    return shown


def test_stages_as_of_a_moment_on_the_model_card(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    model = max(RegisteredModel.objects.filter(owner__username="alice"), key=lambda m: (m.versions.count(), m.name))
    # A minute after one of its stage changes, on the minute the field accepts: the one that finds its versions
    # spread over the most stages.
    moved = ActivityEntry.objects.filter(model=model, verb=Verb.STAGE_CHANGED).values_list("created_at", flat=True)
    moments = sorted({timezone.localtime(at).replace(second=0, microsecond=0) + timedelta(minutes=1) for at in moved})
    spread, moment, then = max(
        (sum(bool(names) for names in stages.values()), at, stages)
        for at, stages in zip(moments, stages_at(model.versions.all(), moments), strict=True)
    )
    assert spread >= 3, then
    in_production = then[Stage.PRODUCTION][0]
    arrival = ActivityEntry.objects.filter(
        version__model=model, version__name=in_production, verb=Verb.STAGE_CHANGED, created_at__lte=moment
    ).latest("created_at", "pk")
    sign_in(page, "alice")
    page.goto(reverse("catalog:model-detail", args=[model.slug]))
    mark_document(page)

    page.get_by_role("navigation", name="Model sections").get_by_role("link", name="Stages as of…").click()
    expect(page).to_have_url(re.compile(rf"/models/{model.slug}/history/$"))
    as_of = page.get_by_role("region", name="What was in each stage at a given moment")
    expect(as_of).to_be_visible()
    expect(page.get_by_text("Pick a date and time to see which versions were in")).to_be_visible()
    wait_for_htmx(page)
    page.get_by_label("Date and time").fill(moment.strftime("%Y-%m-%dT%H:%M"))
    screenshot(page, "activity-09-stages-as-of-form")
    page.get_by_role("button", name="Show stages").click()

    expect(page).to_have_url(re.compile(rf"/models/{model.slug}/history/\?at=\d{{4}}-\d\d-\d\dT\d\d%3A\d\d$"))
    expect(as_of.get_by_text(f"At {moment:%Y-%m-%d %H:%M} UTC, from the activity log:")).to_be_visible()
    assert shown_stages(as_of) == then
    production = as_of.get_by_role("list", name="In Production")
    card_entry = production.get_by_role("listitem").filter(has=page.get_by_role("link", name=in_production, exact=True))
    expect(card_entry).to_contain_text(f"since {timezone.localtime(arrival.created_at):%Y-%m-%d %H:%M}")
    assert_same_document(page)
    screenshot(page, "activity-10-stages-as-of-a-moment")

    page.get_by_label("Date and time").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Show stages").click()
    wait_for_htmx(page)
    expect(as_of.get_by_text(re.compile(rf"^At {timezone.localtime():%Y-%m-%d} "))).to_be_visible()
    now = {stage: sorted(model.versions.filter(stage=stage).values_list("name", flat=True)) for stage in Stage.values}
    assert shown_stages(as_of) == now
    assert now != then

    page.get_by_label("Date and time").fill((timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Show stages").click()
    expect(page.get_by_role("alert")).to_have_text("That moment is in the future; pick one up to now.")
    screenshot(page, "activity-11-stages-as-of-the-future")


def test_home_shows_the_production_chart_and_lead_times(demo_catalog: None, browser_page: Page) -> None:
    page = browser_page
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(89, -1, -1)]
    visible = catalog_selectors.visible_versions(user=user_named("alice"))
    counts = [len(stages[Stage.PRODUCTION]) for stages in stages_at(visible, [end_of(day) for day in days])]
    assert counts[-1] == home_stats(user=user_named("alice")).production_count
    peak = max(zip(counts, days, strict=True))
    low = min(zip(counts, days, strict=True))
    decisions = StageChangeRequest.objects.filter(
        version__model__in=catalog_selectors.visible_models(user=user_named("alice")),
        status__in=[Status.APPROVED, Status.REJECTED],
        resolved_at__gte=timezone.now() - timedelta(days=90),
    ).count()
    assert decisions > 0
    sign_in(page, "alice")

    chart_panel = page.get_by_role("region", name="Versions in Production, last 90 days")
    summary = (
        f"{counts[-1]} today, {counts[0]} on {days[0]:%b} {days[0].day}; "
        f"highest {peak[0]} ({peak[1]:%b} {peak[1].day}), lowest {low[0]} ({low[1]:%b} {low[1].day})."
    )
    chart = chart_panel.get_by_role("img", name=summary)
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 500
    assert box["height"] > 100
    expect(chart_panel.get_by_text(summary)).to_be_visible()
    expect(chart_panel.get_by_text(f"top line: {max(peak[0], 1)}")).to_be_visible()
    expect(chart_panel.get_by_role("table")).to_be_hidden()
    chart_panel.get_by_text("Day-by-day figures").click()
    table = chart_panel.get_by_role("table")
    expect(table).to_be_visible()
    rows = [row.split("\t") for row in table.get_by_role("row").all_inner_texts()[1:]]
    assert rows == [[f"{day:%Y-%m-%d}", str(count)] for day, count in zip(days[::-1], counts[::-1], strict=True)]

    lead_times = page.get_by_role("region", name="Lead times, last 90 days")
    duration = re.compile(r"^\d+ (day|hour|minute|second)s?( \d+ (hour|minute|second)s?)?$")
    for term in ("Request to decision", "Unassigned to Production"):
        expect(lead_times.get_by_role("term").filter(has_text=term)).to_be_visible()
    medians = lead_times.get_by_role("definition").filter(has_text=re.compile(r"^\d"))
    expect(medians).to_have_count(2)
    for median in medians.all():
        expect(median).to_have_text(duration)
    if decisions >= LEAD_TIME_SAMPLE:
        expect(lead_times).to_contain_text(f"median of the {LEAD_TIME_SAMPLE} most recent approvals and rejections")
    else:
        expect(lead_times).to_contain_text(f"median of {decisions} approvals and rejections")
    expect(lead_times).to_contain_text(re.compile(r"over \d+ versions first reaching Production"))
    screenshot(page, "activity-12-home-production-chart-and-lead-times")
