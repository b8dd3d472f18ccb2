"""Every API list runs the same bounded number of SQL queries with 3 and with 30 rows of everything."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activity.services import comment_on_version
from api.services import create_api_token
from approvals.services import approve_change_request, request_stage_change
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import ApiClient, set_stage

SIZES = [3, 30]


def build(size: int) -> ApiClient:
    """size models a reader sees (three ways), each with versions in several stages, requests and reviews."""
    reader = UserFactory.create(username="reader")
    team = GroupFactory.create(name="readers")
    reader.groups.add(team)
    busy_owner = UserFactory.create(username="busy-owner")
    busy = ModelFactory.create(owner=busy_owner, name="Busy", labels=["busy"], visibility="private")
    add_collaborator(actor=busy_owner, model=busy, user=reader, role=Role.REVIEWER)
    for n in range(size):
        owner = UserFactory.create(username=f"owner{n}")
        model = ModelFactory.create(
            owner=owner, name=f"Model {n:02d}", labels=[f"l{n}", "shared"], visibility="private"
        )
        add_collaborator(actor=owner, model=model, **({"user": reader} if n % 2 else {"group": team}), role=Role.VIEWER)
        first = VersionFactory.create(model=model, name="v1", labels=["first", f"x{n}"], attributes={"auc": "0.9"})
        set_stage(first, Stage.PRODUCTION)
        editor = UserFactory.create(username=f"editor{n}")
        add_collaborator(actor=busy_owner, model=busy, user=editor, role=Role.EDITOR)
        add_collaborator(actor=busy_owner, model=busy, group=GroupFactory.create(name=f"g{n}"), role=Role.VIEWER)
        version = VersionFactory.create(model=busy, name=f"b{n}", created_by=editor, labels=[f"y{n}"])
        change_request = request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING, comment="Go.")
        if n % 3 == 0:
            approve_change_request(actor=busy_owner, change_request=change_request)
        comment_on_version(actor=editor, version=busy.versions.get(name="b1") if n > 1 else version, comment=f"#{n}")
        ModelFactory.create(name=f"Hidden {n:02d}", visibility="private")
    _, secret = create_api_token(actor=reader, name="queries")
    return ApiClient(secret)


# Bounds measured at size 3; the same bound must hold at size 30 (auth: the address's lockout count, the token lookup
# and the last-used stamp, then work).
LISTS = [
    ("/models", {}, 4),
    ("/models", {"find": "labels == shared", "stage": "production"}, 4),
    ("/versions", {}, 6),
    ("/versions", {"find": "stage == production and attributes.auc > 0.5"}, 6),
    ("/models/busy/versions", {}, 7),
    ("/requests", {}, 6),
    ("/requests", {"waiting_for_me": "true"}, 6),
    ("/requests", {"model": "busy", "status": "pending"}, 7),
    ("/activity", {}, 3),
    ("/activity", {"model": "busy", "kind": "stage_change_requested"}, 3),
    ("/models/busy/collaborators", {}, 7),
    ("/models/busy/versions/b1/comments", {}, 8),
]


@pytest.mark.parametrize("size", SIZES)
def test_api_lists_run_a_bounded_number_of_queries(db: None, size: int) -> None:
    client = build(size)
    client.get("/models")  # the token's first use stamps it; later calls in the same minute do not
    for path, params, bound in LISTS:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, **params)
        assert response.status_code == 200, response.content
        assert len(queries.captured_queries) <= bound, (path, params, [q["sql"] for q in queries.captured_queries])
        body = response.json()
        assert len(body["items"] if isinstance(body, dict) else body) >= min(size, 2), (path, params)
