"""A model's collaborators and approval policy (Owners change them; everyone who sees the model may read them)."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import HttpRequest
from ninja import Router

from api.errors import ApiError
from api.schemas import CollaboratorIn, CollaboratorOut, PolicyIn, PolicyOut
from api.wiring import ERRORS, caller
from approvals import services as workflow
from approvals.permissions import may_set_approval_policy
from catalog import permissions, selectors, services
from catalog.permissions import Role

router = Router(tags=["collaborators and policy"])


def _collaborators(model: Any) -> list[dict[str, Any]]:
    return [
        {"kind": c.kind, "name": c.name, "role": c.role.value if c.role else None, "is_model_owner": c.is_model_owner}
        for c in selectors.collaborators(model=model)
    ]


def _principal(kind: str, name: str) -> dict[str, Any]:
    """The user or group named, as the services take it; a 404 naming what is missing."""
    if kind == "user":
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise ApiError(404, "not_found", f"No active user is called “{name}”.", field="name")
        return {"user": user}
    group = Group.objects.filter(name=name).first()
    if group is None:
        raise ApiError(404, "not_found", f"No group is called “{name}”.", field="name")
    return {"group": group}


@router.get("/models/{slug}/collaborators", response={200: list[CollaboratorOut], **ERRORS}, summary="Who has a role")
def list_collaborators(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    return _collaborators(selectors.get_model(who=caller(request).access, slug=slug))


@router.put(
    "/models/{slug}/collaborators",
    response={200: list[CollaboratorOut], **ERRORS},
    summary="Give a user or a group a role (replacing any role they had)",
)
def put_collaborator(request: HttpRequest, slug: str, payload: CollaboratorIn) -> list[dict[str, Any]]:
    who = caller(request)
    model = selectors.get_model(who=who.access, slug=slug)
    permissions.may_manage_collaborators(who.access, model).check_role()
    services.add_collaborator(
        actor=who.user, model=model, role=Role(payload.role), **_principal(payload.kind, payload.name)
    )
    return _collaborators(model)


@router.delete(
    "/models/{slug}/collaborators/{kind}/{name}",
    response={200: list[CollaboratorOut], **ERRORS},
    summary="Take away every role a user or a group has on the model",
)
def delete_collaborator(
    request: HttpRequest, slug: str, kind: Literal["user", "group"], name: str
) -> list[dict[str, Any]]:
    who = caller(request)
    model = selectors.get_model(who=who.access, slug=slug)
    permissions.may_manage_collaborators(who.access, model).check_role()
    services.remove_collaborator(actor=who.user, model=model, **_principal(kind, name))
    return _collaborators(model)


@router.get("/models/{slug}/policy", response={200: PolicyOut, **ERRORS}, summary="How many approvals a change needs")
def get_policy(request: HttpRequest, slug: str) -> dict[str, Any]:
    return {"required_approvals": selectors.get_model(who=caller(request).access, slug=slug).required_approvals}


@router.put("/models/{slug}/policy", response={200: PolicyOut, **ERRORS}, summary="Set the approvals a change needs")
def put_policy(request: HttpRequest, slug: str, payload: PolicyIn) -> dict[str, Any]:
    who = caller(request)
    model = selectors.get_model(who=who.access, slug=slug)
    may_set_approval_policy(who.access, model).check_role()
    model = workflow.set_approval_policy(actor=who.user, model=model, required_approvals=payload.required_approvals)
    return {"required_approvals": model.required_approvals}
