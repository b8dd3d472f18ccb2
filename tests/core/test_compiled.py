"""SQL compiled once for users of a kind gives each user what compiling it for them gives: the navigation's counts
for personas of every kind (direct roles, a group's role, superuser, someone with nothing), asked one after another
in one process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import connection

from approvals import services
from catalog.models import Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from core import compiled
from notifications import selectors
from tests.factories import UserFactory


def _fresh(user: Any) -> tuple[int, int]:
    sql, params = selectors._nav_counts_sql(user)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inbox, unread = cursor.fetchone()
    return int(inbox), min(int(unread), selectors.COUNT_CAP)


def test_each_user_gets_their_own_counts_from_the_shared_sql(
    version: Any, owner: Any, editor: Any, reviewer: Any, viewer: Any, outsider: Any, superuser: Any
) -> None:
    group_member = UserFactory.create(username="member")
    group = Group.objects.create(name="risk")
    group_member.groups.add(group)
    add_collaborator(actor=owner, model=version.model, group=group, role=Role.REVIEWER)
    services.request_stage_change(actor=editor, version=version, to_stage=Stage.STAGING)
    compiled._compiled.clear()

    people = [reviewer, editor, group_member, owner, viewer, outsider, superuser]
    counts = {user.username: selectors.nav_counts(user=user) for user in people}

    assert counts == {user.username: _fresh(user) for user in people}
    assert counts["reviewer"] == counts["member"] == counts["owner"] == (1, 1)  # the request waits for each of them
    assert counts["editor"] == counts["viewer"] == counts["outsider"] == (0, 0)
    assert counts["root"][0] == 1
    assert len(compiled._compiled) == 2, "one compilation for the users, one for the superuser"
