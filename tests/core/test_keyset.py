"""Keyset pagination of the activity log: cursors, walking older and newer, pages that hold still as entries arrive."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db.models import QuerySet
from django.http import QueryDict

from activity.models import ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel
from core.keyset import Cursor, InvalidCursor, KeysetPage, keyset_page
from tests.helpers import HTMX, activity_url, client_for, tab_url, version_url

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
INVALID_LINK = "That page link is not valid any more; showing the newest entries."

# Minutes after T0 of each entry, in insertion (primary key) order: ties on purpose, and keys that do not follow time,
# so only the (created_at, id) order can put them in one sequence.
OFFSETS = [2, 0, 1, 0, 2, 1, 0, 3, 1, 0, 2]

INVALID_CURSORS = [
    "garbage",
    "12345",
    "_",
    "1_",
    "_1",
    "abc_1",
    "1_abc",
    "1.5_2",
    "1e6_2",
    "9" * 19 + "_1",  # microseconds past year 9999
    "-" + "9" * 19 + "_1",  # before year 1
    "1" * 20 + "_" + "2" * 20,  # longer than any cursor written
]


def comment_at(when: datetime, *, version: ModelVersion, actor: Any, text: str = "") -> ActivityEntry:
    return ActivityEntry.objects.create(
        created_at=when, actor=actor, verb=Verb.COMMENTED, model=version.model, version=version, comment=text
    )


@pytest.fixture
def entries(version: ModelVersion, owner: Any) -> list[ActivityEntry]:
    return [comment_at(T0 + n * MINUTE, version=version, actor=owner, text=f"#{i}") for i, n in enumerate(OFFSETS)]


def comments() -> QuerySet[ActivityEntry]:
    return ActivityEntry.objects.filter(verb=Verb.COMMENTED)


def newest_first(rows: list[ActivityEntry]) -> list[int]:
    return [e.pk for e in sorted(rows, key=lambda e: (e.created_at, e.pk), reverse=True)]


def pks(page: KeysetPage[ActivityEntry]) -> list[int]:
    return [e.pk for e in page.object_list]


def walk_older(size: int, params: str = "") -> list[KeysetPage[ActivityEntry]]:
    """Every page from params on, following each page's Older link, as a reader clicking "Older →" would."""
    pages = [keyset_page(comments(), QueryDict(params), size=size)]
    while pages[-1].older is not None:
        assert len(pages) < 50, "the walk does not end"
        pages.append(keyset_page(comments(), QueryDict(pages[-1].older_query), size=size))
    return pages


# --- Cursors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        T0,
        datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC),  # before the epoch: a negative count
        datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_a_cursor_reads_back_as_the_same_moment_and_key(when: datetime) -> None:
    cursor = Cursor(created_at=when, pk=42)

    parsed = Cursor.parse(str(cursor))

    assert parsed == cursor
    assert parsed.created_at.utcoffset() == timedelta(0)
    assert str(parsed) == str(cursor)


def test_a_cursor_is_short_and_safe_in_a_url() -> None:
    text = str(Cursor(created_at=datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC), pk=7))

    assert text == "1714564800000005_7"
    assert QueryDict(f"before={text}")["before"] == text


@pytest.mark.parametrize("value", INVALID_CURSORS)
def test_a_cursor_not_written_by_the_app_is_refused(value: str) -> None:
    with pytest.raises(InvalidCursor):
        Cursor.parse(value)


@pytest.mark.parametrize("name", ["before", "after"])
@pytest.mark.parametrize("value", INVALID_CURSORS)
def test_an_invalid_cursor_shows_the_newest_page_with_a_message(
    entries: list[ActivityEntry], name: str, value: str
) -> None:
    params = QueryDict(mutable=True)
    params.update({name: value, "actor": "owner"})

    page = keyset_page(comments(), params, size=4)

    assert page.error == INVALID_LINK
    assert pks(page) == newest_first(entries)[:4]
    assert page.newer is None
    assert page.older == Cursor.of(page.object_list[-1])
    # The links drop the bad cursor and keep the filters.
    assert QueryDict(page.older_query) == QueryDict(f"actor=owner&before={page.older}")
    assert page.newest_query == "actor=owner"


@pytest.mark.parametrize(
    "value",
    [
        "1_" + "9" * 30,  # a key no database integer holds
        "1720000000000000_-" + "9" * 19,
        "99999999999999999_" + "9" * 22,  # the year 5138, and a huge key: exactly 40 characters
        "-62135596800000000_1",  # 0001-01-01, the earliest moment there is
        "253402300799999999_1",  # 9999-12-31 23:59:59.999999, the latest
    ],
)
@pytest.mark.parametrize("name", ["before", "after"])
def test_extreme_but_well_formed_cursors_give_a_page_not_an_error(
    entries: list[ActivityEntry], name: str, value: str
) -> None:
    page = keyset_page(comments(), QueryDict(f"{name}={value}"), size=4)

    assert page.error == ""
    assert set(pks(page)) <= {e.pk for e in entries}


@pytest.mark.parametrize("value", [*INVALID_CURSORS, "1_" + "9" * 30, "-62135596800000000_1"])
@pytest.mark.parametrize("name", ["before", "after"])
def test_pages_with_a_broken_or_extreme_link_answer_200_never_500(
    entries: list[ActivityEntry], model: RegisteredModel, version: ModelVersion, owner: Any, name: str, value: str
) -> None:
    client = client_for(owner)
    query = QueryDict(mutable=True)
    query[name] = value
    for url in [activity_url(), tab_url(model), version_url(version)]:
        for headers in ({}, HTMX):
            response = client.get(f"{url}?{query.urlencode()}", headers=headers)
            assert response.status_code == 200, url
            if value in INVALID_CURSORS:
                assert INVALID_LINK in response.text, url


# --- Walking the pages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 4, 10, 11, 12])
def test_following_older_shows_every_entry_once_newest_first(entries: list[ActivityEntry], size: int) -> None:
    pages = walk_older(size)

    assert [pk for page in pages for pk in pks(page)] == newest_first(entries)
    assert len(pages) == math.ceil(len(entries) / size)
    assert all(len(page.object_list) == size for page in pages[:-1])
    assert pages[0].is_first
    assert pages[0].newer is None
    assert all(not page.is_first and page.newer is not None for page in pages[1:])
    assert pages[-1].older is None
    assert all(page.error == "" for page in pages)


def test_the_id_breaks_ties_between_entries_of_the_same_moment(version: ModelVersion, owner: Any) -> None:
    same = [comment_at(T0, version=version, actor=owner, text=str(n)) for n in range(5)]

    pages = walk_older(2)

    assert [pks(page) for page in pages] == [[same[4].pk, same[3].pk], [same[2].pk, same[1].pk], [same[0].pk]]


@pytest.mark.parametrize("size", [1, 3, 4, 11])
def test_following_newer_back_from_the_last_page_shows_the_same_pages(entries: list[ActivityEntry], size: int) -> None:
    forward = walk_older(size)

    backward = [forward[-1]]
    while backward[-1].newer is not None:
        assert len(backward) <= len(forward), "the walk back does not end"
        backward.append(keyset_page(comments(), QueryDict(backward[-1].newer_query), size=size))

    assert [pks(page) for page in backward[::-1]] == [pks(page) for page in forward]
    assert backward[-1].is_first


def test_the_older_link_keeps_the_filters_and_replaces_the_cursor(entries: list[ActivityEntry]) -> None:
    first = keyset_page(comments(), QueryDict("actor=owner&kind=commented"), size=3)
    second = keyset_page(comments(), QueryDict(first.older_query), size=3)

    assert QueryDict(first.older_query) == QueryDict(f"actor=owner&kind=commented&before={first.older}")
    assert QueryDict(second.older_query).getlist("before") == [str(second.older)]
    assert QueryDict(second.newer_query) == QueryDict(f"actor=owner&kind=commented&after={second.newer}")
    assert second.newest_query == "actor=owner&kind=commented"
    assert first.newer_query == ""


def test_new_entries_arriving_between_pages_cause_no_duplicate_and_no_gap(
    entries: list[ActivityEntry], version: ModelVersion, owner: Any
) -> None:
    original = newest_first(entries)
    page = keyset_page(comments(), QueryDict(), size=3)
    seen = pks(page)

    arrivals = 0
    while page.older is not None:
        # While the reader looks at a page, others write: a newer entry, and one at the very moment of the row the
        # cursor points at (with a higher key, so it sorts above that row).
        comment_at(T0 + (10 + arrivals) * MINUTE, version=version, actor=owner, text="new")
        comment_at(page.older.created_at, version=version, actor=owner, text="same moment")
        arrivals += 1
        page = keyset_page(comments(), QueryDict(page.older_query), size=3)
        seen += pks(page)

    assert seen == original
    assert arrivals == 3
    assert comments().count() == len(original) + 2 * arrivals


def test_a_page_reached_by_newer_holds_still_while_entries_arrive(
    entries: list[ActivityEntry], version: ModelVersion, owner: Any
) -> None:
    pages = walk_older(3)
    comment_at(T0 + 10 * MINUTE, version=version, actor=owner, text="newest")

    back = keyset_page(comments(), QueryDict(pages[2].newer_query), size=3)

    assert pks(back) == pks(pages[1])
    assert back.newer is not None  # the first page, and now the new entry, are above it


def test_after_near_the_top_falls_back_to_the_full_newest_page(entries: list[ActivityEntry]) -> None:
    order = newest_first(entries)
    by_pk = {e.pk: e for e in entries}

    for position in (0, 1, 3):  # the newest entry, the second, the last of the first page
        cursor = Cursor.of(by_pk[order[position]])
        page = keyset_page(comments(), QueryDict(f"after={cursor}&actor=owner"), size=4)

        assert pks(page) == order[:4], position
        assert page.is_first
        assert page.older == Cursor.of(by_pk[order[3]])
        assert page.error == ""
        assert page.newest_query == "actor=owner"


def test_after_just_below_a_full_page_shows_the_page_above(entries: list[ActivityEntry]) -> None:
    order = newest_first(entries)
    cursor = Cursor.of(next(e for e in entries if e.pk == order[5]))

    page = keyset_page(comments(), QueryDict(f"after={cursor}"), size=4)

    assert pks(page) == order[1:5]
    assert page.newer is not None
    assert page.older is not None


def test_before_past_the_oldest_entry_is_an_empty_page_linking_back(entries: list[ActivityEntry]) -> None:
    cursor = Cursor(created_at=T0 - MINUTE, pk=1)

    page = keyset_page(comments(), QueryDict(f"before={cursor}"), size=4)

    assert page.object_list == []
    assert page.older is None
    assert page.newer == cursor
    back = keyset_page(comments(), QueryDict(page.newer_query), size=4)
    assert pks(back) == newest_first(entries)[-4:]


def test_an_empty_log_is_one_empty_page(db: None) -> None:
    page = keyset_page(comments(), QueryDict(), size=4)

    assert page.object_list == []
    assert (page.older, page.newer, page.error) == (None, None, "")
    assert page.older_query == page.newer_query == ""


def test_exactly_one_page_of_entries_has_no_older_link(version: ModelVersion, owner: Any) -> None:
    made = [comment_at(T0 + n * MINUTE, version=version, actor=owner) for n in range(4)]

    page = keyset_page(comments(), QueryDict(), size=4)

    assert pks(page) == newest_first(made)
    assert page.older is None


def test_each_page_is_one_query(entries: list[ActivityEntry], django_assert_num_queries: Any) -> None:
    pages = walk_older(3)
    for params in ["", pages[1].older_query, pages[2].newer_query]:
        with django_assert_num_queries(1):
            keyset_page(comments(), QueryDict(params), size=3)


# --- Oldest first (the reviewer's inbox) --------------------------------------------------------------------------


def walk_newer_oldest_first(size: int) -> list[KeysetPage[ActivityEntry]]:
    pages = [keyset_page(comments(), QueryDict(), size=size, oldest_first=True)]
    while pages[-1].newer is not None:
        assert len(pages) < 50, "the walk does not end"
        pages.append(keyset_page(comments(), QueryDict(pages[-1].newer_query), size=size, oldest_first=True))
    return pages


@pytest.mark.parametrize("size", [1, 3, 4, 11, 12])
def test_oldest_first_walks_forward_with_newer_and_back_with_older(entries: list[ActivityEntry], size: int) -> None:
    pages = walk_newer_oldest_first(size)

    assert [pk for page in pages for pk in pks(page)] == newest_first(entries)[::-1]
    assert pages[0].is_first
    assert pages[0].older is None
    assert all(not page.is_first for page in pages[1:])
    back = [pages[-1]]
    while back[-1].older is not None:
        back.append(keyset_page(comments(), QueryDict(back[-1].older_query), size=size, oldest_first=True))
    assert [pks(page) for page in back[::-1]] == [pks(page) for page in pages]


def test_oldest_first_invalid_cursor_shows_the_oldest_entries(entries: list[ActivityEntry]) -> None:
    page = keyset_page(comments(), QueryDict("after=garbage"), size=3, oldest_first=True)

    assert page.error == "That page link is not valid any more; showing the oldest entries."
    assert pks(page) == newest_first(entries)[::-1][:3]
