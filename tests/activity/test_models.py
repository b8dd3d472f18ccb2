"""The activity log is append-only: no entry can be changed or deleted, through any door."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from activity.models import ActivityEntry, AppendOnlyError, Verb
from activity.services import record_activity
from catalog.models import RegisteredModel


def _stored(entry: ActivityEntry) -> tuple[str, str]:
    return ActivityEntry.objects.values_list("verb", "comment").get(pk=entry.pk)


def test_saving_an_existing_entry_raises(entry: ActivityEntry) -> None:
    entry.comment = "rewritten"

    with pytest.raises(AppendOnlyError, match="cannot be changed"):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["comment"])

    assert _stored(entry) == (Verb.MODEL_EDITED, "original comment")


def test_saving_a_fetched_entry_raises(entry: ActivityEntry) -> None:
    fetched = ActivityEntry.objects.get(pk=entry.pk)
    fetched.verb = Verb.STAGE_CHANGED

    with pytest.raises(AppendOnlyError):
        fetched.save()

    assert _stored(entry) == (Verb.MODEL_EDITED, "original comment")


def test_deleting_an_entry_raises(entry: ActivityEntry) -> None:
    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        entry.delete()

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_raises(entry: ActivityEntry) -> None:
    with pytest.raises(AppendOnlyError, match="cannot be changed"):
        ActivityEntry.objects.filter(pk=entry.pk).update(comment="rewritten")
    with pytest.raises(AppendOnlyError):
        ActivityEntry.objects.update(comment="rewritten")

    assert _stored(entry) == (Verb.MODEL_EDITED, "original comment")


def test_queryset_delete_raises(entry: ActivityEntry) -> None:
    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        ActivityEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        ActivityEntry.objects.all().delete()

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_bulk_update_and_update_or_create_raise(entry: ActivityEntry) -> None:
    entry.comment = "rewritten"

    with pytest.raises(AppendOnlyError), transaction.atomic():
        ActivityEntry.objects.bulk_update([entry], ["comment"])
    with pytest.raises(AppendOnlyError), transaction.atomic():
        ActivityEntry.objects.update_or_create(pk=entry.pk, defaults={"comment": "rewritten"})

    assert _stored(entry) == (Verb.MODEL_EDITED, "original comment")


def test_the_actor_and_model_of_an_entry_cannot_be_deleted(model: RegisteredModel, editor: Any) -> None:
    entry = record_activity(actor=editor, verb=Verb.MODEL_EDITED, model=model)

    with pytest.raises(ProtectedError), transaction.atomic():
        editor.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        RegisteredModel.objects.filter(pk=model.pk).delete()

    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_new_entries_can_still_be_added(entry: ActivityEntry, model: RegisteredModel, owner: Any) -> None:
    ActivityEntry(actor=owner, verb=Verb.MODEL_EDITED, model=model).save()

    assert ActivityEntry.objects.filter(model=model, verb=Verb.MODEL_EDITED).count() == 2


def test_verb_must_be_known_to_the_database(model: RegisteredModel, owner: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityEntry.objects.create(actor=owner, verb="hacked", model=model)


def test_entries_are_ordered_newest_first(model: RegisteredModel, owner: Any) -> None:
    now = timezone.now()
    old = ActivityEntry.objects.create(
        actor=owner, verb=Verb.MODEL_EDITED, model=model, created_at=now - datetime.timedelta(days=1)
    )
    new = ActivityEntry.objects.create(actor=owner, verb=Verb.MODEL_EDITED, model=model, created_at=now)
    same_time = ActivityEntry.objects.create(actor=owner, verb=Verb.MODEL_EDITED, model=model, created_at=now)

    assert list(ActivityEntry.objects.filter(verb=Verb.MODEL_EDITED)) == [same_time, new, old]


def test_str_names_actor_verb_and_time(model: RegisteredModel, owner: Any) -> None:
    created_at = timezone.make_aware(datetime.datetime(2024, 3, 5, 14, 7))
    entry = ActivityEntry.objects.create(actor=owner, verb=Verb.MODEL_EDITED, model=model, created_at=created_at)

    assert str(entry) == "owner edited the model (2024-03-05 14:07)"
