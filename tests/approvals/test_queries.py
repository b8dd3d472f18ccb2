"""The Pending Approvals tab, the inbox and the version page run the same bounded number of queries at 3 and 30."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import services
from catalog.models import RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import HTMX, QUERY_SIZES, assert_get_within, card_ids, client_for, count_badge, visible_text

TARGETS = [Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED]
OWN_REQUESTS_SHOWN = 20


def build_busy_model(size: int, reader: Any) -> RegisteredModel:
    """Busy: size versions, each with a pending request by its own editor; some reviewed by reader or by another."""
    owner = UserFactory.create(username="busy-owner")
    model = ModelFactory.create(owner=owner, name="Busy", visibility="private")
    services.set_approval_policy(actor=owner, model=model, required_approvals=3)  # one approval leaves it pending
    add_collaborator(actor=owner, model=model, user=reader, role=Role.REVIEWER)
    second = UserFactory.create(username="second")
    add_collaborator(actor=owner, model=model, user=second, role=Role.REVIEWER)
    for n in range(size):
        editor = UserFactory.create(username=f"editor{n}")
        add_collaborator(actor=owner, model=model, user=editor, role=Role.EDITOR)
        version = VersionFactory.create(model=model, name=f"v{n}", created_by=editor)
        change_request = services.request_stage_change(
            actor=editor, version=version, to_stage=TARGETS[n % len(TARGETS)], comment=f"Request {n}"
        )
        if n % 3 == 0:
            services.approve_change_request(actor=second, change_request=change_request, comment=f"Fine {n}")
        if n % 3 == 1:
            services.approve_change_request(actor=reader, change_request=change_request)
            services.approve_change_request(actor=owner, change_request=change_request)
    return model


def build_other_models(size: int, reader: Any) -> None:
    """size more models with one pending request each, reviewed by reader directly or through a group; reader's own
    requests (up to 19: a full list of 20 costs one more query, to count them); requests reader may not see."""
    team = GroupFactory.create(name="reviewers")
    reader.groups.add(team)
    for n in range(size):
        owner = UserFactory.create(username=f"owner{n}")
        model = ModelFactory.create(owner=owner, name=f"Other {n:02d}", visibility="private")
        if n % 2:
            add_collaborator(actor=owner, model=model, group=team, role=Role.REVIEWER)
        else:
            add_collaborator(actor=owner, model=model, user=reader, role=Role.REVIEWER)
        version = VersionFactory.create(model=model, name="v1")
        services.request_stage_change(actor=owner, version=version, to_stage=TARGETS[n % len(TARGETS)])

        if n < OWN_REQUESTS_SHOWN - 1:
            mine = ModelFactory.create(owner=reader, name=f"Mine {n:02d}", visibility="private")
            services.request_stage_change(
                actor=reader, version=VersionFactory.create(model=mine, name="m1"), to_stage=Stage.STAGING
            )

        hidden = ModelFactory.create(name=f"Hidden {n:02d}", visibility="private")
        services.request_stage_change(
            actor=hidden.owner, version=VersionFactory.create(model=hidden, name="h1"), to_stage=Stage.STAGING
        )


@pytest.fixture
def build(reader: Any) -> Any:
    def build_all(size: int) -> None:
        build_busy_model(size, reader)
        build_other_models(size, reader)

    return build_all


# Bounds measured at size 3; the same bound must hold at size 30.
PAGES = [
    ("/models/busy/pending/", {}, 12),
    ("/models/busy/pending/", HTMX, 11),
    ("/models/busy/pending/?page=2", HTMX, 11),
    ("/approvals/", {}, 10),
    ("/approvals/", HTMX, 9),
    ("/approvals/?to_stage=staging&model=o", HTMX, 9),
    ("/approvals/?after=0_0", HTMX, 9),  # a keyset page: the requests after a cursor (here, the epoch)
    ("/models/busy/versions/v0/", {}, 12),
    ("/models/busy/versions/v1/", {}, 12),
]


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(("url", "headers", "bound"), PAGES)
def test_workflow_pages_run_a_bounded_number_of_queries(
    reader: Any,
    build: Any,
    django_assert_max_num_queries: Any,
    size: int,
    url: str,
    headers: dict[str, str],
    bound: int,
) -> None:
    build(size)
    assert_get_within(client_for(reader), url, headers, django_assert_max_num_queries, bound)


@pytest.mark.parametrize("size", QUERY_SIZES)
def test_the_pages_measured_show_size_requests(reader: Any, build: Any, size: int) -> None:
    build(size)
    client = client_for(reader)
    tab = client.get("/models/busy/pending/").text
    assert len(card_ids(tab)) == min(size, 24)
    assert count_badge(tab, "pending-count") == size, "the tab's badge counts every pending request"
    inbox = client.get("/approvals/").text
    assert ("Newer →" in inbox) == (size == 30), "60 requests to review take more than one page of 24"
    assert len(card_ids(inbox)) == min(2 * size, 24) + min(size, OWN_REQUESTS_SHOWN - 1)  # to review, then own
    reviewed_by_reader = visible_text(client.get("/models/busy/versions/v1/").text)
    assert "reader approved" in reviewed_by_reader
    assert "approvals 2 of 3" in reviewed_by_reader
    reviewed_by_another = visible_text(client.get("/models/busy/versions/v0/").text)
    assert "second approved" in reviewed_by_another
    assert "Fine 0" in reviewed_by_another
