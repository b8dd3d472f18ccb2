"""Stage-change requests: file one, list them, and approve, reject or cancel one (each with an optional comment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja import Field as F
from ninja import Header, Query, Router, Schema, Status

from api.idempotency import once
from api.pagination import DEFAULT_LIMIT, keyset
from api.present import change_request_out
from api.schemas import ChangeRequestIn, ChangeRequestOut, ChangeRequestPage, ReviewIn, StatusName
from api.wiring import ERRORS, base_url, caller
from approvals import permissions, selectors, services
from approvals.models import StageChangeRequest
from catalog import selectors as catalog_selectors

router = Router(tags=["stage-change requests"])
IdempotencyKey = Header(None, alias="Idempotency-Key", description="Makes a retried POST act once.")


class RequestFilters(Schema):
    model: str = F("", description="A model's slug.", max_length=220)
    version: str = F("", description="A version's name (with model).", max_length=100)
    status: StatusName | None = None
    requester: str = F("", description="A username.", max_length=150)
    waiting_for_me: bool = F(False, description="Pending requests you may review and have not reviewed yet.")
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def _answer(request: HttpRequest, change_request: StageChangeRequest) -> dict[str, Any]:
    who = caller(request)
    detailed = selectors.with_review_details(StageChangeRequest.objects.filter(pk=change_request.pk), user=who.user)
    return change_request_out(detailed.get(), access=who.access, base=base_url(request))


@router.post(
    "/models/{slug}/versions/{version}/requests",
    response={201: ChangeRequestOut, **ERRORS},
    summary="Request a stage change; it applies once enough reviewers approve",
    description="Send an `Idempotency-Key` header so that a retried POST never files two requests.",
)
def create_request(
    request: HttpRequest,
    slug: str,
    version: str,
    payload: ChangeRequestIn,
    idempotency_key: str | None = IdempotencyKey,
) -> Status[dict[str, Any]]:
    who = caller(request)
    found = catalog_selectors.get_version(who=who.access, slug=slug, name=version, details=False)
    permissions.may_request_stage_change(who.access, found, pending=None).check_role()

    def run() -> tuple[int, dict[str, Any]]:
        change_request = services.request_stage_change(actor=who.user, version=found, **payload.model_dump())
        return 201, _answer(request, change_request)

    return Status(*once(request, idempotency_key, run))


@router.get("/requests", response={200: ChangeRequestPage, **ERRORS}, summary="Stage-change requests, newest first")
def list_requests(request: HttpRequest, filters: Query[RequestFilters]) -> dict[str, Any]:
    who = caller(request)
    found = (
        selectors.waiting_for(user=who.user)
        if filters.waiting_for_me
        else selectors.visible_change_requests(user=who.user)
    )
    if filters.model:
        model = catalog_selectors.get_model(who=who.access, slug=filters.model)
        found = found.filter(version__model=model)
        if filters.version:
            found = found.filter(version__name=filters.version)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.requester:
        found = found.filter(requester__in=get_user_model().objects.filter(username=filters.requester).values("pk"))
    rows, following = keyset(
        selectors.with_review_details(found, user=who.user), cursor=filters.cursor, limit=filters.limit
    )
    who.access.prefetch(row.version.model for row in rows)
    items = [change_request_out(row, access=who.access, base=base_url(request)) for row in rows]
    return {"items": items, "next": following}


@router.get("/requests/{request_id}", response={200: ChangeRequestOut, **ERRORS}, summary="A stage-change request")
def get_request(request: HttpRequest, request_id: int) -> dict[str, Any]:
    return _answer(request, selectors.get_change_request(who=caller(request).access, pk=request_id))


def _act(
    request: HttpRequest,
    request_id: int,
    payload: ReviewIn | None,
    key: str | None,
    action: Callable[..., StageChangeRequest],
) -> Status[dict[str, Any]]:
    """Run the review service; it asks the same decision as the pages (a refusal is its 403 or 409)."""
    who = caller(request)
    change_request = selectors.get_change_request(who=who.access, pk=request_id)

    def run() -> tuple[int, dict[str, Any]]:
        action(actor=who.user, change_request=change_request, comment=payload.comment if payload else "")
        return 200, _answer(request, change_request)

    return Status(*once(request, key, run))


@router.post(
    "/requests/{request_id}/approve",
    response={200: ChangeRequestOut, **ERRORS},
    summary="Approve a request; the last approval it needs applies the stage change",
)
def approve(
    request: HttpRequest,
    request_id: int,
    payload: ReviewIn | None = None,
    idempotency_key: str | None = IdempotencyKey,
) -> Status[dict[str, Any]]:
    return _act(request, request_id, payload, idempotency_key, services.approve_change_request)


@router.post("/requests/{request_id}/reject", response={200: ChangeRequestOut, **ERRORS}, summary="Reject a request")
def reject(
    request: HttpRequest,
    request_id: int,
    payload: ReviewIn | None = None,
    idempotency_key: str | None = IdempotencyKey,
) -> Status[dict[str, Any]]:
    return _act(request, request_id, payload, idempotency_key, services.reject_change_request)


@router.post(
    "/requests/{request_id}/cancel",
    response={200: ChangeRequestOut, **ERRORS},
    summary="Withdraw a pending request (its requester, or an Owner)",
)
def cancel(
    request: HttpRequest,
    request_id: int,
    payload: ReviewIn | None = None,
    idempotency_key: str | None = IdempotencyKey,
) -> Status[dict[str, Any]]:
    return _act(request, request_id, payload, idempotency_key, services.cancel_change_request)
