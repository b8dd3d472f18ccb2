"""The web tier keeps no state of its own: two gunicorn instances on one PostgreSQL, used in turn by the same signed-in
people (a round-robin client), with two reviewers approving at the same moment, one through each instance."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from itertools import cycle
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client

from activity.models import ActivityEntry, Verb
from approvals.models import Review, StageChangeRequest, Status
from approvals.services import set_approval_policy
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.deploy.servers import gunicorns, pgbouncer, pgbouncer_transactions
from tests.factories import UserFactory
from tests.helpers import stage_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VERSION_PATH = "/models/churn-predictor/versions/v1.0.0/"


@pytest.fixture(params=["persistent connections", "Django's pool", "PgBouncer, transaction pooling"])
def instances(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Two gunicorn instances on the test database: with persistent connections (the default), with Django's psycopg
    pool, or both through one PgBouncer in transaction pooling mode (with fewer server connections than the
    instances' workers, so that one worker's transactions run on several server connections)."""
    database = connection.settings_dict
    direct = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    if request.param == "PgBouncer, transaction pooling":
        with pgbouncer(pool_size=2) as (host, port):
            through = f"postgres://{database['USER']}@{host}:{port}/{database['NAME']}"
            with gunicorns(2, through, DATABASE_PGBOUNCER="1") as urls:
                yield urls
            served = pgbouncer_transactions(host, port, database["NAME"])
            assert served > 50, f"PgBouncer carried {served} transactions: the instances did not go through it"
    elif request.param == "Django's pool":
        with gunicorns(2, direct, DATABASE_POOL="4") as urls:
            yield urls
    else:
        with gunicorns(2, direct) as urls:
            yield urls


class RoundRobin:
    """One signed-in person's browser whose every request goes to the next instance in turn."""

    def __init__(self, user: Any, urls: list[str]) -> None:
        signed_in = Client()
        signed_in.force_login(user)  # a session row in the shared database, like a sign-in on either instance
        self.next_url = cycle(urls).__next__
        self.http = httpx.Client(cookies={"sessionid": signed_in.cookies["sessionid"].value}, timeout=30)

    def get(self, path: str) -> httpx.Response:
        response = self.http.get(f"{self.next_url()}{path}")
        assert response.status_code == 200, (path, response.status_code)
        return response

    def post(self, path: str, data: dict[str, str], *, page: str) -> httpx.Response:
        """POST as the form on page does: the CSRF token read from the page as served by one instance, sent to the
        next one."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(page).text)
        assert token, "no form on the page"
        return self.http.post(f"{self.next_url()}{path}", data={**data, "csrfmiddlewaretoken": token.group(1)})


def test_two_instances_serve_the_same_people_and_racing_reviewers_apply_the_change_once(
    instances: list[str], version: Any, owner: Any, editor: Any, reviewer: Any
) -> None:
    second_reviewer = UserFactory.create(username="reviewer2")
    add_collaborator(actor=owner, model=version.model, user=second_reviewer, role=Role.REVIEWER)
    set_approval_policy(actor=owner, model=version.model, required_approvals=2)
    requester = RoundRobin(editor, instances)

    response = requester.post(
        f"{VERSION_PATH}request/", {"to_stage": Stage.STAGING, "comment": "Ready."}, page=VERSION_PATH
    )
    assert response.status_code == 302, response.text[:500]
    change_request = StageChangeRequest.objects.get(version=version, status=Status.PENDING)
    assert "Requested. Reviewers have been notified." in requester.get(VERSION_PATH).text  # the message, on the other

    reviewers = [
        RoundRobin(person, instances[n:] + instances[:n]) for n, person in enumerate([reviewer, second_reviewer])
    ]
    tokens = [person.get(VERSION_PATH) for person in reviewers]  # each reads the page from one instance
    approve = f"/approvals/requests/{change_request.pk}/approve/"
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def review(n: int) -> None:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', tokens[n].text)
        assert token
        barrier.wait(timeout=10)
        answers[n] = reviewers[n].http.post(
            f"{reviewers[n].next_url()}{approve}", data={"comment": "Fine.", "csrfmiddlewaretoken": token.group(1)}
        )

    threads = [threading.Thread(target=review, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer.status_code for answer in answers] == [302, 302]

    change_request.refresh_from_db()
    assert change_request.status == Status.APPROVED
    assert stage_of(version) == Stage.STAGING
    assert Review.objects.filter(change_request=change_request).count() == 2
    moves = ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED, version=version)
    assert list(moves.values_list("to_stage", flat=True)) == [Stage.STAGING], "the version moved once"
    for person in [requester, *reviewers]:  # every page, from either instance, shows the same state
        pages = [person.get(VERSION_PATH).text for _ in instances]
        assert all('id="stage-badge"' in page and "Staging" in page for page in pages)
