"""Idempotency-Key on POSTs: a retried request gets the first answer again instead of doing the work twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja.responses import NinjaJSONEncoder

from api.errors import ApiError
from api.models import MAX_IDEMPOTENCY_KEY, IdempotencyKey
from api.wiring import caller
from core import clock

KEPT_FOR = timedelta(hours=24)

Answer = tuple[int, dict[str, Any]]


def _fingerprint(request: HttpRequest) -> str:
    parts = [(request.method or "").encode(), request.path.encode(), request.body]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


def once(request: HttpRequest, key: str | None, run: Callable[[], Answer]) -> Answer:
    """Run the operation, or, when this user sent this key with the same request before, answer as then.

    The key is recorded in the transaction of the work: a refused or failed request keeps no key, so a retry tries
    again; two retries racing each other wait on the key's unique index, and the second replays the first's answer.
    """
    if not key:
        return run()
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise ApiError(400, "invalid", f"Idempotency-Key is 1–{MAX_IDEMPOTENCY_KEY} printable characters.")
    user, fingerprint, now = caller(request).user, _fingerprint(request), clock.now()
    with transaction.atomic():
        IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=now - KEPT_FOR).delete()
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, status_code=0, body={}, created_at=now
                )
        except IntegrityError:
            earlier = IdempotencyKey.objects.get(user=user, key=key)
            if earlier.fingerprint != fingerprint:
                raise ApiError(
                    409, "idempotency_key_reused", "This Idempotency-Key was sent before with a different request."
                ) from None
            return earlier.status_code, earlier.body
        status, body = run()
        record.status_code, record.body = status, json.loads(json.dumps(body, cls=NinjaJSONEncoder))
        record.save(update_fields=["status_code", "body"])
        return status, body
