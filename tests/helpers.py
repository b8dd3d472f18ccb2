"""Helpers shared by the tests: clients, stage moves, races, history at a given time, the state of the database,
the URLs the tests open, reading HTML as a reader sees it, and driving the browser."""

from __future__ import annotations

import contextlib
import difflib
import http.client
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import has_vary_header
from playwright.sync_api import expect

from activity.models import ActivityEntry, Verb
from approvals.models import Review, StageChangeRequest
from catalog.models import (
    STAGE_ORDER,
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Stage,
    stage_count_field,
)
from catalog.services import apply_stage_change
from core import clock
from tests.factories import VersionFactory

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
    from playwright.sync_api import BrowserContext, Page

# --- Clients and headers ------------------------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}  # what htmx sends with each request it makes


def client_for(user: Any) -> Client:
    """A client signed in as user (anonymous for None); a view's exception fails the test, never a quiet 500."""
    client = Client(raise_request_exception=True)
    if user is not None:
        client.force_login(user)
    return client


# --- Writing: stages, races and history at a given time -----------------------------------------------------------


def set_stage(version: Any, stage: Stage) -> None:
    """Move a version to stage through the one writer of stages, as the approval workflow will."""
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        apply_stage_change(version=locked, to_stage=stage)


def version_in(model: RegisteredModel, name: str, stage: Stage = Stage.UNASSIGNED) -> ModelVersion:
    """A new version of model, registered by its owner and moved to stage, as stored now."""
    version = VersionFactory.create(model=model, created_by=model.owner, name=name)
    if stage != Stage.UNASSIGNED:
        set_stage(version, stage)
    return ModelVersion.objects.select_related("model").get(pk=version.pk)


def raw_request(version: ModelVersion, requester: Any, **fields: Any) -> StageChangeRequest:
    """Write a request row directly, bypassing the services, so only the database guards it."""
    fields.setdefault("from_stage", Stage.UNASSIGNED)
    fields.setdefault("to_stage", Stage.DEVELOPMENT)
    fields.setdefault("created_at", timezone.now())
    fields.setdefault("required_approvals", 1)
    return StageChangeRequest.objects.create(version=version, requester=requester, **fields)


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at once in threads (on PostgreSQL); return each one's result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = actions[i]()
        except Exception as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


@contextmanager
def frozen(when: datetime) -> Iterator[None]:
    """Everything written inside happens at when (versions, requests, reviews and their activity entries, whose time
    the database would otherwise stamp: the tests replay history as the owner role may)."""
    with mock.patch("django.utils.timezone.now", return_value=when), clock.replaying(lambda: when):
        yield


def version_at(when: datetime, *, model: RegisteredModel, name: str, created_by: Any = None) -> ModelVersion:
    with frozen(when):
        return VersionFactory.create(model=model, name=name, created_by=created_by or model.owner)


def entry_at(
    when: datetime,
    *,
    actor: Any,
    verb: Verb,
    model: RegisteredModel,
    version: ModelVersion | None = None,
    label: str = "",
    **fields: Any,
) -> ActivityEntry:
    """One hand-made entry; label (kept in extra) names it in assertions."""
    extra = fields.pop("extra", {}) | ({"label": label} if label else {})
    return ActivityEntry.objects.create(
        created_at=when, actor=actor, verb=verb, model=model, version=version, extra=extra, **fields
    )


def move_at(
    when: datetime, *, version: ModelVersion, from_stage: Stage, to_stage: Stage, actor: Any = None, **extra: Any
) -> ActivityEntry:
    return entry_at(
        when,
        actor=actor or version.model.owner,
        verb=Verb.STAGE_CHANGED,
        model=version.model,
        version=version,
        from_stage=from_stage,
        to_stage=to_stage,
        extra=extra,
    )


LONG_AGO = timezone.make_aware(datetime(2020, 1, 1))


def backdate(model: RegisteredModel) -> None:
    """Move the model's updated_at into the past so a later bump is visible whatever the clock resolution."""
    RegisteredModel.objects.filter(pk=model.pk).update(updated_at=LONG_AGO)


# --- Reading the database -----------------------------------------------------------------------------------------


def fresh(model: RegisteredModel) -> RegisteredModel:
    """The model as stored now: a new instance, so no permission answer cached on an earlier one is reused."""
    return RegisteredModel.objects.get(pk=model.pk)


def updated_at(model: RegisteredModel) -> datetime:
    return RegisteredModel.objects.values_list("updated_at", flat=True).get(pk=model.pk)


def stage_of(version: ModelVersion) -> str:
    return ModelVersion.objects.values_list("stage", flat=True).get(pk=version.pk)


def refetch(change_request: StageChangeRequest) -> StageChangeRequest:
    """The change request as stored now."""
    return StageChangeRequest.objects.select_related("resolved_by").get(pk=change_request.pk)


def assert_stage_counts_are_true(model: RegisteredModel) -> None:
    """The model's stored per-stage counts equal a fresh count of its versions."""
    fields = [stage_count_field(stage) for stage in STAGE_ORDER]
    stored = RegisteredModel.objects.values(*fields).get(pk=model.pk)
    actual = {
        stage_count_field(stage): ModelVersion.objects.filter(model_id=model.pk, stage=stage).count()
        for stage in STAGE_ORDER
    }
    assert stored == actual


def user_perms(model: RegisteredModel, user: Any) -> set[str]:
    """The codenames of the permissions user holds directly on model."""
    return set(
        RegisteredModelUserObjectPermission.objects.filter(content_object=model, user=user).values_list(
            "permission__codename", flat=True
        )
    )


def group_perms(model: RegisteredModel, group: Group) -> set[str]:
    """The codenames of the permissions group holds on model."""
    return set(
        RegisteredModelGroupObjectPermission.objects.filter(content_object=model, group=group).values_list(
            "permission__codename", flat=True
        )
    )


def entry_mark() -> int:
    """The id of the newest activity entry, so a test can read exactly the entries written after it."""
    return ActivityEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def entries_since(mark: int) -> list[tuple[Any, ...]]:
    """The entries written after mark, oldest first, as what the activity page shows of them."""
    return list(
        ActivityEntry.objects.filter(pk__gt=mark)
        .order_by("pk")
        .values_list("verb", "actor__username", "version__name", "from_stage", "to_stage", "comment", "extra")
    )


def last_entry() -> ActivityEntry:
    entry = ActivityEntry.objects.order_by("-id").first()
    assert entry is not None
    return entry


def comments_written() -> list[tuple[str, str]]:
    """Who commented what, oldest first."""
    return list(
        ActivityEntry.objects.filter(verb=Verb.COMMENTED).order_by("pk").values_list("actor__username", "comment")
    )


def database_state() -> dict[str, Any]:
    """Everything a service of the catalog, the approvals or the activity log writes, to show that a refused or
    rolled-back action wrote nothing."""
    return {
        "models": list(RegisteredModel.objects.order_by("pk").values()),
        "model_labels": sorted(RegisteredModel.labels.through.objects.values_list("registeredmodel_id", "label_id")),
        "versions": list(ModelVersion.objects.order_by("pk").values()),
        "version_labels": sorted(ModelVersion.labels.through.objects.values_list("modelversion_id", "label_id")),
        "labels": list(Label.objects.order_by("pk").values()),
        "user_perms": list(RegisteredModelUserObjectPermission.objects.order_by("pk").values()),
        "group_perms": list(RegisteredModelGroupObjectPermission.objects.order_by("pk").values()),
        "requests": list(StageChangeRequest.objects.order_by("pk").values()),
        "reviews": list(Review.objects.order_by("pk").values()),
        "activity": list(ActivityEntry.objects.order_by("pk").values()),
    }


ChangesNothing = Callable[[], AbstractContextManager[None]]  # the changes_nothing fixture of tests/approvals


# --- URLs ---------------------------------------------------------------------------------------------------------


def version_url(version: ModelVersion) -> str:
    return reverse("catalog:version-detail", kwargs={"slug": version.model.slug, "version": version.name})


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# Every URL of a model, by URL name, and whether it names a version too.
CATALOG_URLS = {
    "model-detail": ("catalog:model-detail", False),
    "model-activity": ("activity:model-activity", False),
    "model-collaborators": ("catalog:model-collaborators", False),
    "model-edit": ("catalog:model-edit", False),
    "collaborator-add": ("catalog:collaborator-add", False),
    "collaborator-remove": ("catalog:collaborator-remove", False),
    "version-register": ("catalog:version-register", False),
    "version-detail": ("catalog:version-detail", True),
    "version-edit": ("catalog:version-edit", True),
}

# A valid POST for each catalog action, as a user would submit it.
CATALOG_POSTS: dict[str, dict[str, str]] = {
    "model-edit": {
        "description": "Rewritten",
        "labels": "changed",
        "task_type": "other",
        "data_type": "text",
        "visibility": "organization",
    },
    "version-register": {"name": "v9.9.9", "description": "New"},
    "version-edit": {"description": "Rewritten", "labels": "changed", "attributes": "k = v"},
    "collaborator-add": {"kind": "user", "name": "viewer", "role": "owner"},
    "collaborator-remove": {"kind": "user", "name": "viewer"},
}


def catalog_url(name: str, model: RegisteredModel, version: ModelVersion | None = None) -> str:
    """The URL of a model's page or action, by its name in CATALOG_URLS."""
    view, with_version = CATALOG_URLS[name]
    kwargs = {"slug": model.slug}
    if with_version:
        assert version is not None
        kwargs["version"] = version.name
    return reverse(view, kwargs=kwargs)


# The approval workflow around the `version` fixture (v1.0.0 of Churn Predictor) and the `pending` request on it.
VERSION_URL = "/models/churn-predictor/versions/v1.0.0/"
CREATE_URL = f"{VERSION_URL}request/"
LOCK_URL = f"{VERSION_URL}lock/"
POLICY_URL = "/models/churn-predictor/policy/"
PENDING_URL = "/models/churn-predictor/pending/"
INBOX_URL = "/approvals/"
REQUEST_COMMENT = "AUC 0.91 on the March holdout."
PANEL = HTMX | {"HX-Target": "request-panel"}  # what htmx sends from the version page's request panel
# What an action on the version page redraws besides the request panel, out of band.
VERSION_OOB = [
    "stage-box",
    "version-meta",
    "timeline",
    "version-props",
    "lock-box",
    "activity-feed",
    "inbox-count",
    "notification-count",
]
# A card's action on the model card, and in the inbox.
CARD_OOB = ["model-meta", "stage-summary", "pending-count", "inbox-count", "notification-count"]
INBOX_CARD_OOB = ["own-count", "inbox-count", "notification-count"]


def action_url(action: str, change_request: StageChangeRequest) -> str:
    return f"/approvals/requests/{change_request.pk}/{action}/"


def card_target(change_request: StageChangeRequest, page: str = PENDING_URL) -> dict[str, str]:
    """The headers htmx sends from a request's card on page: the Pending Approvals tab or the inbox."""
    return HTMX | {"HX-Target": f"change-request-{change_request.pk}", "HX-Current-URL": f"http://testserver{page}"}


ACTIVITY_RESULTS = HTMX | {"HX-Target": "activity-results"}  # what htmx sends from the activity filters


def activity_url() -> str:
    return reverse("activity:activity-list")


def export_url(fmt: str) -> str:
    return reverse("activity:activity-export", kwargs={"fmt": fmt})


def history_url(model: RegisteredModel) -> str:
    return reverse("activity:model-history", kwargs={"slug": model.slug})


def tab_url(model: RegisteredModel) -> str:
    return reverse("activity:model-activity", kwargs={"slug": model.slug})


def comment_url(version: ModelVersion) -> str:
    return reverse("activity:version-comment", kwargs={"slug": version.model.slug, "version": version.name})


# --- Reading HTML -------------------------------------------------------------------------------------------------

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
UNSEEN_TAGS = frozenset({"script", "style", "template"})  # their content is not text a reader sees
CLOSING_PUNCTUATION = tuple(".,:;!?)]")  # written right after a tag, it follows the word before without a space


class Element:
    """One element of a page: its tag, its attributes, its markup (html: the whole element; inner: its content)
    and its text as a reader sees it."""

    def __init__(
        self, source: str, chunks: list[str], tag: str, attrs: dict[str, str | None], span: tuple[int, ...]
    ) -> None:
        self.tag, self.attrs = tag, attrs
        self._source, self._chunks = source, chunks
        self.start, self._inner_start, self._inner_end, self._end, self._first, self._last = span

    @property
    def html(self) -> str:
        return self._source[self.start : self._end]

    @property
    def inner(self) -> str:
        return self._source[self._inner_start : self._inner_end]

    @property
    def text(self) -> str:
        return _text(self._chunks[self._first : self._last])

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def select(self, tag: str | None = None, **attrs: str | re.Pattern[str] | bool) -> list[Element]:
        return select(self.inner, tag, **attrs)

    def find(self, element_id: str) -> Element | None:
        return find(self.inner, element_id)

    def __repr__(self) -> str:
        return f"<Element {self.html[:120]!r}>"


def _text(chunks: Sequence[str]) -> str:
    """Text runs joined as a reader reads them: a tag between two runs separates words, except before closing
    punctuation; whitespace collapsed."""
    text = ""
    for chunk in chunks:
        text += chunk if chunk.startswith(CLOSING_PUNCTUATION) else f" {chunk}"
    return " ".join(text.split())


class _Parser(HTMLParser):
    """Every element of source with its place in it, closing what the markup leaves open as a browser would."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.open: list[tuple[str, dict[str, str | None], int, int, int]] = []
        self.elements: list[Element] = []
        self.chunks: list[str] = []
        self.unseen = 0

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self.position()
        inner = start + len(self.get_starttag_text() or "")
        if tag in VOID_TAGS:
            self.add(tag, dict(attrs), start, inner, inner, inner, len(self.chunks))
            return
        self.open.append((tag, dict(attrs), start, inner, len(self.chunks)))
        self.unseen += tag in UNSEEN_TAGS

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self.position()
        end = start + len(self.get_starttag_text() or "")
        self.add(tag, dict(attrs), start, end, end, end, len(self.chunks))

    def handle_endtag(self, tag: str) -> None:
        if tag not in [name for name, *_ in self.open]:
            return  # a stray end tag, which a browser ignores too
        start = self.position()
        end = self.source.index(">", start) + 1
        while True:
            name, attrs, element_start, inner, first = self.open.pop()
            self.unseen -= name in UNSEEN_TAGS
            if name == tag:
                self.add(name, attrs, element_start, inner, start, end, first)
                return
            self.add(name, attrs, element_start, inner, start, start, first)  # left open: ends where its parent does

    def handle_data(self, data: str) -> None:
        if not self.unseen:
            self.chunks.append(data)

    def add(self, tag: str, attrs: dict[str, str | None], *span: int) -> None:
        element_start, inner, inner_end, end, first = span
        spans = (element_start, inner, inner_end, end, first, len(self.chunks))
        self.elements.append(Element(self.source, self.chunks, tag, attrs, spans))


@lru_cache(maxsize=64)
def _parsed(html: str) -> _Parser:
    """html parsed once (tests read one page many times): its elements in document order and its text runs."""
    parser = _Parser(html)
    parser.feed(html)
    parser.close()
    while parser.open:  # left open at the end of a fragment: ends with it
        name, attrs, start, inner, first = parser.open.pop()
        parser.add(name, attrs, start, inner, len(html), len(html), first)
    parser.elements.sort(key=lambda element: element.start)
    return parser


def _parse(html: str) -> list[Element]:
    return _parsed(html).elements


def _matches(element: Element, name: str, wanted: str | re.Pattern[str] | bool) -> bool:
    if isinstance(wanted, bool):
        return (name in element.attrs) is wanted
    value = element.attrs.get(name)
    if value is None:
        return False
    if isinstance(wanted, re.Pattern):
        return wanted.fullmatch(value) is not None
    if name == "class":
        return set(wanted.split()) <= set(value.split())
    return value == wanted


def select(html: str, tag: str | None = None, **attrs: str | re.Pattern[str] | bool) -> list[Element]:
    """The elements of html with tag (any tag for None) and attrs, in document order. An attribute is named in
    Python (class_ for class, aria_label for aria-label) and matched exactly, by a pattern (fullmatch), by True
    (present) or False (absent); class matches when the element has each class named."""
    wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
    return [
        element
        for element in _parse(html)
        if (tag is None or element.tag == tag) and all(_matches(element, n, v) for n, v in wanted.items())
    ]


def find(html: str, element_id: str) -> Element | None:
    """The element with id element_id, or None."""
    return next((element for element in _parse(html) if element.attrs.get("id") == element_id), None)


def element(html: str, element_id: str) -> Element:
    """The element with id element_id, which must be there."""
    found = find(html, element_id)
    assert found is not None, f'no element with id="{element_id}"'
    return found


def visible_text(html: str) -> str:
    """What a reader sees of a page's body, or of a fragment: no tags, entities decoded, whitespace collapsed."""
    bodies = select(html, "body")
    return bodies[0].text if bodies else _text(_parsed(html).chunks)


def element_ids(html: str) -> list[str]:
    """The id of every element that has one, in document order."""
    return [str(element.attrs["id"]) for element in select(html, id=True)]


def root_id(html: str) -> str:
    """The id of the first element of a fragment, which nothing but whitespace may precede."""
    elements = _parse(html)
    assert elements, html[:200]
    first = elements[0]
    assert not html[: first.start].strip(), html[:200]
    assert first.attrs.get("id"), html[:200]
    return str(first.attrs["id"])


def oob_ids(html: str) -> list[str]:
    """The ids of the elements swapped out of band, in order."""
    swapped = select(html, hx_swap_oob="true")
    assert all(element.attrs.get("id") for element in swapped), swapped
    return [str(element.attrs["id"]) for element in swapped]


def table_rows(html: str) -> list[Element]:
    """The body rows (those with data cells) of the tables in html."""
    return [row for row in select(html, "tr") if row.select("td")]


def select_options(html: str, select_id: str) -> list[str]:
    """The choices of the select with id select_id (none when it is not there)."""
    found = find(html, select_id)
    # The disabled placeholder ("Choose…") is a prompt, not a choice.
    return [option.text for option in found.select("option", disabled=False)] if found else []


def buttons(html: str) -> list[str]:
    return [button.text for button in select(html, "button")]


def link_texts(html: str, href: str) -> list[str]:
    """The text of every link to href, in page order."""
    return [link.text for link in select(html, "a", href=href)]


def current_page_links(html: str) -> list[Element]:
    """The links marked as the current page: the navigation's and the model card's tab."""
    return select(html, "a", class_="active", aria_current="page")


def messages_shown(html: str) -> list[str]:
    """The messages of the page (Django's messages framework), in order."""
    return [item.text for messages in select(html, "ul", class_="messages") for item in messages.select("li")]


def count_badge(html: str, element_id: str) -> int:
    return int(element(html, element_id).text)


def card_ids(html: str) -> list[int]:
    """The ids of the change requests whose cards html shows, in order."""
    cards = select(html, "article", id=re.compile(r"change-request-\d+"))
    return [int(str(card.attrs["id"]).rsplit("-", 1)[1]) for card in cards]


def feed_items(html: str) -> list[str]:
    """The text a reader sees of each entry of the activity feeds shown (after its avatar)."""
    return [body.text for feed in select(html, "ol", class_="feed") for body in feed.select("div", class_="body")]


def timeline_items(html: str) -> list[str]:
    """The text of each period of a version's stage timeline, oldest first."""
    timelines = select(html, "ol", class_="timeline-list")
    assert timelines, "no timeline"
    return [item.text for item in timelines[0].select("li")]


def as_of_lists(html: str) -> dict[str, list[str]]:
    """Per stage of the "Stages as of" tab that lists versions, the text of each version listed."""
    lists = select(html, "ul", aria_label=re.compile(r"In \w+"))
    return {str(found.attrs["aria-label"]).removeprefix("In "): [i.text for i in found.select("li")] for found in lists}


def tile_names(response: Response) -> list[str]:
    """Names of the model tiles on a catalog page, in order."""
    return [tile.select("a")[0].text for tile in select(response.text, "h3", id=re.compile(r"model-\d+"))]


def tile_stage_counts(html: str) -> dict[str, int]:
    """Per stage, the number shown on the (only) catalog tile."""
    return {count.classes[1]: int(count.text.split()[0]) for count in select(html, "span", class_="stage-count")}


def result_count(html: str) -> int:
    """The number of models the catalog says it found."""
    found = re.fullmatch(r"(\d+) models?", element(html, "result-count").text)
    assert found, "no result count"
    return int(found.group(1))


def version_rows(response: Response) -> list[str]:
    """Version names in the versions table of a model card, in order."""
    rows = table_rows(element(response.text, "versions-results").html)
    return [row.select("td")[0].select("a")[0].text for row in rows]


def stage_badge(html: str) -> str:
    """The classes and text of the version page's stage badge, as "classes: text"."""
    badge = element(html, "stage-badge")
    return f"{badge.attrs['class']}: {badge.text}"


# --- Out-of-band swaps --------------------------------------------------------------------------------------------

CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*"')


def _outer_span(html: str, element_id: str) -> tuple[int, int]:
    found = element(html, element_id)
    return found.start, found.start + len(found.html)


def swapped_page(page: str, fragment: str, target: str) -> str:
    """page as htmx leaves it after a response: each out-of-band element of fragment replaces the element with its
    id (without its hx-swap-oob attribute, which htmx drops), then the rest of fragment replaces the element with
    the id target (hx-swap="outerHTML")."""
    oob = select(fragment, hx_swap_oob="true")
    main = fragment
    for swapped in reversed(oob):  # from the end, so that earlier spans stay put
        start = main.index(swapped.html)
        main = main[:start] + main[start + len(swapped.html) :]
    for swapped in oob:
        element_id = str(swapped.attrs["id"])
        start, end = _outer_span(page, element_id)
        page = page[:start] + re.sub(r'\s+hx-swap-oob="true"', "", swapped.html, count=1) + page[end:]
    start, end = _outer_span(page, target)
    return page[:start] + main.strip() + page[end:]


def _comparable(html: str, leave_out: Sequence[str]) -> str:
    """html's body with what may rightly differ between an updated page and a fresh one left out: the CSRF tokens
    (masked anew on every render), the action's own message (role=status) and the elements with ids leave_out."""
    body = select(html, "body")[0].html
    cut = list(select(body, role="status")) + [e for i in leave_out if (e := find(body, i)) is not None]
    outermost: list[Element] = []
    for gone in sorted(cut, key=lambda e: e.start):
        if not outermost or gone.start >= outermost[-1].start + len(outermost[-1].html):
            outermost.append(gone)  # an element inside one already cut goes with it
    for gone in reversed(outermost):
        body = body[: gone.start] + body[gone.start + len(gone.html) :]
    body = CSRF_VALUE.sub(r"\1…", body)
    return re.sub(r">\s+<", "><", " ".join(body.split()))


def assert_swaps_match_fresh_page(
    before: str, response: Response, *, target: str, fresh: str, leave_out: Sequence[str] = ()
) -> str:
    """Applying the htmx response to the page before the action gives the page a fresh load shows: each region the
    response swaps, and then every other part of the page (nothing else was left stale). Returns the updated page."""
    assert response.status_code == 200
    updated = swapped_page(before, response.text, target)
    for element_id in [target, *oob_ids(response.text)]:
        if element_id in leave_out:
            continue
        region, fresh_region = find(updated, element_id), find(fresh, element_id)
        assert fresh_region is not None, f"#{element_id} is not on the fresh page"
        assert region is not None
        assert _comparable(f"<body>{region.html}</body>", []) == _comparable(f"<body>{fresh_region.html}</body>", []), (
            f"#{element_id} differs from a fresh load"
        )
    mine, theirs = _comparable(updated, leave_out), _comparable(fresh, leave_out)
    if mine != theirs:
        diff = difflib.unified_diff(theirs.split("><"), mine.split("><"), "fresh", "updated", lineterm="", n=2)
        raise AssertionError("the page differs from a fresh load:\n" + "\n".join(list(diff)[:60]))
    return updated


# --- Responses ----------------------------------------------------------------------------------------------------


def assert_fragment(response: Response, root: str, oob: Sequence[str] = ()) -> None:
    """An htmx fragment, not a page: its first element has the id root, followed by exactly the out-of-band elements
    oob, in order. Fragments of a GET vary on HX-Request, as their URL also serves the whole page."""
    assert response.status_code == 200
    assert root_id(response.text) == root
    assert "hx-swap-oob" not in element(response.text, root).attrs
    assert oob_ids(response.text) == list(oob)
    assert "<html" not in response.text
    assert '<nav class="topnav"' not in response.text
    if response.request["REQUEST_METHOD"] == "GET":
        assert has_vary_header(response, "HX-Request")


def assert_full_page(response: Response) -> None:
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<!doctype html>")
    assert "Signed in as" in response.text


QUERY_SIZES = [3, 30]  # query bounds are measured at the small size; the same bound must hold at the large one


def assert_get_within(client: Client, url: str, headers: dict[str, str], queries: Any, bound: int) -> None:
    """GET url answers 200 within bound queries; queries is pytest-django's django_assert_max_num_queries."""
    with queries(bound):
        response = client.get(url, headers=headers)
    assert response.status_code == 200


# --- The browser --------------------------------------------------------------------------------------------------

PASSWORD = "demo"  # seed_demo's password for every demo user
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

NewContext = Callable[..., "BrowserContext"]  # the new_context fixture of tests/browser


# Run in every page before its own scripts (injected by the browser, so the page's CSP does not apply to it): each
# Content-Security-Policy violation, enforced or report-only, is handed to the test.
REPORT_CSP_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (event) => {
  window.reportCspViolation(
    `${event.disposition} ${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber} (${event.sample || 'no sample'})`,
  );
});"""


def watch_csp_violations(context: BrowserContext, violations: list[str]) -> None:
    """Append a line to violations for each Content-Security-Policy violation in any page of the context."""
    context.expose_function("reportCspViolation", lambda text: violations.append(f"CSP violation: {text}"))
    context.add_init_script(REPORT_CSP_VIOLATIONS)


def user_named(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would, and land on the home page."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Attached rather than visible: on a phone it is folded into the navigation's menu.
    expect(page.get_by_text(re.compile(rf"^Signed in as {re.escape(username)}$"))).to_be_attached()


def signed_in_page(new_context: NewContext, username: str) -> Page:
    """A page in a fresh browser context, signed in as username."""
    page = new_context().new_page()
    sign_in(page, username)
    return page


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under the ignored test-artifacts/ folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def mark_document(page: Page) -> None:
    page.evaluate("window.sameDocument = true")  # a full page load would drop it


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.sameDocument === true"), "the page was reloaded instead of updated in place"


def wait_for_htmx(page: Page) -> None:
    """Let htmx finish its request, swap and settle, so the controls it swapped in are wired up."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


# --- The REST API -------------------------------------------------------------------------------------------------


class ApiClient:
    """Django's test client speaking JSON to /api/v1/ as one user (or anonymously, or with a given secret)."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client(raise_request_exception=True)
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers | headers}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.call("post", path, body if body is not None else {}, **headers)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("patch", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.call("put", path, body)

    def delete(self, path: str) -> Any:
        return self.call("delete", path)


# --- A live server behind a proxy ----------------------------------------------------------------------------------

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"})


class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of the live server that records each request it forwards.

    The first `lose` requests reach the server, which carries them out, but their answers are lost: the proxy
    closes the connection instead (or, with `answer_with`, answers that status itself), as a network or a load
    balancer can.
    """

    def __init__(
        self, upstream: str, *, lose: int = 0, answer_with: int | None = None, one_at_a_time: bool = False
    ) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # method, path and query, Idempotency-Key
        self.lose = lose
        self.answer_with = answer_with
        self._lock = threading.Lock()
        self._turn: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if one_at_a_time else contextlib.nullcontext()
        )
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._forward(self, target.hostname or "127.0.0.1", target.port or 80)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests(self, method: str) -> list[tuple[str, str, str | None]]:
        return [seen for seen in self.seen if seen[0] == method]

    def _forward(self, handler: BaseHTTPRequestHandler, host: str, port: int) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        with self._lock:
            self.seen.append((handler.command, handler.path, handler.headers.get("Idempotency-Key")))
            lost = self.lose > 0
            self.lose -= int(lost)
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in {"host", "connection"}}
        with self._turn:
            upstream = http.client.HTTPConnection(host, port, timeout=30)
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            upstream.close()
        if lost and self.answer_with is None:
            handler.close_connection = True  # the server did the work; its answer never arrives
            return
        status, content = (self.answer_with, b"<h1>Bad gateway</h1>") if lost else (answer.status, data)
        handler.send_response(status)  # type: ignore[arg-type]
        for name, value in answer.getheaders() if not lost else [("Content-Type", "text/html")]:
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
