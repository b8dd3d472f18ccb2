"""Helpers shared by the tests: clients, stage moves, races, history at a given time, and reading HTML."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

from django.db import connection, transaction
from django.test import Client

from activity.models import ActivityEntry, Verb
from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.services import apply_stage_change
from tests.factories import VersionFactory

HTMX = {"HX-Request": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def set_stage(version: Any, stage: Stage) -> None:
    """Move a version to stage through the one writer of stages, as the approval workflow will."""
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        apply_stage_change(version=locked, to_stage=stage)


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
    """Everything written inside happens at when (versions, requests, reviews and their activity entries)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
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
