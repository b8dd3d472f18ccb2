"""The Versions page: every version a user may see, found with `find` and the quick filters, in keyset pages, as a
page or its htmx fragment, with links to it from home and the catalog tiles, in a bounded number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape, unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.utils.cache import has_vary_header

from approvals import services as workflow
from catalog.find import EXAMPLES, VERSION_KEYS, FindError, filter_versions, parse, quoted
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from core.keyset import Cursor
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import client_for, frozen, set_stage, version_at

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

URL = "/versions/"
HTMX = {"HX-Request": "true", "HX-Target": "version-results"}
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def url(**params: str) -> str:
    return f"{URL}?{urlencode(params)}" if params else URL


# --- Reading the page ---------------------------------------------------------------------------------------------


def listed(response: Response) -> list[str]:
    """The versions in the results table, in order, as "model-slug/version"."""
    assert response.status_code == 200
    rows = re.findall(r'<a href="/models/([^/"]+)/versions/([^/"]+)/"><strong>', response.text)
    return [f"{slug}/{name}" for slug, name in rows]


def visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def results(html: str) -> str:
    """The results section of the page (the search box's examples name models too)."""
    return html.split('<section id="version-results"', 1)[1]


def find_error(html: str) -> str:
    """What the slot under the search box says."""
    found = re.search(r'<div id="find-error"[^>]*>(.*?)</div>', html, flags=re.S)
    assert found, "no slot for the search's error"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def chips(html: str) -> dict[str, tuple[str, bool]]:
    """Each quick filter's name, with where it leads and whether it is on."""
    found = {}
    for attributes, inner in re.findall(r'<a class="chip[^"]*"([^>]*)>(.*?)</a>', html, flags=re.S):
        name = visible_text(re.sub(r'<span[^>]*aria-hidden="true"[^>]*>.*?</span>', "", inner))
        href = re.search(r'\shref="([^"]*)"', attributes)
        assert href
        found[name] = (unescape(href.group(1)), 'aria-current="true"' in attributes)
    return found


def link_to(html: str, *, older: bool) -> str | None:
    """The URL of the Older (or Newer) page link, if there is one."""
    found = re.search(rf'href="\?([^"]+)"[^>]*rel="{"next" if older else "prev"}"', html)
    return f"{URL}?{unescape(found.group(1))}" if found else None


def assert_results_fragment(response: Response) -> None:
    assert response.status_code == 200
    assert re.match(r'\s*<section id="version-results"', response.text), response.text[:200]
    assert "<html" not in response.text
    assert '<nav class="topnav"' not in response.text
    assert has_vary_header(response, "HX-Request")


def message_of(text: str) -> str:
    """The message a search that cannot run raises, as the page shows it (its `code` marks are not text)."""
    with pytest.raises(FindError) as raised:
        list(filter_versions(ModelVersion.objects.all(), text))
    return raised.value.message.replace("`", "")


# --- The catalog on the page --------------------------------------------------------------------------------------


@pytest.fixture
def shelf(model: RegisteredModel, org_model: RegisteredModel, owner: Any, reviewer: Any) -> dict[str, ModelVersion]:
    """Three versions of the private Churn Predictor and three of the organization's Open Model, registered a minute
    apart; two of them wait on a stage change, one was refused one and another withdrew one."""
    names: list[tuple[str, RegisteredModel, str, dict[str, Any]]] = [
        ("c1", model, "v1.0.0", {"labels": ["nlp"], "attributes": {"auc": 0.95}}),
        ("o1", org_model, "v0.9", {}),
        ("c2", model, "v1.1.0", {"attributes": {"auc": "0.91"}}),
        ("o2", org_model, "v1.0", {"attributes": {"auc": 0.8}}),
        ("c3", model, "v1.2.0-rc1", {}),
        ("o3", org_model, "v2.0-rc1", {"labels": ["nlp"]}),
    ]
    versions = {}
    for minute, (key, on, name, fields) in enumerate(names):
        with frozen(at(minute)):
            versions[key] = VersionFactory.create(model=on, name=name, created_by=owner, **fields)
    with frozen(at(10)):
        set_stage(versions["c1"], Stage.PRODUCTION)
        set_stage(versions["c2"], Stage.STAGING)
        set_stage(versions["o1"], Stage.ARCHIVED)
        set_stage(versions["o2"], Stage.STAGING)
        set_stage(versions["o3"], Stage.PRODUCTION)
    with frozen(at(20)):
        workflow.set_lock_level(actor=owner, version=versions["c2"], lock_level=LockLevel.CLOSED)
        workflow.request_stage_change(actor=owner, version=versions["c3"], to_stage=Stage.DEVELOPMENT)
        workflow.request_stage_change(actor=owner, version=versions["o2"], to_stage=Stage.PRODUCTION)
        refused = workflow.request_stage_change(actor=owner, version=versions["c1"], to_stage=Stage.ARCHIVED)
        workflow.reject_change_request(actor=reviewer, change_request=refused)
        withdrawn = workflow.request_stage_change(actor=owner, version=versions["o1"], to_stage=Stage.DEVELOPMENT)
        workflow.cancel_change_request(actor=owner, change_request=withdrawn)
    return versions


def keys(shelf: dict[str, ModelVersion], response: Response) -> list[str]:
    """The shelf's names (c1, o3, …) of the versions listed, in order."""
    by_path = {f"{v.model.slug}/{v.name}": key for key, v in shelf.items()}
    return [by_path[path] for path in listed(response)]


EVERYTHING = ["o3", "c3", "o2", "c2", "o1", "c1"]  # newest registered first
OPEN_MODEL = ["o3", "o2", "o1"]


# --- Who sees what ------------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(db: None) -> None:
    response = Client().get(url(stage="production"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/versions/%3Fstage%3Dproduction"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_405(owner: Any, method: str) -> None:
    assert getattr(client_for(owner), method)(URL).status_code == 405


def test_owner_sees_every_version_newest_first(shelf: dict[str, ModelVersion], owner: Any) -> None:
    response = client_for(owner).get(URL)
    assert response.text.lstrip().startswith("<!doctype html>")
    assert has_vary_header(response, "HX-Request")
    assert keys(shelf, response) == EVERYTHING


def test_viewer_sees_the_private_models_versions(shelf: dict[str, ModelVersion], viewer: Any) -> None:
    assert keys(shelf, client_for(viewer).get(URL)) == EVERYTHING


def test_outsider_sees_only_the_organization_models_versions(shelf: dict[str, ModelVersion], outsider: Any) -> None:
    client = client_for(outsider)
    assert keys(shelf, client.get(URL)) == OPEN_MODEL
    assert "Churn Predictor" not in results(client.get(URL).text)
    # Searching for the private model, or for what only it holds, finds nothing, as if it did not exist.
    assert listed(client.get(url(find='model == "Churn Predictor"'))) == []
    assert keys(shelf, client.get(url(find="labels == nlp"))) == ["o3"]
    assert keys(shelf, client.get(url(pending="1"))) == ["o2"]


def test_a_group_role_shows_the_private_models_versions(shelf: dict[str, ModelVersion], owner: Any) -> None:
    member = UserFactory.create(username="member")
    team = GroupFactory.create(name="team")
    member.groups.add(team)
    add_collaborator(actor=owner, model=shelf["c1"].model, group=team, role=Role.VIEWER)
    assert keys(shelf, client_for(member).get(URL)) == EVERYTHING


def test_the_table_shows_model_version_stage_lock_and_times(shelf: dict[str, ModelVersion], viewer: Any) -> None:
    html = client_for(viewer).get(url(find='model == "Churn Predictor"')).text
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    header, body = rows[0], rows[1:]
    assert re.findall(r'<th scope="col">([^<]+)</th>', header) == [
        "Model",
        "Version",
        "Stage",
        "Lock",
        "Registered",
        "Updated",
    ]
    assert [visible_text(row) for row in body] == [
        "Churn Predictor v1.2.0-rc1 Unassigned 2026-01-05 10:04 2026-01-05 10:04",
        "Churn Predictor v1.1.0 Staging Closed 2026-01-05 10:02 2026-01-05 10:20",
        "Churn Predictor v1.0.0 Production 2026-01-05 10:00 2026-01-05 10:10",
    ]
    production = body[2]
    assert '<a href="/models/churn-predictor/">Churn Predictor</a>' in production
    assert '<span class="stage stage-production">Production</span>' in production
    assert re.search(r'<time datetime="2026-01-05T10:10:00\+00:00" title="[^"]+">2026-01-05 10:10</time>', production)
    assert html.count('<span class="lock locked">') == 1  # an Open version shows no lock level


# --- Quick filters ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected", "on"),
    [
        ({"stage": "production"}, ["o3", "c1"], "In Production"),
        ({"stage": "staging"}, ["o2", "c2"], "In Staging"),
        ({"pending": "1"}, ["c3", "o2"], "Pending request"),  # not c1's refused nor o1's withdrawn request
        ({"stage": "archived"}, ["o1"], None),
    ],
)
def test_each_quick_filter(
    shelf: dict[str, ModelVersion], owner: Any, params: dict[str, str], expected: list[str], on: str | None
) -> None:
    response = client_for(owner).get(url(**params))
    assert keys(shelf, response) == expected
    shown = chips(response.text)
    assert list(shown) == ["In Production", "In Staging", "Pending request"]
    assert [name for name, (_, active) in shown.items() if active] == ([on] if on else [])
    assert "Newest registered first, filtered." in visible_text(response.text)


def test_quick_filters_combine_and_keep_the_other_parameters(shelf: dict[str, ModelVersion], owner: Any) -> None:
    client = client_for(owner)
    search = "attributes.auc >= 0.8"
    page = client.get(url(find=search, stage="staging"))
    assert keys(shelf, page) == ["o2", "c2"]
    shown = chips(page.text)
    assert shown["In Production"] == (url(find=search, stage="production"), False)
    assert shown["In Staging"] == (url(find=search), True)  # on: its link turns it off
    assert shown["Pending request"] == (url(find=search, stage="staging", pending="1"), False)
    # The search form sends the quick filters that are on along with the text.
    assert '<input type="hidden" name="stage" value="staging" form="version-find">' in page.text
    assert 'name="pending"' not in page.text

    both = client.get(shown["Pending request"][0])
    assert keys(shelf, both) == ["o2"]
    assert '<input type="hidden" name="pending" value="1" form="version-find">' in both.text
    assert chips(both.text)["In Staging"] == (url(find=search, pending="1"), True)
    assert keys(shelf, client.get(url(pending="1"))) == ["c3", "o2"]


def test_quick_filter_links_start_from_the_first_page_and_drop_a_blank_search(owner: Any) -> None:
    page = client_for(owner).get(f"{URL}?find=&before=1_1&pending=1")
    assert chips(page.text)["In Production"][0] == url(pending="1", stage="production")
    assert chips(page.text)["Pending request"][0] == URL


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("stage=bogus", "Stage: Select a valid choice. bogus is not one of the available choices."),
        ("pending=yes", "Pending: Select a valid choice. yes is not one of the available choices."),
    ],
)
def test_an_invalid_quick_filter_says_why_and_lists_nothing(
    shelf: dict[str, ModelVersion], owner: Any, query: str, error: str
) -> None:
    response = client_for(owner).get(f"{URL}?{query}")
    assert listed(response) == []
    assert error in visible_text(response.text)
    assert 'role="alert"' in response.text


# --- find ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stage == production", ["o3", "c1"]),
        ("stage != archived", ["o3", "c3", "o2", "c2", "c1"]),
        ("version ~= RC", ["o3", "c3"]),
        ("labels == nlp", ["o3", "c1"]),
        ("attributes.auc > 0.9", ["c2", "c1"]),
        ("attributes.auc <= 0.9", ["o2"]),
        ("lock_level == closed", ["c2"]),
        ('model == "churn predictor"', ["c3", "c2", "c1"]),
        ("model ~= open and stage == staging", ["o2"]),
        ("time_created >= 2026-01-05T10:03:00Z", ["o3", "c3", "o2"]),
        ("time_updated < 2026-01-05T10:05Z and stage == unassigned", ["c3"]),
        ("owner == owner and name == v0.9", ["o1"]),
        ("   ", EVERYTHING),
    ],
)
def test_find_with_each_operator(shelf: dict[str, ModelVersion], owner: Any, text: str, expected: list[str]) -> None:
    response = client_for(owner).get(url(find=text))
    assert keys(shelf, response) == expected
    assert f'value="{escape(text)}"' in response.text  # the box keeps the search
    assert find_error(response.text) == ""


def test_find_and_quick_filters_combine(shelf: dict[str, ModelVersion], owner: Any) -> None:
    client = client_for(owner)
    assert keys(shelf, client.get(url(find="labels == nlp", stage="production"))) == ["o3", "c1"]
    assert keys(shelf, client.get(url(find="model == 'Open Model'", stage="production"))) == ["o3"]
    assert keys(shelf, client.get(url(find="model == 'Open Model'", pending="1"))) == ["o2"]
    assert keys(shelf, client.get(url(find="stage == staging", stage="production"))) == []
    nothing = visible_text(client.get(url(find="stage == staging", stage="production")).text)
    assert "No versions match. Show all versions" in nothing


BAD_SEARCHES = [
    "stage == prod",
    "stagee == production",
    "stage ==",
    "stage => production",
    "name == 'unterminated",
    "attributes.auc > high",
    "stage == production and",
    "stage == production or stage == staging",
    "time_created > yesterday",
    "name == a\x00b",
    "name == " + "x" * 1_000,
]


@pytest.mark.parametrize("text", BAD_SEARCHES)
def test_a_search_that_cannot_run_says_why_under_the_box_and_lists_nothing(
    shelf: dict[str, ModelVersion], owner: Any, text: str
) -> None:
    response = client_for(owner).get(url(find=text, stage="production"))
    assert response.status_code == 200
    assert listed(response) == []
    assert find_error(response.text) == message_of(text)
    form = response.text.split('<form id="version-find"', 1)[1].split("</form>", 1)[0]
    assert 'id="find-error"' in form  # under the box, which names it as its description
    assert 'aria-describedby="find-error find-help"' in form
    assert "hx-swap-oob" not in response.text
    assert "Nothing is listed until the search can run" in visible_text(response.text)
    assert chips(response.text)["In Production"][1]  # the quick filters stay as they were


@pytest.mark.parametrize("text", BAD_SEARCHES[:3])
def test_a_search_that_cannot_run_with_htmx_swaps_its_message_in(
    shelf: dict[str, ModelVersion], owner: Any, text: str
) -> None:
    response = client_for(owner).get(url(find=text), headers=HTMX)
    assert_results_fragment(response)
    assert listed(response) == []
    assert '<div id="find-error" class="find-error" hx-swap-oob="true">' in response.text
    assert find_error(response.text) == message_of(text)


def test_the_message_shows_keys_and_values_as_code_and_never_as_html(owner: Any) -> None:
    response = client_for(owner).get(url(find="stage == '<b>x</b>'"))
    assert "unknown stage <code>&lt;b&gt;x&lt;/b&gt;</code>; stages are:" in response.text
    assert "<b>x</b>" not in response.text


def test_examples_fill_the_search(shelf: dict[str, ModelVersion], owner: Any) -> None:
    client = client_for(owner)
    html = client.get(URL).text
    for example in EXAMPLES:
        href = f"{URL}?find={quote(example, safe='')}"
        assert re.search(rf'<a href="{re.escape(escape(href))}"><code>{re.escape(escape(example))}</code></a>', html)
        followed = client.get(href)
        assert f'value="{escape(example)}"' in followed.text
        assert find_error(followed.text) == ""
    assert keys(shelf, client.get(f"{URL}?find={quote(EXAMPLES[0], safe='')}")) == ["o3", "c1"]


# --- Pages --------------------------------------------------------------------------------------------------------


@pytest.fixture
def many(org_model: RegisteredModel, owner: Any, settings: Any) -> list[str]:
    """Eleven versions, some registered in the same instant, on pages of three; their names newest first."""
    settings.PAGE_SIZE = 3
    minutes = [0, 1, 1, 1, 2, 3, 3, 4, 5, 5, 6]
    for n, minute in enumerate(minutes):
        version_at(at(minute), model=org_model, name=f"v{n:02d}")
    newest_first = ModelVersion.objects.order_by("-created_at", "-pk").values_list("name", flat=True)
    return [f"open-model/{name}" for name in newest_first]


def test_older_then_newer_walks_every_version_once(many: list[str], outsider: Any) -> None:
    client = client_for(outsider)
    response = client.get(URL)
    assert link_to(response.text, older=False) is None  # the newest page has no newer one
    pages = [listed(response)]
    while (older := link_to(response.text, older=True)) is not None:
        response = client.get(older, headers=HTMX)
        assert_results_fragment(response)
        pages.append(listed(response))
    assert [name for page in pages for name in page] == many  # no gap, no repeat
    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert "« Newest" in response.text

    back = [pages[-1]]
    while (newer := link_to(response.text, older=False)) is not None:
        response = client.get(newer)
        back.append(listed(response))
    assert back == pages[::-1]
    assert "« Newest" not in response.text


def test_pages_keep_the_search_and_the_quick_filters(many: list[str], outsider: Any) -> None:
    client = client_for(outsider)
    first = client.get(url(find="version ~= v0", stage="unassigned"))
    older = link_to(first.text, older=True)
    assert older
    assert "find=version+~%3D+v0" in older
    assert "stage=unassigned" in older
    second = client.get(older)
    assert listed(second) == [name for name in many if "/v0" in name][3:6]


def test_a_bad_cursor_shows_the_first_page_with_a_notice(many: list[str], outsider: Any) -> None:
    for cursor in ["before=garbage", "after=1_x", "before=" + "9" * 50]:
        response = client_for(outsider).get(f"{URL}?{cursor}&stage=unassigned")
        assert listed(response) == many[:3]
        assert "That page link is not valid any more; showing the newest entries." in visible_text(response.text)


def test_past_the_oldest_version_says_so(many: list[str], outsider: Any) -> None:
    oldest = ModelVersion.objects.order_by("created_at", "pk").first()
    response = client_for(outsider).get(url(before=str(Cursor.of(oldest))))
    assert listed(response) == []
    assert "No older versions." in visible_text(response.text)
    assert link_to(response.text, older=False) is not None


# --- htmx ---------------------------------------------------------------------------------------------------------


def test_htmx_gets_only_the_results_with_the_search_error_slot(shelf: dict[str, ModelVersion], owner: Any) -> None:
    response = client_for(owner).get(url(find="stage == production"), headers=HTMX)
    assert_results_fragment(response)
    assert keys(shelf, response) == ["o3", "c1"]
    assert '<div id="find-error" class="find-error" hx-swap-oob="true"></div>' in response.text
    assert chips(response.text)["In Production"] == (url(find="stage == production", stage="production"), False)


def test_the_page_and_its_controls_work_without_javascript(shelf: dict[str, ModelVersion], owner: Any) -> None:
    html = client_for(owner).get(URL).text
    form = re.search(r'<form id="version-find"[^>]*>', html)
    assert form
    for attribute in [
        'method="get"',
        'action="/versions/"',
        'hx-get="/versions/"',
        'hx-target="#version-results"',
        'hx-swap="outerHTML"',
        'hx-push-url="true"',
    ]:
        assert attribute in form.group(0)
    assert '<label for="find">Find versions</label>' in html
    for chip in re.findall(r'<a class="chip[^"]*"[^>]*>', html):
        href = re.search(r'\shref="([^"]+)"', chip)
        assert href
        assert f'hx-get="{href.group(1)}"' in chip
        assert 'hx-target="#version-results"' in chip
        assert 'hx-push-url="true"' in chip


def test_a_history_restore_gets_the_whole_page(owner: Any) -> None:
    response = client_for(owner).get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert response.text.lstrip().startswith("<!doctype html>")
    assert "hx-swap-oob" not in response.text


# --- Ways in ------------------------------------------------------------------------------------------------------


def test_the_navigation_has_versions_between_catalog_and_activity(owner: Any) -> None:
    client = client_for(owner)
    nav = re.search(r'<nav class="topnav".*?</nav>', client.get(URL).text, flags=re.S)
    assert nav
    assert re.findall(r">(Home|Catalog|Versions|Activity)</a>", nav.group(0)) == [
        "Home",
        "Catalog",
        "Versions",
        "Activity",
    ]
    assert '<a href="/versions/" class="active" aria-current="page">Versions</a>' in nav.group(0)
    assert '<a href="/versions/" >Versions</a>' in client.get("/models/").text


def test_home_production_count_links_to_the_versions_in_production(shelf: dict[str, ModelVersion], owner: Any) -> None:
    client = client_for(owner)
    stat = re.search(r'<a class="stat production" href="([^"]+)" id="production-count">(.*?)</a>', client.get("/").text)
    assert stat
    assert unescape(stat.group(1)) == "/versions/?stage=production"
    assert visible_text(stat.group(2)) == "2 versions in Production"
    assert keys(shelf, client.get(unescape(stat.group(1)))) == ["o3", "c1"]


def tile_links(html: str) -> dict[str, str]:
    """The catalog tiles' stage-count links, by accessible name."""
    links = re.findall(r'<span class="stage-count[^>]*><a href="([^"]+)" aria-label="([^"]+)">', html)
    return {unescape(name): unescape(href) for href, name in links}


def test_catalog_tiles_link_each_stage_count_to_those_versions(shelf: dict[str, ModelVersion], owner: Any) -> None:
    client = client_for(owner)
    links = tile_links(client.get("/models/").text)
    assert links == {
        "1 Unassigned version of Churn Predictor": url(find='model == "Churn Predictor"', stage="unassigned"),
        "1 Staging version of Churn Predictor": url(find='model == "Churn Predictor"', stage="staging"),
        "1 Production version of Churn Predictor": url(find='model == "Churn Predictor"', stage="production"),
        "1 Staging version of Open Model": url(find='model == "Open Model"', stage="staging"),
        "1 Production version of Open Model": url(find='model == "Open Model"', stage="production"),
        "1 Archived version of Open Model": url(find='model == "Open Model"', stage="archived"),
    }  # a stage without versions is no link
    for name, href in links.items():
        parts = re.fullmatch(r"(\d+) (\w+) versions? of (.+)", name)
        assert parts
        count, stage, model_name = parts.groups()
        found = ModelVersion.objects.filter(model__name=model_name, stage=Stage(stage.lower()))
        assert listed(client.get(href)) == [f"{v.model.slug}/{v.name}" for v in found.order_by("-created_at")]
        assert int(count) == found.count()
    # The model card's own stage summary still opens its Versions tab.
    card = client.get("/models/churn-predictor/").text
    assert '<a href="/models/churn-predictor/?stage=production">' in card


@pytest.mark.parametrize("name", ["Churn Predictor", 'say "hi"', "C:\\models\\", "it's", '\\"', "a == b and c", ""])
def test_a_quoted_name_reads_back_whole(name: str) -> None:
    (predicate,) = parse(f"model == {quoted(name)}", keys=VERSION_KEYS)
    assert (predicate.value, predicate.quoted) == (name, True)


@pytest.mark.parametrize("name", ['Ann\'s "best" model', "Back\\slash and == and", "Open"])
def test_tile_links_find_a_model_whatever_its_name(org_model: RegisteredModel, owner: Any, name: str) -> None:
    odd = ModelFactory.create(owner=owner, name=name)
    for n in range(2):
        set_stage(VersionFactory.create(model=odd, name=f"v{n}"), Stage.PRODUCTION)
    set_stage(VersionFactory.create(model=org_model, name="other"), Stage.PRODUCTION)  # "Open Model" is not "Open"
    client = client_for(owner)
    href = tile_links(client.get("/models/").text)[f"2 Production versions of {name}"]
    response = client.get(href)
    assert listed(response) == [f"{odd.slug}/v1", f"{odd.slug}/v0"]
    assert find_error(response.text) == ""


# --- Queries ------------------------------------------------------------------------------------------------------


@pytest.fixture
def reader(db: None) -> Any:
    return UserFactory.create(username="reader")


def build_versions(size: int, reader: Any) -> None:
    """size versions reader may see (through the organization, a direct role and a group role), with labels,
    attributes, locks and pending requests, and as many that reader may not see."""
    team = GroupFactory.create(name="readers")
    reader.groups.add(team)
    models = []
    for kind in range(3):
        owner = UserFactory.create(username=f"owner{kind}")
        model = ModelFactory.create(owner=owner, name=f"Model {kind}", visibility="private" if kind else "organization")
        if kind == 1:
            add_collaborator(actor=owner, model=model, user=reader, role=Role.VIEWER)
        if kind == 2:
            add_collaborator(actor=owner, model=model, group=team, role=Role.REVIEWER)
        models.append(model)
    stages = [Stage.PRODUCTION, Stage.STAGING, Stage.DEVELOPMENT, Stage.ARCHIVED]
    for n in range(size):
        model = models[n % 3]
        version = VersionFactory.create(
            model=model, name=f"v{n}", labels=["nlp"] if n % 2 else [], attributes={"auc": 0.5 + n / 100}
        )
        set_stage(version, stages[n % 4])
        if n % 3 == 0:
            workflow.set_lock_level(actor=model.owner, version=version, lock_level=LockLevel.CLOSED)
        elif n % 3 == 1:
            workflow.request_stage_change(actor=model.owner, version=version, to_stage=Stage.UNASSIGNED)
    hidden = ModelFactory.create(name="Hidden", visibility="private")
    for n in range(size):
        VersionFactory.create(model=hidden, name=f"h{n}")


# Bounds measured at 3 versions; the same bound must hold at 30.
VERSION_PAGES = [
    (URL, {}, 4),  # session, user, the inbox badge, one page of versions with their models
    (URL, HTMX, 3),
    (url(stage="production"), {}, 4),
    (url(pending="1"), HTMX, 3),
    (url(find="labels == nlp and attributes.auc > 0.5", stage="staging"), {}, 4),
    (url(find='model == "Model 1" and lock_level != open'), HTMX, 3),
    (url(find="owner ~= owner and time_created >= 2020-01-01"), {}, 4),
    (url(find="stage == nowhere"), HTMX, 2),  # the search cannot run: no versions are read
    (url(before="garbage"), {}, 4),
]


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(("page", "headers", "bound"), VERSION_PAGES)
def test_the_page_runs_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, page: str, headers: dict[str, str], bound: int
) -> None:
    build_versions(size, reader)
    client = client_for(reader)
    with django_assert_max_num_queries(bound):
        response = client.get(page, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_the_pages_measured_list_what_they_should(reader: Any, size: int, settings: Any) -> None:
    build_versions(size, reader)
    client = client_for(reader)
    assert len(listed(client.get(URL))) == min(size, settings.PAGE_SIZE)
    assert len(listed(client.get(url(pending="1")))) == len([n for n in range(size) if n % 3 == 1])
    assert "Hidden" not in results(client.get(URL).text)
