"""record_activity, the one writer of the activity log."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from activity.models import ActivityEntry, Verb
from activity.services import record_activity
from catalog.models import ModelVersion, RegisteredModel, Stage


def test_record_activity_writes_one_entry_with_the_fields_given(
    model: RegisteredModel, version: ModelVersion, reviewer: Any
) -> None:
    before = ActivityEntry.objects.count()
    started = timezone.now()

    entry = record_activity(
        actor=reviewer,
        verb=Verb.STAGE_CHANGED,
        model=model,
        version=version,
        from_stage=Stage.STAGING,
        to_stage=Stage.PRODUCTION,
        comment="Looks good <b>to me</b>",
        extra={"request": 7, "approvals": ["reviewer"]},
    )

    assert ActivityEntry.objects.count() == before + 1
    stored = ActivityEntry.objects.get(pk=entry.pk)
    assert stored.actor == reviewer
    assert stored.verb == Verb.STAGE_CHANGED
    assert stored.model == model
    assert stored.version == version
    assert (stored.from_stage, stored.to_stage) == (Stage.STAGING, Stage.PRODUCTION)
    assert stored.comment == "Looks good <b>to me</b>"
    assert stored.extra == {"request": 7, "approvals": ["reviewer"]}
    assert started <= stored.created_at <= timezone.now()


def test_record_activity_defaults_to_an_entry_about_the_model(model: RegisteredModel, owner: Any) -> None:
    entry = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model)

    stored = ActivityEntry.objects.get(pk=entry.pk)
    assert stored.version is None
    assert (stored.from_stage, stored.to_stage, stored.comment) == ("", "", "")
    assert stored.extra == {}


def test_entries_do_not_share_their_extra_data(model: RegisteredModel, owner: Any) -> None:
    first = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model)
    first.extra["leak"] = True
    second = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model)

    assert ActivityEntry.objects.get(pk=second.pk).extra == {}


def test_record_activity_stamps_increasing_times(model: RegisteredModel, owner: Any) -> None:
    entries = [record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model) for _ in range(3)]

    times = [e.created_at for e in entries]
    assert times == sorted(times)
    assert list(ActivityEntry.objects.filter(verb=Verb.MODEL_EDITED)) == entries[::-1]
