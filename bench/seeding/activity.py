"""Padding of the activity log: everyday events by scale-user-01…40 on the scale models, none that moves a stage."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import OutputWrapper
from django.db import connection
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from approvals.models import StageChangeRequest
from bench.seeding import SeedError, sql
from bench.seeding.batches import Progress
from bench.seeding.catalog import grant_role
from bench.seeding.data import (
    ACTORS,
    BATCH,
    MIN_WINDOW_DAYS,
    MODEL_EDIT_SHARE,
    PAIRS,
    PASSWORD,
    QUIET_DAYS,
    REVIEWER_SHIFT,
    UNIT_KINDS,
    actor_name,
)
from catalog.models import RegisteredModel
from catalog.permissions import Role


def pad_activity(*, owner: User, models: list[RegisteredModel], target: int, out: OutputWrapper | TextIO) -> int:
    """Add entries until the log holds target, in a few set-based statements; returns how many were added. Raises
    SeedError when no version has room for them."""
    if ActivityEntry.objects.count() >= target:
        return 0
    actors = _scale_users()
    _add_collaborators(owner=owner, actors=actors, models=models)
    missing = target - ActivityEntry.objects.count()
    if missing <= 0:
        return 0
    actor_ids = [a.pk for a in actors]
    by_actors = ActivityEntry.objects.filter(actor__in=actor_ids)
    decisions = [Verb.STAGE_CHANGE_REJECTED, Verb.STAGE_CHANGE_CANCELLED]
    units_done = by_actors.filter(version__isnull=False).exclude(verb__in=decisions).count()
    model_edits_done = by_actors.filter(verb=Verb.MODEL_EDITED).count()
    model_edits = round(missing * MODEL_EDIT_SHARE)
    units, lone_comment = padding_units(missing - model_edits, units_done)
    ends = (timezone.now() - timedelta(days=QUIET_DAYS)).timestamp()
    progress = Progress("activity", missing, out)
    with connection.cursor() as cursor, sql.work_tables(cursor, actor_ids=actor_ids):
        versions = sql.fill_versions(cursor, ends=ends)
        if not versions:
            raise SeedError(
                f"No open scale version has {MIN_WINDOW_DAYS} days between its last stage move and "
                f"{QUIET_DAYS} days ago to pad; seed the versions first."
            )
        request_base = (StageChangeRequest.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        sql.fill_units(
            cursor,
            units=units,
            units_done=units_done,
            lone_comment=lone_comment,
            versions=versions,
            request_base=request_base,
        )
        sql.insert_padding(
            cursor,
            owner_id=owner.pk,
            model_edits_done=model_edits_done,
            model_edits=model_edits,
            versions=versions,
            advance=progress.advance,
        )
    progress.finish()
    return missing


def padding_units(entries: int, done: int) -> tuple[int, int]:
    """How many units, counting on from unit number done, add exactly entries entries; and which unit, if any,
    must be a lone comment instead of a pair to land on the number (-1 for none)."""
    units = total = 0
    while total < entries:
        total += 2 if UNIT_KINDS[(done + units) % len(UNIT_KINDS)] in PAIRS else 1
        units += 1
    return units, units - 1 if total > entries else -1


def _scale_users() -> list[User]:
    names = [actor_name(n) for n in range(1, ACTORS + 1)]
    password = make_password(PASSWORD)  # hashed once: synthetic accounts, and dozens of slow hashes add nothing
    User.objects.bulk_create(
        [User(username=name, email=f"{name}@example.com", password=password) for name in names],
        ignore_conflicts=True,
    )
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    return [users[name] for name in names]


def _add_collaborators(*, owner: User, actors: list[User], models: list[RegisteredModel]) -> None:
    """Make one scale user Editor and another Reviewer of each model, logged as added by the owner a day in."""
    registered = {m.pk: m.created_at for m in models}
    names = {m.pk: m.name for m in models}
    now = timezone.now()
    entries = []
    for slot, user in enumerate(actors):
        for role, shift in ((Role.EDITOR, 0), (Role.REVIEWER, REVIEWER_SHIFT)):
            granted = grant_role(
                user=user, role=role, model_ids=[pk for pk in registered if (pk + shift) % ACTORS == slot]
            )
            entries += [
                ActivityEntry(
                    created_at=min(registered[pk] + timedelta(days=1), now),
                    actor=owner,
                    verb=Verb.COLLABORATOR_ADDED,
                    model_id=pk,
                    actor_username=owner.get_username(),
                    model_name=names[pk],
                    extra={"principal": f"user {user.get_username()}", "role": str(role.label)},
                )
                for pk in granted
            ]
    ActivityEntry.objects.bulk_create(entries, batch_size=BATCH)
